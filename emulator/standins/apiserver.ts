// The kube-apiserver stand-in: HTTPS with the real flags' certificates, client-certificate
// authentication, a fixed authorizer, health endpoints that follow etcd, /version, discovery for
// coordination.k8s.io/v1, and Leases (create, get, list, update, delete) stored in etcd.
//
// Authentication (as kube-apiserver with --client-ca-file): a client certificate that verifies
// against the client CA is the user CN in the groups O (+ system:authenticated); a certificate that
// does not verify, or any bearer token, is 401; no credentials is system:anonymous (401 with
// --anonymous-auth=false).
// Authorization (what RBAC's default roles give): anyone may GET /healthz, /livez, /readyz,
// /version (system:public-info-viewer); authenticated users also discovery and the health subpaths;
// group system:masters everything; users system:kube-controller-manager and system:kube-scheduler
// the lease verbs. Everything else is 403.
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { failureStatus, deletedStatus } from '../runtime/kube-status.ts';
import type { KubeStatus } from '../runtime/kube-status.ts';
import { parseLabelSelector } from '../runtime/label-selector.ts';
import { IDENTITY_LEASE_SECONDS, identityLabels, identityLeaseName, newIdentityHolder } from '../runtime/apiserver-identity.ts';
import { EtcdHttpClient } from './etcd-http.ts';
import type { EtcdTls } from './etcd-http.ts';
import { LeaseStore, microTime, secondTime } from './leases.ts';
import type { Lease } from './leases.ts';
import { runHealth } from './health.ts';
import type { HealthCheck } from './health.ts';
import { kubeVersion } from './version.ts';
import { klog } from './klog.ts';

export interface ApiServerConfig {
  bindAddress: string;
  securePort: number;
  advertiseAddress?: string;
  tlsCert: string | Buffer;
  tlsKey: string | Buffer;
  clientCa?: string | Buffer;
  anonymousAuth: boolean;
  etcdServers: string[];
  etcdTls: EtcdTls;
  etcdPrefix: string;
  etcdHealthTimeoutMs: number;
  /** APIServerIdentity lease renewal (kube-apiserver: 10 s). */
  identityRenewMs: number;
}

interface User {
  name: string;
  groups: string[];
}

const GROUP = 'coordination.k8s.io';
const GROUP_VERSION = `${GROUP}/v1`;
const LEASES_ALL = `/apis/${GROUP_VERSION}/leases`;
const LEASES_NS = new RegExp(`^/apis/${GROUP_VERSION.replace('.', '\\.')}/namespaces/([^/]+)/leases(?:/([^/]+))?$`);
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_BODY = 3 * 1024 * 1024;

class HttpError extends Error {
  readonly status: KubeStatus;
  constructor(status: KubeStatus) {
    super(status.message);
    this.status = status;
  }
}

const leaseDetails = (name?: string): KubeStatus['details'] => ({ ...(name ? { name } : {}), group: GROUP, kind: 'leases' });

export class ApiServer {
  private readonly cfg: ApiServerConfig;
  private readonly etcd: EtcdHttpClient;
  readonly leases: LeaseStore;
  /** The APIServerIdentity lease's name (from the hostname) and this process's holder identity. */
  readonly identity = identityLeaseName(hostname());
  readonly identityHolder = newIdentityHolder(this.identity);
  private readonly identityUid = randomUUID();
  private readonly identityCreated = secondTime(new Date());
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private identityTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastHealthFailure = '';

  constructor(cfg: ApiServerConfig) {
    this.cfg = cfg;
    this.etcd = new EtcdHttpClient(cfg.etcdServers, cfg.etcdTls, cfg.etcdHealthTimeoutMs);
    this.leases = new LeaseStore(this.etcd, cfg.etcdPrefix);
  }

