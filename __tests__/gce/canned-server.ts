// A throwaway HTTP server that answers every request with the next canned status and body: for what
// the emulator cannot produce (GCE's error bodies in every shape, silence) and to see the requests
// exactly as they went on the wire. Behaviour is tested against the emulator.

import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Canned {
  /** 0: never answer (the socket is closed when the server stops). */
  status: number;
  body: unknown;
}

export interface CannedServer {
  url: string;
  /** Method and path (query included) of every request seen. */
  seen: string[];
  /** Request headers, in the same order. */
  headers: http.IncomingHttpHeaders[];
  /** Request bodies as sent ('' for none), in the same order. */
  bodies: string[];
  reply(...answers: Canned[]): void;
  stop(): Promise<void>;
}

export async function startCannedServer(): Promise<CannedServer> {
  const queue: Canned[] = [];
  const seen: string[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}`);
      headers.push(req.headers);
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      const next = queue.shift() ?? { status: 500, body: 'no canned answer left' };
      if (next.status === 0) return;
      const text = typeof next.body === 'string' ? next.body : JSON.stringify(next.body);
      res.writeHead(next.status, { 'content-type': typeof next.body === 'string' ? 'text/plain' : 'application/json' });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    headers,
    bodies,
    reply: (...answers) => queue.push(...answers),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Google JSON error body as GCE sends it. */
export function googleError(code: number, message: string, reason?: string, details?: unknown[]): Canned {
  return {
    status: code,
    body: {
      error: {
        code,
        message,
        errors: reason ? [{ message, domain: 'global', reason }] : [],
        ...(details ? { details } : {}),
      },
    },
  };
}
