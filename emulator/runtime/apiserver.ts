// A kube-apiserver stand-in on https://<internal IP>:443 with the replica's serving certificate.
// It serves what the action, the load balancer and the control-plane components need: health
// endpoints (/readyz follows the local etcd), /version, and coordination.k8s.io/v1 leases in
// kube-system backed by etcd (list, get, create, update, delete).
// Authentication as kube-apiserver with --client-ca-file=<cluster CA>: a client certificate that
// verifies is the user CN in the groups O; one that does not verify is 401; no certificate is
// system:anonymous. Authorization: lease writes need group system:masters or the users
// system:kube-controller-manager / system:kube-scheduler (403 otherwise, with RBAC's message).
// Unlike a real apiserver (and the Debian stand-in), anonymous callers may still read leases and
// health: tests of the load balancer use that to see which VM answered.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Etcd3 } from 'etcd3';
import type { MasterSpec } from './master-spec.ts';
import { deadlineIn, etcdClientFor } from './etcd-client.ts';
import { IdentityLease } from './identity-lease.ts';
import { createLease, deleteLease, getLease, LEASE_NAMESPACE, listLeases, secondTime, updateLease } from './lease-store.ts';
import type { LeaseObject, LeaseWrite } from './lease-store.ts';
import { deletedStatus, failureStatus, leaseNotFound } from './kube-status.ts';
import type { KubeStatus } from './kube-status.ts';
import { parseLabelSelector } from './label-selector.ts';
import { listenOn } from './listen.ts';
import type { Listening } from './listen.ts';

