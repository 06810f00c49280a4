// What the action asks a replica's kube-apiserver: is it ready (/readyz), and which apiserver
// identities hold a Lease (kube-system, label k8s.io/component=kube-apiserver). Always over TLS
// verified against the cluster CA.
//
// Every replica serves the same certificate, whose SANs are the static IP and the service names
// (docs/vm-contract.md), not each replica's internal IP: when dialling a replica by its IP, pass
// `serverName` (e.g. 'kubernetes') to check the certificate against that name instead.
import { request } from 'node:https';
import { isIP } from 'node:net';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';

export interface ReadyzResult {
  ready: boolean;
  status?: number;
  body?: string;
  error?: string;
}

export interface IdentityLease {
  name: string;
  holderIdentity?: string;
  /** ISO time of the last renewal. */
  renewTime?: string;
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
        res.on('error', err => finish({ ready: false, status: res.statusCode, error: describe(err) }));
      },
    );
    // One deadline for connect, handshake and body: a half-open replica must not stall the run.
    const timer = setTimeout(() => {
      finish({ ready: false, error: `no answer from ${target.href} within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', err => finish({ ready: false, error: describe(err) }));
    req.end();
  });
}

/** The APIServerIdentity leases, as the apiserver at `url` lists them. Throws on failure. */
export async function listIdentityLeases(url: string, caPem: string, tls: ApiserverTlsOptions = {}): Promise<IdentityLease[]> {
  const kc = new KubeConfig();
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  // No IP as the TLS server name (RFC 6066; Node warns DEP0123).
  const serverName = tls.serverName ?? (isIP(host) ? undefined : host);
  kc.loadFromOptions({
    clusters: [{ name: 'cluster', server: url, caData: Buffer.from(caPem).toString('base64'), skipTLSVerify: false, ...(serverName ? { tlsServerName: serverName } : {}) }],
    users: [
      {
        name: 'action',
        ...(tls.clientCert && tls.clientKey
          ? { certData: Buffer.from(tls.clientCert).toString('base64'), keyData: Buffer.from(tls.clientKey).toString('base64') }
          : {}),
        ...(tls.token ? { token: tls.token } : {}),
      },
    ],
    contexts: [{ name: 'ctx', cluster: 'cluster', user: 'action' }],
    currentContext: 'ctx',
  });
  const api = kc.makeApiClient(CoordinationV1Api);
  let list;
  try {
    list = await api.listNamespacedLease({ namespace: 'kube-system', labelSelector: 'k8s.io/component=kube-apiserver' });
  } catch (err) {
    throw new Error(`listing apiserver identity leases at ${url} failed: ${describe(err)}`);
  }
  return list.items.map(lease => {
    const out: IdentityLease = { name: lease.metadata?.name ?? '' };
    if (lease.spec?.holderIdentity !== undefined) out.holderIdentity = lease.spec.holderIdentity;
    // MicroTime arrives as a string or a Date depending on the client version: normalise to ISO.
    const renewTime = isoTime(lease.spec?.renewTime);
    if (renewTime) out.renewTime = renewTime;
    return out;
  });
}

function describe(err: unknown): string {
  // Duck-typed: errors from Node internals are not `instanceof Error` under some sandboxes (jest's vm).
  if (typeof err === 'object' && err !== null && 'message' in err) {
    const message = String((err as { message: unknown }).message);
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
  }
  return String(err);
}

function isoTime(value: unknown): string | undefined {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}
