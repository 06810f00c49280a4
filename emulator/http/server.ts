// The HTTP front: Compute REST under /compute/v1/projects/{project}/..., gcloud's batch endpoint,
// Secret Manager v1 under /v1/projects/{project}/secrets, Cloud Storage's JSON API under
// /storage/v1 and /upload/storage/v1, the admin API under /_emulator/, and the
// runner's metadata server (its credentials) under /computeMetadata/. Every REST call is logged
// (method, path, status).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorContext } from '../context.ts';
import { ApiError, errorBody } from './errors.ts';
import { matchRoute } from './routes.ts';
import { toWire } from './wire.ts';
import { AdminError, handleAdmin, type RequestLogEntry } from '../admin.ts';
import { handleBatch } from './batch.ts';
import { serveRunnerMetadata } from './runner-metadata.ts';
import { SECRET_MANAGER_PATH } from '../secretmanager/routes.ts';
import { serveSecretManager, type SecretManagerDeps } from '../secretmanager/http.ts';
import type { SecretManagerService } from '../secretmanager/service.ts';
import { serveStorage, STORAGE_PATH, type StorageDeps } from '../storage/http.ts';
import type { StorageService } from '../storage/service.ts';

export interface ServerDeps {
  ctx: EmulatorContext;
  baseUrl: () => string;
  requests: RequestLogEntry[];
  secrets: SecretManagerService;
  storage: StorageService;
  debug: boolean;
  /** Exit at once (a crash fault): kill VM processes, no clean-up. */
  crash: (why: string) => never;
}

export interface RestResponse {
  status: number;
  body: unknown;
}

const REST_PREFIX = /^\/compute\/v1\/projects\/([^/]+)(?:\/(.*))?$/;

function parseBody(raw: string): unknown {
  if (raw === '' || raw === '""') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new ApiError(400, 'parseError', 'Invalid JSON payload received. Unexpected token.');
  }
}

/** One REST call, also used for each part of a batch. */
export async function serveRest(deps: ServerDeps, method: string, url: URL, rawBody: string): Promise<RestResponse> {
  const path = url.pathname;
  let status = 500;
  try {
    const injected = deps.ctx.faults.takeHttpFailure(method, path);
    if (injected) throw injected;
    const m = REST_PREFIX.exec(path);
    if (!m) throw new ApiError(404, 'notFound', `The requested URL ${path} was not found on this server.`);
    const route = matchRoute(method, m[2] ?? '');
    if (!route) throw new ApiError(404, 'notFound', `The requested URL ${path} was not found on this server.`);
    if ('methodNotAllowed' in route) throw new ApiError(405, 'httpMethodNotAllowed', `HTTP method ${method} is not supported by this URL`);
    if (route.write && deps.ctx.faults.shouldCrash(method, path, 'beforeWrite')) deps.crash(`crash before ${method} ${path}`);
    const result = await route.handler({
      ctx: deps.ctx,
      project: decodeURIComponent(m[1] as string),
      params: route.params,
      query: url.searchParams,
      body: parseBody(rawBody),
    });
    if (route.write && deps.ctx.faults.shouldCrash(method, path, 'afterWrite')) deps.crash(`crash after ${method} ${path}`);
    status = result === undefined ? 204 : 200;
    return { status, body: result === undefined ? undefined : toWire(result, deps.baseUrl()) };
  } catch (e) {
    let err: ApiError;
    if (e instanceof ApiError) err = e;
    else {
      deps.ctx.log(`internal error on ${method} ${path}: ${(e as Error).stack ?? e}`);
      err = new ApiError(500, 'backendError', 'Internal error. Please try again or contact Google Support.');
    }
    status = err.status;
    return { status, body: errorBody(err) };
  } finally {
    deps.requests.push({ method, path, status, time: new Date().toISOString() });
    if (deps.requests.length > 100_000) deps.requests.splice(0, deps.requests.length - 100_000);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json; charset=UTF-8'): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** What Secret Manager's calls need, from the server's: shared by HTTP callers and in-process VMs. */
export function secretManagerDeps(deps: ServerDeps): SecretManagerDeps {
  return {
    service: deps.secrets,
    tokens: deps.ctx.runner.tokens,
    owner: deps.ctx.runner.email,
    ownerProject: deps.ctx.runner.project,
    faults: deps.ctx.faults,
    requests: deps.requests,
    log: (line) => deps.ctx.log(line),
    crash: deps.crash,
  };
}

/** What Cloud Storage's calls need, from the server's: shared by HTTP callers and in-process VMs. */
export function storageDeps(deps: ServerDeps): StorageDeps {
  return {
    service: deps.storage,
    tokens: deps.ctx.runner.tokens,
    owner: deps.ctx.runner.email,
    faults: deps.ctx.faults,
    requests: deps.requests,
  };
}

export function createHandler(deps: ServerDeps) {
  const secretManager = secretManagerDeps(deps);
  const storage = storageDeps(deps);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://emulator.local');
    try {
      const bytes = await readBody(req);
      if (STORAGE_PATH.test(url.pathname)) {
        // Object bodies are snapshots: binary, and never logged.
        const base = `${(req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${req.headers.host ?? 'storage.googleapis.com'}`;
        const out = serveStorage(storage, method, url, req.headers.authorization, bytes, base);
        if (deps.debug) deps.ctx.log(`${method} ${url.pathname} -> ${out.status} (Cloud Storage: bodies are not logged)`);
        if (Buffer.isBuffer(out.body)) {
          res.writeHead(out.status, { 'content-type': out.contentType ?? 'application/octet-stream', 'content-length': out.body.length });
          res.end(out.body);
        } else send(res, out.status, out.body);
        return;
      }
      const raw = bytes.toString('utf8');
      if (SECRET_MANAGER_PATH.test(url.pathname)) {
        // Bodies carry secret payloads: never logged, not even with --debug.
        const out = await serveSecretManager(secretManager, method, url, req.headers.authorization, raw);
        if (deps.debug) deps.ctx.log(`${method} ${url.pathname} -> ${out.status} (Secret Manager: bodies are not logged)`);
        send(res, out.status, out.body);
        return;
      }
      if (deps.debug) deps.ctx.log(`${method} ${req.url} ${raw.length > 2000 ? `${raw.slice(0, 2000)}...` : raw}`);
      if (url.pathname.startsWith('/computeMetadata/')) return serveRunnerMetadata(req, res, deps.ctx.runner);
      if (url.pathname.startsWith('/_emulator/')) {
        try {
          const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
          const out = await handleAdmin({ ctx: deps.ctx, requests: deps.requests }, method, url.pathname.slice('/_emulator/'.length), body);
          send(res, 200, out ?? {});
        } catch (e) {
          send(res, e instanceof AdminError ? e.status : 400, { error: (e as Error).message });
        }
        return;
      }
      if (url.pathname.startsWith('/batch/')) {
        const { status, contentType, body } = await handleBatch(deps, req.headers['content-type'] ?? '', raw);
        send(res, status, body, contentType);
        return;
      }
      const out = await serveRest(deps, method, url, raw);
      if (deps.debug) deps.ctx.log(`-> ${out.status} ${JSON.stringify(out.body ?? '').slice(0, 500)}`);
      send(res, out.status, out.body);
    } catch (e) {
      deps.ctx.log(`request failed: ${(e as Error).stack ?? e}`);
      if (!res.headersSent) send(res, 500, errorBody(new ApiError(500, 'backendError', 'Internal error')));
    }
  };
}
