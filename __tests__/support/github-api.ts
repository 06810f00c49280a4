// A stand-in for the GitHub REST calls the action makes: the PR comment's three (list, create,
// update issue comments), the lock's look at a workflow run (`runs`: id -> status) and the
// janitor's look at a pull request (`pulls`: number -> state), on loopback, recording each
// request. GitHub itself cannot be reached from here.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
  body?: { body?: string };
}

export async function startGithubApi(owner: string, repo: string, issue: number) {
  const comments: { id: number; body: string; html_url: string }[] = [];
  const runs = new Map<number, { status: string; conclusion: string | null }>();
  const pulls = new Map<number, { state: 'open' | 'closed'; merged?: boolean }>();
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      const body = raw ? (JSON.parse(raw) as { body?: string }) : undefined;
      requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
      const send = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      const base = `/repos/${owner}/${repo}/issues`;
      if (req.method === 'GET' && path === `${base}/${issue}/comments`) return send(200, comments);
      if (req.method === 'POST' && path === `${base}/${issue}/comments`) {
        const c = {
          id: 1000 + comments.length,
          body: body?.body ?? '',
          html_url: `https://github.example/${owner}/${repo}/pull/${issue}#c${1000 + comments.length}`,
        };
        comments.push(c);
        return send(201, c);
      }
      const run = new RegExp(`^/repos/${owner}/${repo}/actions/runs/(\\d+)$`).exec(path);
      if (req.method === 'GET' && run) {
        const known = runs.get(Number(run[1]));
        if (!known) return send(404, { message: 'Not Found' });
        return send(200, { id: Number(run[1]), ...known, html_url: `https://github.example/${owner}/${repo}/actions/runs/${run[1]}` });
      }
      const pull = new RegExp(`^/repos/${owner}/${repo}/pulls/(\\d+)$`).exec(path);
      if (req.method === 'GET' && pull) {
        const known = pulls.get(Number(pull[1]));
        if (!known) return send(404, { message: 'Not Found' });
        return send(200, {
          number: Number(pull[1]),
          state: known.state,
          merged: known.merged ?? false,
          html_url: `https://github.example/${owner}/${repo}/pull/${pull[1]}`,
        });
      }
      const m = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(path);
      if (req.method === 'PATCH' && m) {
        const c = comments.find((x) => x.id === Number(m[1]));
        if (!c) return send(404, { message: 'Not Found' });
        c.body = body?.body ?? '';
        return send(200, c);
      }
      send(404, { message: `no route for ${req.method} ${path}` });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    comments,
    requests,
    runs,
    pulls,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