  async start(): Promise<void> {
    const server = createServer(
      {
        cert: this.cfg.tlsCert,
        key: this.cfg.tlsKey,
        ...(this.cfg.clientCa ? { ca: this.cfg.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
      },
      (req, res) => {
        this.handle(req, res).catch((err: unknown) => {
          if (err instanceof HttpError) return sendJson(res, err.status.code, err.status);
          sendJson(res, 500, failureStatus(500, 'InternalError', (err as Error).message));
        });
      },
    );
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.cfg.bindAddress, port: this.cfg.securePort, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => klog.error('secure_serving.go:266', `server error: ${err.message}`));
    this.server = server;
    const where = this.cfg.bindAddress.includes(':') ? `[${this.cfg.bindAddress}]` : this.cfg.bindAddress;
    klog.info('secure_serving.go:213', `Serving securely on ${where}:${this.cfg.securePort}`);
    void this.renewIdentity();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.identityTimer);
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
    this.etcd.close();
  }

  /** The APIServerIdentity lease (docs/vm-contract.md): kube-system/apiserver-<hash of the hostname>. */
  private async renewIdentity(): Promise<void> {
    let ok = true;
    try {
      await this.leases.put({
        kind: 'Lease',
        apiVersion: 'coordination.k8s.io/v1',
        metadata: {
          name: this.identity,
          namespace: 'kube-system',
          uid: this.identityUid,
          creationTimestamp: this.identityCreated,
          labels: identityLabels(hostname()),
        },
        spec: { holderIdentity: this.identityHolder, leaseDurationSeconds: IDENTITY_LEASE_SECONDS, renewTime: microTime(new Date()) },
      });
    } catch (err) {
      ok = false;
      klog.error('controller.go:195', `"Failed to update lease" err="${(err as Error).message}"`);
    }
    if (this.stopped) return;
    this.identityTimer = setTimeout(
      () => void this.renewIdentity(),
      ok ? this.cfg.identityRenewMs : Math.min(this.cfg.identityRenewMs, 1000),
    );
  }

  private async etcdProblem(): Promise<string | undefined> {
    try {
      await this.etcd.range(`${this.cfg.etcdPrefix.replace(/\/+$/, '')}/health`);
      return undefined;
    } catch (err) {
      return `error getting data from etcd: ${(err as Error).message.split('\n')[0]}`;
    }
  }

  private healthChecks(kind: 'readyz' | 'livez' | 'healthz'): HealthCheck[] {
    let etcd: Promise<string | undefined> | undefined;
    const etcdOnce = (): Promise<string | undefined> => (etcd ??= this.etcdProblem());
    const checks: HealthCheck[] = [
      { name: 'ping', check: async () => undefined },
      { name: 'log', check: async () => undefined },
      { name: 'etcd', check: etcdOnce },
    ];
    if (kind === 'readyz') {
      checks.push({ name: 'etcd-readiness', check: etcdOnce });
      checks.push({ name: 'shutdown', check: async () => (this.stopped ? 'process is shutting down' : undefined) });
    }
    return checks;
  }

