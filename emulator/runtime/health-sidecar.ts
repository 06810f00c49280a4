// The plain-HTTP health sidecar on <internal IP>:3990: target pools accept only legacy HTTP
// health checks, so it answers /readyz with what the local apiserver's /readyz says. It trusts
// the apiserver on its own VM without checking the certificate (the serving certificate's SANs
// name the cluster, not the VM's internal IP).
import { createServer } from 'node:http';
import { request } from 'node:https';
import { listenOn } from './listen.ts';
import type { Listening } from './listen.ts';
import { APISERVER_PORT } from './apiserver.ts';

export const HEALTH_PORT = 3990;
const UPSTREAM_TIMEOUT_MS = 3000;

interface Upstream {
  status: number;
  body: string;
}

function askApiserver(ip: string): Promise<Upstream> {
  return new Promise((resolve) => {
    const req = request(
      // SNI with the name the serving cert carries: an IP as TLS server name makes Node warn (DEP0123).
      {
        host: ip,
        servername: 'kubernetes',
        port: APISERVER_PORT,
        path: '/readyz',
        method: 'GET',
        rejectUnauthorized: false,
        agent: false,
        timeout: UPSTREAM_TIMEOUT_MS,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, body }));
        res.on('error', (err) => resolve({ status: 503, body: `kube-apiserver: ${err.message}` }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ status: 503, body: `kube-apiserver unreachable: ${err.message}` }));
    req.end();
  });
}

export async function startHealthSidecar(ip: string, what: string, log: (line: string) => void): Promise<Listening | undefined> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://sidecar').pathname;
    if (req.method !== 'GET' || path !== '/readyz') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    void askApiserver(ip).then((up) => {
      res.writeHead(up.status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(up.body);
    });
  });
  return listenOn(server, ip, HEALTH_PORT, what, log);
}