export const APISERVER_PORT = 443;
const READY_READ_TIMEOUT_MS = 2000;
const LEASES_PATH = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`;
const LEASE_WRITERS = new Set(['system:kube-controller-manager', 'system:kube-scheduler']);
const MAX_BODY = 1024 * 1024;

interface User {
  name: string;
  groups: string[];
}

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
    const server = createServer(
      { cert: this.spec.masterCert, key: this.spec.masterKey, ca: this.spec.apiserverCaCert, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        this.handle(req, res).catch((err: unknown) => sendJson(res, 500, failureStatus(500, 'InternalError', (err as Error).message)));
      },
    );
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

  /** The caller, or undefined for a certificate the cluster CA did not sign (401). */
  private authenticate(req: IncomingMessage): User | undefined {
    const socket = req.socket as TLSSocket;
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    if (!socket.authorized) return undefined;
    const o = cert.subject?.O as string | string[] | undefined;
    const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
    return { name: String(cert.subject?.CN ?? ''), groups: [...groups, 'system:authenticated'] };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://apiserver');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const user = this.authenticate(req);
    if (!user) return sendJson(res, 401, failureStatus(401, 'Unauthorized', 'Unauthorized'));
    if (method !== 'GET' && (path === LEASES_PATH || path.startsWith(`${LEASES_PATH}/`))) {
      const mayWrite = user.groups.includes('system:masters') || LEASE_WRITERS.has(user.name);
      if (!mayWrite) return sendJson(res, 403, forbidden(user, method, path));
    }
    if (method === 'GET' && path === '/readyz') {
      const problem = await this.etcdProblem();
      if (problem === undefined) sendText(res, 200, 'ok');
      else sendText(res, 500, `[+]ping ok\n[-]etcd failed: ${problem}\nreadyz check failed\n`);
      return;
    }
    if (method === 'GET' && (path === '/livez' || path === '/healthz')) return sendText(res, 200, 'ok');
    if (method === 'GET' && path === '/version') return sendJson(res, 200, KUBE_VERSION);
    if (path === LEASES_PATH) {
      if (method === 'POST') {
        const body = await readLease(req, res);
        if (!body) return;
        if (!body.metadata.name)
          return sendJson(
            res,
            422,
            failureStatus(
              422,
              'Invalid',
              'Lease.coordination.k8s.io "" is invalid: metadata.name: Required value: name or generateName is required',
            ),
          );
        const lease: LeaseObject = {
          ...body,
          metadata: { ...body.metadata, uid: randomUUID(), creationTimestamp: secondTime(new Date()) },
        };
        const written = await this.etcdCall(res, () => createLease(this.etcd, lease));
        return written === null ? undefined : sendWrite(res, written, lease.metadata.name, 201);
      }
      if (method !== 'GET')
        return sendJson(
          res,
          405,
          failureStatus(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`),
        );
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
      if (method === 'PUT') {
        const body = await readLease(req, res);
        if (!body) return;
        if (body.metadata.name !== name) {
          return sendJson(
            res,
            400,
            failureStatus(400, 'BadRequest', `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`),
          );
        }
        const written = await this.etcdCall(res, () => updateLease(this.etcd, body));
        return written === null ? undefined : sendWrite(res, written, name, 200);
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

/** RBAC's refusal, worded as kube-apiserver words it. */
function forbidden(user: User, method: string, path: string): KubeStatus {
  const name = path.startsWith(`${LEASES_PATH}/`) ? decodeURIComponent(path.slice(LEASES_PATH.length + 1)) : undefined;
  const verb =
    method === 'DELETE'
      ? name
        ? 'delete'
        : 'deletecollection'
      : method === 'PUT'
        ? 'update'
        : method === 'POST'
          ? 'create'
          : method.toLowerCase();
  const target = name ? `leases.coordination.k8s.io ${JSON.stringify(name)}` : 'leases.coordination.k8s.io';
  return failureStatus(
    403,
    'Forbidden',
    `${target} is forbidden: User ${JSON.stringify(user.name)} cannot ${verb} resource "leases" in API group "coordination.k8s.io" in the namespace ${JSON.stringify(LEASE_NAMESPACE)}`,
    { ...(name ? { name } : {}), group: 'coordination.k8s.io', kind: 'leases' },
  );
}

/** A Lease from a JSON request body, or undefined after answering 400/413. */
async function readLease(req: IncomingMessage, res: ServerResponse): Promise<LeaseObject | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) {
      sendJson(res, 413, failureStatus(413, 'RequestEntityTooLarge', 'the request body is too large'));
      return undefined;
    }
    chunks.push(chunk);
  }
  let body: Partial<LeaseObject>;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<LeaseObject>;
  } catch (err) {
    sendJson(res, 400, failureStatus(400, 'BadRequest', `json: ${(err as Error).message}`));
    return undefined;
  }
  if (!body || typeof body.metadata !== 'object' || body.metadata === null) {
    sendJson(res, 400, failureStatus(400, 'BadRequest', "Object 'metadata' is missing"));
    return undefined;
  }
  return {
    kind: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    metadata: { ...body.metadata, namespace: LEASE_NAMESPACE, labels: body.metadata.labels ?? {} } as LeaseObject['metadata'],
    spec: { ...(body.spec ?? {}) },
  };
}

function sendWrite(res: ServerResponse, written: LeaseWrite, name: string, okCode: number): void {
  if (written.ok) return sendJson(res, okCode, written.lease);
  if (written.reason === 'NotFound') return sendJson(res, 404, leaseNotFound(name));
  if (written.reason === 'AlreadyExists') {
    return sendJson(
      res,
      409,
      failureStatus(409, 'AlreadyExists', `leases.coordination.k8s.io ${JSON.stringify(name)} already exists`, {
        name,
        group: 'coordination.k8s.io',
        kind: 'leases',
      }),
    );
  }
  sendJson(
    res,
    409,
    failureStatus(
      409,
      'Conflict',
      `Operation cannot be fulfilled on leases.coordination.k8s.io ${JSON.stringify(name)}: the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: 'coordination.k8s.io', kind: 'leases' },
    ),
  );
}

function sendText(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function sendJson(res: ServerResponse, code: number, body: object | KubeStatus): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
