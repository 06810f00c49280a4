// A pass-through HTTP proxy in front of the emulator that can lose a response: the request reaches
// the emulator and takes effect, but the client gets a 503 instead of the answer (what a dropped
// connection or a front-end hiccup looks like on GCE). Records every request line, query included.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LossyProxy {
  url: string;
  /** `METHOD /path?query` of every request forwarded. */
  seen: string[];
  /** Replace the answer of the next `count` requests matching method and path with a 503. */
  loseResponses(method: string, path: RegExp, count?: number): void;
  stop(): Promise<void>;
}

export async function startLossyProxy(target: string): Promise<LossyProxy> {
  const upstream = new URL(target);
  const rules: { method: string; path: RegExp; left: number }[] = [];
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      const path = (req.url ?? '').split('?')[0] ?? '';
      const rule = rules.find((r) => r.left > 0 && r.method === req.method && r.path.test(path));
      if (rule) rule.left--;
      const out = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            if (rule) {
              res.writeHead(503, { 'content-type': 'application/json' });
              res.end(
                JSON.stringify({
                  error: {
                    code: 503,
                    message: 'Backend Error',
                    errors: [{ reason: 'backendError', domain: 'global', message: 'Backend Error' }],
                  },
                }),
              );
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      out.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    loseResponses: (method, path, count = 1) => void rules.push({ method, path, left: count }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