  private authenticate(req: IncomingMessage): User | undefined {
    const socket = req.socket as TLSSocket;
    if (this.cfg.clientCa) {
      const cert = socket.getPeerCertificate();
      if (cert && cert.subject && Object.keys(cert).length > 0) {
        if (!socket.authorized) return undefined;
        const o = cert.subject.O as string | string[] | undefined;
        const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
        return { name: String(cert.subject.CN ?? ''), groups: [...groups, 'system:authenticated'] };
      }
    }
    if (req.headers.authorization) return undefined; // no token authenticator is configured
    if (!this.cfg.anonymousAuth) return undefined;
    return { name: 'system:anonymous', groups: ['system:unauthenticated'] };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://apiserver');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const user = this.authenticate(req);
    if (!user) return sendJson(res, 401, failureStatus(401, 'Unauthorized', 'Unauthorized'));
    const masters = user.groups.includes('system:masters');
    const authenticated = user.groups.includes('system:authenticated');

    const leaseRoute = this.leaseRoute(path);
    if (leaseRoute) {
      const verb = leaseVerb(method, leaseRoute.name, url.searchParams);
      const allowed = masters || user.name === 'system:kube-controller-manager' || user.name === 'system:kube-scheduler';
      if (!allowed) {
        const target = leaseRoute.name ? `leases.${GROUP} ${JSON.stringify(leaseRoute.name)}` : `leases.${GROUP}`;
        const scope =
          leaseRoute.namespace === undefined ? 'at the cluster scope' : `in the namespace ${JSON.stringify(leaseRoute.namespace)}`;
        return sendJson(
          res,
          403,
          failureStatus(
            403,
            'Forbidden',
            `${target} is forbidden: User ${JSON.stringify(user.name)} cannot ${verb} resource "leases" in API group "${GROUP}" ${scope}`,
            leaseDetails(leaseRoute.name),
          ),
        );
      }
      return this.serveLeases(req, res, verb, leaseRoute.namespace, leaseRoute.name, url.searchParams);
    }

    const nonResourceVerb = method.toLowerCase();
    const discovery = /^\/(api|apis|openapi)(\/|$)/.test(path) || /^\/(healthz|livez|readyz|version)(\/|$)/.test(path);
    const allowed = masters || (method === 'GET' && (PUBLIC_PATHS.has(path) || (authenticated && discovery)));
    if (!allowed) {
      return sendJson(
        res,
        403,
        failureStatus(
          403,
          'Forbidden',
          `forbidden: User ${JSON.stringify(user.name)} cannot ${nonResourceVerb} path ${JSON.stringify(path)}`,
          {},
        ),
      );
    }
    if (method !== 'GET') return notFound(res);

    const health = /^\/(readyz|livez|healthz)(?:\/(.+))?$/.exec(path);
    if (health) {
      const kind = health[1] as 'readyz' | 'livez' | 'healthz';
      const answer = await runHealth(kind, this.healthChecks(kind), health[2] ?? '', url.searchParams);
      if (!answer) return notFound(res);
      this.logHealth(kind, answer.failures);
      return sendText(res, answer.status, answer.body);
    }
    if (path === '/version' || path === '/version/') return sendJson(res, 200, kubeVersion());
    const doc = this.discovery(path);
    if (doc) return sendJson(res, 200, doc);
    return notFound(res);
  }

  private logHealth(kind: string, failures: string[]): void {
    const text = failures.join(', ');
    if (text && text !== this.lastHealthFailure) klog.info('healthz.go:280', `${failures.join('\n')}\n${kind} check failed`);
    this.lastHealthFailure = text;
  }

  private leaseRoute(path: string): { namespace: string | undefined; name: string | undefined } | undefined {
    if (path === LEASES_ALL) return { namespace: undefined, name: undefined };
    const m = LEASES_NS.exec(path);
    if (!m) return undefined;
    return { namespace: decodeURIComponent(m[1]!), name: m[2] === undefined ? undefined : decodeURIComponent(m[2]) };
  }

