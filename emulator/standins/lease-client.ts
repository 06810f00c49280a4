// A coordination.k8s.io/v1 Lease client over HTTPS (JSON), as client-go's LeaseLock uses it:
// get, create, update (with the resourceVersion last seen).
import { Agent, request } from 'node:https';
import type { RestConfig } from './kubeconfig.ts';
import type { Lease } from './leases.ts';

export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

export class LeaseClient {
  private readonly cfg: RestConfig;
  private readonly agent: Agent;
  private readonly userAgent: string;
  private readonly timeoutMs: number;

  constructor(cfg: RestConfig, userAgent: string, timeoutMs: number) {
    this.cfg = cfg;
    this.userAgent = userAgent;
    this.timeoutMs = timeoutMs;
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 2,
      ...(cfg.ca ? { ca: cfg.ca } : {}),
      ...(cfg.cert ? { cert: cfg.cert } : {}),
      ...(cfg.key ? { key: cfg.key } : {}),
      ...(cfg.serverName ? { servername: cfg.serverName } : {}),
      rejectUnauthorized: !cfg.insecure,
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private path(namespace: string, name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  get(namespace: string, name: string): Promise<Lease> {
    return this.call('GET', this.path(namespace, name));
  }

  create(lease: Lease): Promise<Lease> {
    return this.call('POST', this.path(lease.metadata.namespace), lease);
  }

  update(lease: Lease): Promise<Lease> {
    return this.call('PUT', this.path(lease.metadata.namespace, lease.metadata.name), lease);
  }

  private call<T>(method: string, path: string, body?: object): Promise<T> {
    const url = new URL(path, this.cfg.server.endsWith('/') ? this.cfg.server : `${this.cfg.server}/`);
    const basePath = new URL(this.cfg.server).pathname.replace(/\/+$/, '');
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || 443,
          path: basePath + path,
          method,
          agent: this.agent,
          headers: {
            accept: 'application/json',
            'user-agent': this.userAgent,
            ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
            ...(this.cfg.token ? { authorization: `Bearer ${this.cfg.token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: { kind?: string; reason?: string; message?: string } | undefined;
            try {
              parsed = JSON.parse(text) as typeof parsed;
            } catch {
              parsed = undefined;
            }
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300 && parsed) return resolve(parsed as T);
            if (parsed?.kind === 'Status') return reject(new ApiError(code, parsed.reason ?? '', parsed.message ?? text));
            reject(new ApiError(code, 'Unknown', `the server responded with the status code ${code} but did not return more information`));
          });
        },
      );
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(new Error(`net/http: request canceled (Client.Timeout exceeded while awaiting headers)`)),
      );
      req.on('error', (err) =>
        reject(
          new Error(
            `${method === 'GET' ? 'Get' : method === 'POST' ? 'Post' : 'Put'} "${url.origin}${basePath}${path}": ${describeNetError(err)}`,
          ),
        ),
      );
      req.end(payload);
    });
  }
}

function describeNetError(err: Error): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ECONNREFUSED')
    return `dial tcp ${(e as { address?: string }).address ?? ''}:${(e as { port?: number }).port ?? ''}: connect: connection refused`;
  return err.message;
}
