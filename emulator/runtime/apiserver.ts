// A kube-apiserver stand-in on https://<internal IP>:443 with the replica's serving certificate.
// It serves what the action and load balancer need: health endpoints (/readyz follows the local
// etcd), /version, and coordination.k8s.io/v1 leases in kube-system backed by etcd.
// Authentication: none. Any client is accepted (no client certificate or token is asked for);
// the emulator stands in for a cluster whose admin credentials the action already holds.
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Etcd3 } from 'etcd3';
import type { MasterSpec } from './master-spec.ts';
import { deadlineIn, etcdClientFor } from './etcd-client.ts';
import { IdentityLease } from './identity-lease.ts';
import { deleteLease, getLease, LEASE_NAMESPACE, listLeases } from './lease-store.ts';
import { deletedStatus, failureStatus, leaseNotFound } from './kube-status.ts';
import type { KubeStatus } from './kube-status.ts';
import { parseLabelSelector } from './label-selector.ts';
import { listenOn } from './listen.ts';
import type { Listening } from './listen.ts';

export const APISERVER_PORT = 443;
const READY_READ_TIMEOUT_MS = 2000;
const LEASES_PATH = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`;

export const KUBE_VERSION = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-08-13T07:28:49Z',
  goVersion: 'go1.22.5',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export interface ApiServerOptions {
  key: string;
  leaseRenewIntervalMs: number;
  log: (line: string) => void;
}

export class ApiServerStandIn {
  private readonly spec: MasterSpec;
  private readonly opts: ApiServerOptions;
  private readonly etcd: Etcd3;
  readonly lease: IdentityLease;
  private listening: Listening | undefined;

  constructor(spec: MasterSpec, opts: ApiServerOptions) {
    this.spec = spec;
    this.opts = opts;
    this.etcd = etcdClientFor(spec.internalIp, spec.vm, { ca: spec.etcdCaCert, cert: spec.etcdClientCert, key: spec.etcdClientKey });
    this.lease = new IdentityLease(this.etcd, spec.vm, opts.leaseRenewIntervalMs);
  }

  async start(): Promise<void> {
    const server = createServer({ cert: this.spec.masterCert, key: this.spec.masterKey }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => sendJson(res, 500, failureStatus(500, 'InternalError', (err as Error).message)));
    });
    this.listening = await listenOn(server, this.spec.internalIp, APISERVER_PORT, `${this.opts.key} kube-apiserver`, this.opts.log);
    this.lease.start();
  }

  async stop(): Promise<void> {
    await this.lease.stop();
    await this.listening?.close();
    this.etcd.close();
  }

  /** Why the apiserver is not ready, or undefined when its etcd answers a linearizable read. */
  async etcdProblem(): Promise<string | undefined> {
    try {
      await this.etcd.kv.range({ key: Buffer.from('/registry/health') }, deadlineIn(READY_READ_TIMEOUT_MS));
      return undefined;
    } catch (err) {
      return (err as Error).message.split('\n')[0] ?? 'unknown error';
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://apiserver');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/readyz') {
      const problem = await this.etcdProblem();
      if (problem === undefined) sendText(res, 200, 'ok');
      else sendText(res, 500, `[+]ping ok\n[-]etcd failed: ${problem}\nreadyz check failed\n`);
      return;
    }
    if (method === 'GET' && (path === '/livez' || path === '/healthz')) return sendText(res, 200, 'ok');
    if (method === 'GET' && path === '/version') return sendJson(res, 200, KUBE_VERSION);
    if (path === LEASES_PATH) {
      if (method !== 'GET') return sendJson(res, 405, failureStatus(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
      const selector = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
      if ('error' in selector) return sendJson(res, 400, failureStatus(400, 'BadRequest', selector.error));
      const list = await this.etcdCall(res, () => listLeases(this.etcd));
      if (!list) return;
      list.items = list.items.filter((l) => selector(l.metadata.labels ?? {}));
      return sendJson(res, 200, list);
    }
    if (path.startsWith(`${LEASES_PATH}/`)) {
      const name = decodeURIComponent(path.slice(LEASES_PATH.length + 1));
      if (method === 'GET') {
        const found = await this.etcdCall(res, () => getLease(this.etcd, name));
        if (found === null) return;
        return found ? sendJson(res, 200, found) : sendJson(res, 404, leaseNotFound(name));
      }
      if (method === 'DELETE') {
        const deleted = await this.etcdCall(res, () => deleteLease(this.etcd, name));
        if (deleted === null) return;
        return deleted ? sendJson(res, 200, deletedStatus(name, deleted.metadata.uid)) : sendJson(res, 404, leaseNotFound(name));
      }
      return sendJson(res, 405, failureStatus(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
    }
    sendJson(res, 404, failureStatus(404, 'NotFound', 'the server could not find the requested resource'));
  }

  /** Runs an etcd call; on failure answers 500 as kube-apiserver does when etcd fails, and returns null. */
  private async etcdCall<T>(res: ServerResponse, call: () => Promise<T>): Promise<T | null> {
    try {
      return await call();
    } catch (err) {
      sendJson(res, 500, failureStatus(500, 'InternalError', `etcd: ${(err as Error).message.split('\n')[0]}`));
      return null;
    }
  }
}

function sendText(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function sendJson(res: ServerResponse, code: number, body: object | KubeStatus): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
