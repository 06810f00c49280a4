// What the action asks a replica's kube-apiserver: is it ready (/readyz)? Always over TLS verified
// against the cluster CA. (Identity leases are in identity-leases.ts, apart, so that the bundle
// does not carry the Kubernetes client until something uses it.)
//
// Every replica serves the same certificate, whose SANs are the static IP and the service names
// (docs/vm-contract.md), not each replica's internal IP: when dialling a replica by its IP, pass
// `serverName` (e.g. 'kubernetes') to check the certificate against that name instead.
import { request } from 'node:https';

export interface ReadyzResult {
  ready: boolean;
  status?: number;
  body?: string;
  error?: string;
}

export interface ApiserverTlsOptions {
  /** Name to verify the serving certificate against (and send as SNI) instead of the URL's host. */
  serverName?: string;
  /** Client credentials, when the apiserver asks for them. */
  clientCert?: string;
  clientKey?: string;
  token?: string;
}

const MAX_BODY_CHARS = 4096;

/** GET <url>/readyz (or `url` itself when it has a path). Never throws. */
export function probeReadyz(url: string, caPem: string, timeoutMs: number, tls: ApiserverTlsOptions = {}): Promise<ReadyzResult> {
  const target = new URL(url);
  if (target.pathname === '/' || target.pathname === '') target.pathname = '/readyz';
  return new Promise(resolve => {
    let settled = false;
    const finish = (result: ReadyzResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = request(
      target,
      {
        method: 'GET',
        ca: caPem,
        ...(tls.serverName ? { servername: tls.serverName } : {}),
        ...(tls.clientCert && tls.clientKey ? { cert: tls.clientCert, key: tls.clientKey } : {}),
        ...(tls.token ? { headers: { authorization: `Bearer ${tls.token}` } } : {}),
        agent: false,
      },
      res => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < MAX_BODY_CHARS) body += chunk;
        });
        res.on('end', () => finish({ ready: res.statusCode === 200, status: res.statusCode, body: body.slice(0, MAX_BODY_CHARS) }));
        res.on('error', err => finish({ ready: false, status: res.statusCode, error: describeError(err) }));
      },
    );
    // One deadline for connect, handshake and body: a half-open replica must not stall the run.
    const timer = setTimeout(() => {
      finish({ ready: false, error: `no answer from ${target.href} within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', err => finish({ ready: false, error: describeError(err) }));
    req.end();
  });
}

export function describeError(err: unknown): string {
  // Duck-typed: errors from Node internals are not `instanceof Error` under some sandboxes (jest's vm).
  if (typeof err === 'object' && err !== null && 'message' in err) {
    const message = String((err as { message: unknown }).message);
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(err);
}

