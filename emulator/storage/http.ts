// Cloud Storage's JSON API (https://storage.googleapis.com/storage/v1, uploads under /upload), the
// calls an etcd restore, snapshot retention and their tests make: buckets (insert, get, IAM get/set)
// and objects (media upload, list by prefix, metadata, media download by generation, delete).
// Authentication by the emulator's access tokens; the runner's principal owns everything, and
// others read what the bucket's IAM grants them or what GCE grants a project's default Compute
// Engine account (the project's Editor role). Errors have Compute's body (emulator/http/errors.ts),
// which is Cloud Storage's JSON API's too. Every call is logged (method, path, status); object
// bodies never are.
import type { RequestLogEntry } from '../admin.ts';
import type { Faults } from '../faults.ts';
import type { AccessTokens } from '../iap/tokens.ts';
import { bearerToken } from '../iap/tokens.ts';
import { ApiError, errorBody } from '../http/errors.ts';
import { defaultComputeServiceAccount } from '../project-number.ts';
import type { Bucket, ObjectMeta, StorageService } from './service.ts';

export interface StorageDeps {
  service: StorageService;
  tokens: AccessTokens;
  /** The runner's principal: owns every bucket. */
  owner: string;
  faults: Faults;
  requests: RequestLogEntry[];
}

export interface StorageAnswer {
  status: number;
  /** JSON, or the object's bytes for a media download. */
  body?: unknown;
  contentType?: string;
}

export const STORAGE_PATH = /^\/(upload\/|download\/)?storage\/v1\//;

const READ = 'storage.objects.get';
const CREATE = 'storage.objects.create';
const DELETE = 'storage.objects.delete';
const LIST = 'storage.objects.list';
const ROLES: Record<string, string[]> = {
  'roles/storage.objectViewer': [READ, LIST],
  'roles/storage.legacyObjectReader': [READ],
  'roles/storage.objectCreator': [CREATE],
  'roles/storage.objectAdmin': [READ, CREATE, DELETE, LIST],
  'roles/storage.admin': [READ, CREATE, DELETE, LIST],
};
/** objects.list's default and largest page (Cloud Storage's JSON API reference, `maxResults`). */
const LIST_PAGE = 1000;

function principalOf(deps: StorageDeps, authorization: string | undefined, permission: string): string {
  const token = bearerToken(authorization);
  const verified = token ? deps.tokens.verify(token) : undefined;
  if (verified?.state !== 'valid' || !verified.principal) {
    throw new ApiError(
      401,
      'required',
      token ? 'Invalid Credentials' : `Anonymous caller does not have ${permission} access to the Google Cloud Storage object.`,
    );
  }
  return verified.principal;
}

function authorize(deps: StorageDeps, principal: string, bucket: Bucket, permission: string, resource: string): void {
  if (principal === deps.owner) return;
  if (principal === defaultComputeServiceAccount(bucket.project)) return; // the project's Editor
  const member = `${principal.endsWith('.gserviceaccount.com') ? 'serviceAccount' : 'user'}:${principal}`;
  for (const [role, members] of Object.entries(bucket.bindings)) {
    if (members.includes(member) && ROLES[role]?.includes(permission)) return;
  }
  throw new ApiError(
    403,
    'forbidden',
    `${principal} does not have ${permission} access to the Google Cloud Storage ${resource}. Permission '${permission}' denied on resource (or it may not exist).`,
  );
}

const bucketJson = (b: Bucket) => ({
  kind: 'storage#bucket',
  id: b.name,
  name: b.name,
  projectNumber: b.project,
  timeCreated: b.timeCreated,
  location: 'EUROPE-WEST1',
  storageClass: 'STANDARD',
});

const objectJson = (o: ObjectMeta, base: string) => ({
  kind: 'storage#object',
  id: `${o.bucket}/${o.name}/${o.generation}`,
  bucket: o.bucket,
  name: o.name,
  generation: o.generation,
  metageneration: '1',
  contentType: o.contentType,
  size: String(o.size),
  md5Hash: o.md5Hash,
  crc32c: o.crc32c,
  timeCreated: o.timeCreated,
  updated: o.timeCreated,
  selfLink: `${base}/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}`,
  // Where clients (gcloud's apitools) download from.
  mediaLink: `${base}/download/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}?generation=${o.generation}&alt=media`,
});

