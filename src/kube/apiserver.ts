// What the action asks a replica's kube-apiserver: is it ready (/readyz)? And the one HTTPS call
// (apiCall) that it and the Lease calls (lease-api.ts) share. Always over TLS verified against the
// cluster CA.
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

export interface HttpsAnswer {
  status: number;
  body: string;
}

/**
 * One HTTPS call to the cluster's API, verified against the cluster CA, with one deadline for
 * connect, handshake and body (a half-open replica or a black-holed IP must not stall the run).
 * Rejects with the transport's own words (`describeError`), or "no answer from <url> within N ms".
 */
export function apiCall(
  url: URL,
  method: 'GET' | 'DELETE',
  caPem: string,
  timeoutMs: number,
  tls: ApiserverTlsOptions = {},
  maxBodyChars = MAX_BODY_CHARS,
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, answer?: HttpsAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(answer!);
    };
    const headers: Record<string, string> = { accept: 'application/json', ...(tls.token ? { authorization: `Bearer ${tls.token}` } : {}) };
    const req = request(
      url,
      {
        method,
        ca: caPem,
        ...(tls.serverName ? { servername: tls.serverName } : {}),
        ...(tls.clientCert && tls.clientKey ? { cert: tls.clientCert, key: tls.clientKey } : {}),
        headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < maxBodyChars) body += chunk;
        });
        res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: body.slice(0, maxBodyChars) }));
        res.on('error', (err) => finish(new Error(describeError(err))));
      },
    );
    const timer = setTimeout(() => {
      finish(new Error(`no answer from ${url.href} within ${timeoutMs} ms`));
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => finish(new Error(describeError(err))));
    req.end();
  });
}

/** GET <url>/readyz (or `url` itself when it has a path). Never throws. */
export async function probeReadyz(url: string, caPem: string, timeoutMs: number, tls: ApiserverTlsOptions = {}): Promise<ReadyzResult> {
  const target = new URL(url);
  if (target.pathname === '/' || target.pathname === '') target.pathname = '/readyz';
  try {
    const a = await apiCall(target, 'GET', caPem, timeoutMs, tls);
    return { ready: a.status === 200, status: a.status, body: a.body };
  } catch (err) {
    return { ready: false, error: describeError(err) };
  }
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