  private discovery(path: string): object | undefined {
    const address = `${this.cfg.advertiseAddress ?? this.cfg.bindAddress}:${this.cfg.securePort}`;
    const groupVersion = { groupVersion: GROUP_VERSION, version: 'v1' };
    const group = { name: GROUP, versions: [groupVersion], preferredVersion: groupVersion };
    switch (path) {
      case '/api':
        return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: address }] };
      case '/api/v1':
        return { kind: 'APIResourceList', groupVersion: 'v1', resources: [] };
      case '/apis':
        return { kind: 'APIGroupList', apiVersion: 'v1', groups: [group] };
      case `/apis/${GROUP}`:
        return { kind: 'APIGroup', apiVersion: 'v1', ...group };
      case `/apis/${GROUP_VERSION}`:
        return {
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: GROUP_VERSION,
          resources: [
            {
              name: 'leases',
              singularName: 'lease',
              namespaced: true,
              kind: 'Lease',
              verbs: ['create', 'delete', 'get', 'list', 'update'],
            },
          ],
        };
      default:
        return undefined;
    }
  }

  private async serveLeases(
    req: IncomingMessage,
    res: ServerResponse,
    verb: string,
    namespace: string | undefined,
    name: string | undefined,
    query: URLSearchParams,
  ): Promise<void> {
    const table = tableVersion(req.headers.accept);
    switch (verb) {
      case 'list': {
        const selector = parseLabelSelector(query.get('labelSelector') ?? '');
        if ('error' in selector) return sendJson(res, 400, failureStatus(400, 'BadRequest', selector.error));
        const { revision, items } = await etcdCall(() => this.leases.list(namespace));
        const matching = items.filter((l) => selector(l.metadata.labels ?? {}));
        if (table) return sendJson(res, 200, leaseTable(table, revision, matching, query.get('includeObject')));
        return sendJson(res, 200, {
          kind: 'LeaseList',
          apiVersion: GROUP_VERSION,
          metadata: { resourceVersion: revision },
          items: matching,
        });
      }
      case 'get': {
        const lease = await etcdCall(() => this.leases.get(namespace!, name!));
        if (!lease) return sendJson(res, 404, notFoundStatus(name!));
        if (table) return sendJson(res, 200, leaseTable(table, lease.metadata.resourceVersion ?? '', [lease], query.get('includeObject')));
        return sendJson(res, 200, lease);
      }
      case 'create': {
        const body = await readLease(req, namespace!);
        if (!body.metadata.name && typeof body.metadata.generateName === 'string') {
          body.metadata.name = body.metadata.generateName + randomBytes(4).toString('hex').slice(0, 5);
        }
        validateName(body.metadata.name);
        if (query.get('dryRun') === 'All') return sendJson(res, 201, body);
        const result = await etcdCall(() => this.leases.create(body));
        if (!result.ok) {
          return sendJson(
            res,
            409,
            failureStatus(
              409,
              'AlreadyExists',
              `leases.${GROUP} ${JSON.stringify(body.metadata.name)} already exists`,
              leaseDetails(body.metadata.name),
            ),
          );
        }
        return sendJson(res, 201, result.lease);
      }
      case 'update': {
        const body = await readLease(req, namespace!);
        if (body.metadata.name !== name) {
          return sendJson(
            res,
            400,
            failureStatus(400, 'BadRequest', `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`),
          );
        }
        const result = await etcdCall(() => this.leases.update(body));
        if (result.ok) return sendJson(res, 200, result.lease);
        if (result.reason === 'NotFound') return sendJson(res, 404, notFoundStatus(name));
        return sendJson(
          res,
          409,
          failureStatus(
            409,
            'Conflict',
            `Operation cannot be fulfilled on leases.${GROUP} ${JSON.stringify(name)}: the object has been modified; please apply your changes to the latest version and try again`,
            leaseDetails(name),
          ),
        );
      }
      case 'delete': {
        const deleted = await etcdCall(() => this.leases.delete(namespace!, name!));
        if (!deleted) return sendJson(res, 404, notFoundStatus(name!));
        return sendJson(res, 200, deletedStatus(name!, deleted.metadata.uid ?? ''));
      }
      case 'watch':
        return sendJson(res, 405, failureStatus(405, 'MethodNotAllowed', 'watch is not served by the kube-apiserver stand-in'));
      default:
        return sendJson(
          res,
          405,
          failureStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
        );
    }
  }
}

function leaseVerb(method: string, name: string | undefined, query: URLSearchParams): string {
  const watch = query.get('watch');
  if (method === 'GET' && (watch === 'true' || watch === '1')) return 'watch';
  switch (method) {
    case 'GET':
      return name === undefined ? 'list' : 'get';
    case 'POST':
      return name === undefined ? 'create' : 'post';
    case 'PUT':
      return name === undefined ? 'put' : 'update';
    case 'DELETE':
      return name === undefined ? 'deletecollection' : 'delete';
    case 'PATCH':
      return 'patch';
    default:
      return method.toLowerCase();
  }
}