function route(deps: StorageDeps, method: string, url: URL, authorization: string | undefined, body: Buffer, base: string): StorageAnswer {
  const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
  const object = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
  const download = url.pathname.startsWith('/download/');
  const bucketIam = /^\/storage\/v1\/b\/([^/]+)\/iam$/.exec(url.pathname);
  const bucketOnly = /^\/storage\/v1\/b\/([^/]+)$/.exec(url.pathname);
  const needBucket = (name: string): Bucket => {
    const b = deps.service.bucket(decodeURIComponent(name));
    if (!b) throw new ApiError(404, 'notFound', 'The specified bucket does not exist.');
    return b;
  };
  if (url.pathname === '/storage/v1/b' && method === 'POST') {
    const principal = principalOf(deps, authorization, 'storage.buckets.create');
    if (principal !== deps.owner) throw new ApiError(403, 'forbidden', `${principal} does not have storage.buckets.create access.`);
    const name = (JSON.parse(body.toString('utf8') || '{}') as { name?: string }).name ?? '';
    if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(name)) throw new ApiError(400, 'invalid', `Invalid bucket name: '${name}'`);
    const created = deps.service.createBucket(name, url.searchParams.get('project') ?? '');
    if (!created) throw new ApiError(409, 'conflict', 'Your previous request to create the named bucket succeeded and you already own it.');
    return { status: 200, body: bucketJson(created) };
  }
  if (upload && method === 'POST') {
    const bucket = needBucket(upload[1]!);
    authorize(deps, principalOf(deps, authorization, CREATE), bucket, CREATE, 'bucket');
    const name = url.searchParams.get('name');
    if (url.searchParams.get('uploadType') !== 'media' || !name) {
      throw new ApiError(400, 'invalid', 'This emulator takes uploadType=media with a name parameter only.');
    }
    return { status: 200, body: objectJson(deps.service.put(bucket.name, name, body, 'application/octet-stream'), base) };
  }
  const objects = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
  if (objects && method === 'GET') {
    // objects.list: by name, from after `pageToken` (the last name of the page before), `prefix` only.
    const bucket = needBucket(objects[1]!);
    authorize(deps, principalOf(deps, authorization, LIST), bucket, LIST, 'bucket');
    const prefix = url.searchParams.get('prefix') ?? '';
    const after = url.searchParams.get('pageToken') ? Buffer.from(url.searchParams.get('pageToken')!, 'base64url').toString('utf8') : '';
    const size = Math.min(LIST_PAGE, Number(url.searchParams.get('maxResults') ?? LIST_PAGE) || LIST_PAGE);
    const names = deps.service
      .list(bucket.name)
      .filter((n) => n.startsWith(prefix) && n > after)
      .sort();
    const page = names.slice(0, size).map((n) => deps.service.get(bucket.name, n)!);
    const more = names.length > size ? { nextPageToken: Buffer.from(page.at(-1)!.name).toString('base64url') } : {};
    return { status: 200, body: { kind: 'storage#objects', items: page.map((o) => objectJson(o, base)), ...more } };
  }
  if (object && (method === 'GET' || method === 'DELETE')) {
    const bucket = needBucket(object[1]!);
    const name = decodeURIComponent(object[2]!);
    const permission = method === 'GET' ? READ : DELETE;
    authorize(deps, principalOf(deps, authorization, permission), bucket, permission, 'object');
    const generation = url.searchParams.get('generation') ?? undefined;
    const found = deps.service.get(bucket.name, name, generation);
    if (!found) throw new ApiError(404, 'notFound', `No such object: ${bucket.name}/${name}`);
    if (method === 'DELETE') {
      deps.service.delete(bucket.name, name);
      return { status: 204 };
    }
    if (url.searchParams.get('alt') === 'media' || download)
      return { status: 200, body: deps.service.data(found), contentType: found.contentType };
    return { status: 200, body: objectJson(found, base) };
  }
  if (bucketIam && (method === 'GET' || method === 'PUT')) {
    const bucket = needBucket(bucketIam[1]!);
    const principal = principalOf(deps, authorization, 'storage.buckets.getIamPolicy');
    if (principal !== deps.owner) throw new ApiError(403, 'forbidden', `${principal} does not have storage.buckets.getIamPolicy access.`);
    if (method === 'PUT') {
      const policy = JSON.parse(body.toString('utf8') || '{}') as { bindings?: Array<{ role: string; members: string[] }> };
      bucket.bindings = Object.fromEntries((policy.bindings ?? []).map((b) => [b.role, b.members]));
      deps.service.saveBucket(bucket);
    }
    return {
      status: 200,
      body: { kind: 'storage#policy', bindings: Object.entries(bucket.bindings).map(([role, members]) => ({ role, members })) },
    };
  }
  if (bucketOnly && method === 'GET') {
    const bucket = needBucket(bucketOnly[1]!);
    principalOf(deps, authorization, 'storage.buckets.get');
    return { status: 200, body: bucketJson(bucket) };
  }
  throw new ApiError(404, 'notFound', `Not Found: ${method} ${url.pathname}`);
}

/** `base`: the scheme and host the client called, for the links in object metadata. */
export function serveStorage(
  deps: StorageDeps,
  method: string,
  url: URL,
  authorization: string | undefined,
  body: Buffer,
  base = 'https://storage.googleapis.com',
): StorageAnswer {
  let status = 500;
  try {
    const injected = deps.faults.takeHttpFailure(method, url.pathname);
    if (injected) {
      status = injected.status;
      return { status, body: errorBody(injected) };
    }
    const out = route(deps, method, url, authorization, body, base);
    status = out.status;
    return out;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    status = err.status;
    return { status, body: errorBody(err) };
  } finally {
    deps.requests.push({ method, path: url.pathname, status, time: new Date().toISOString() });
  }
}