const notFoundStatus = (name: string): KubeStatus =>
  failureStatus(404, 'NotFound', `leases.${GROUP} ${JSON.stringify(name)} not found`, leaseDetails(name));

async function etcdCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new HttpError(failureStatus(500, 'InternalError', `etcd: ${(err as Error).message.split('\n')[0]}`));
  }
}

function validateName(name: string | undefined): void {
  if (!name)
    throw new HttpError(
      failureStatus(
        422,
        'Invalid',
        'Lease.coordination.k8s.io "" is invalid: metadata.name: Required value: name or generateName is required',
        { group: GROUP, kind: 'Lease' },
      ),
    );
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    throw new HttpError(
      failureStatus(
        422,
        'Invalid',
        `Lease.coordination.k8s.io ${JSON.stringify(name)} is invalid: metadata.name: Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
        { name, group: GROUP, kind: 'Lease' },
      ),
    );
  }
}

async function readLease(req: IncomingMessage, namespace: string): Promise<Lease> {
  const type = req.headers['content-type'] ?? 'application/json';
  if (!/^application\/(json|merge-patch\+json)\b/.test(type) && !type.startsWith('*/*')) {
    throw new HttpError(
      failureStatus(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json`,
      ),
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(failureStatus(413, 'RequestEntityTooLarge', 'the request body is too large'));
    chunks.push(chunk);
  }
  let body: Partial<Lease>;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<Lease>;
  } catch (err) {
    throw new HttpError(failureStatus(400, 'BadRequest', `json: ${(err as Error).message}`));
  }
  if (!body || typeof body !== 'object' || typeof body.metadata !== 'object' || body.metadata === null) {
    throw new HttpError(failureStatus(400, 'BadRequest', "Object 'metadata' is missing"));
  }
  if (body.kind !== undefined && body.kind !== 'Lease') {
    throw new HttpError(
      failureStatus(
        400,
        'BadRequest',
        `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${GROUP_VERSION})`,
      ),
    );
  }
  if (body.metadata.namespace && body.metadata.namespace !== namespace) {
    throw new HttpError(
      failureStatus(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'),
    );
  }
  return {
    kind: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    metadata: { ...body.metadata, namespace } as Lease['metadata'],
    spec: { ...(body.spec ?? {}) },
  };
}

/** meta.k8s.io Table version asked for in Accept (kubectl get asks for `as=Table`), if any. */
function tableVersion(accept: string | undefined): 'v1' | 'v1beta1' | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const params = new Map(
      part
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    if (params.get('as') === 'Table' && params.get('g') === 'meta.k8s.io') {
      const v = params.get('v');
      if (v === 'v1' || v === 'v1beta1') return v;
    }
  }
  return undefined;
}

function leaseTable(version: 'v1' | 'v1beta1', resourceVersion: string, leases: Lease[], includeObject: string | null): object {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: { resourceVersion },
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
      {
        name: 'Holder',
        type: 'string',
        format: '',
        description: 'holderIdentity contains the identity of the holder of a current lease.',
        priority: 0,
      },
      {
        name: 'Age',
        type: 'string',
        format: '',
        description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
        priority: 0,
      },
    ],
    rows: leases.map((l) => {
      const created = l.metadata.creationTimestamp ? Date.parse(l.metadata.creationTimestamp) : NaN;
      const row: { cells: unknown[]; object?: object } = {
        cells: [l.metadata.name, l.spec.holderIdentity ?? '', Number.isNaN(created) ? '<unknown>' : humanDuration(now - created)],
      };
      if (includeObject === 'Object') row.object = l;
      else if (includeObject !== 'None')
        row.object = { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: l.metadata };
      return row;
    }),
  };
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function notFound(res: ServerResponse): void {
  sendJson(res, 404, failureStatus(404, 'NotFound', 'the server could not find the requested resource', {}));
}

function sendText(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache, private',
  });
  res.end(body);
}

function sendJson(res: ServerResponse, code: number, body: object): void {
  if (res.headersSent) return void res.end();
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
  res.end(JSON.stringify(body));
}
