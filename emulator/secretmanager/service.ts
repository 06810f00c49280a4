// What Secret Manager does for each method, on the store: secrets (create, get, list, delete),
// versions (add, get, list, access) and each secret's IAM policy. Who may call what is decided
// before (http.ts); this file answers as Google would for a caller that may.
import { randomBytes } from 'node:crypto';
import { crc32c } from './crc32c.ts';
import { invalidArgument, RpcError } from './errors.ts';
import { secretFilter } from './filter.ts';
import { EMPTY_POLICY, nextPolicy, type Policy } from './iam.ts';
import type { SecretStore, StoredSecret, StoredVersion } from './store.ts';
import { accessJson, secretJson, secretName, versionJson, versionName } from './wire.ts';

/** Google's limit on one version's payload. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_PAGE_SIZE = 25_000;
const SECRET_ID = /^[\w-]{1,255}$/;
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

const now = (): string => new Date().toISOString();
const newEtag = (): string => `"${randomBytes(7).toString('hex')}"`;

/** The object at `where`; with `fields`, rejects names the message does not have, as Google's JSON parser does. */
function knownFields(value: unknown, where: string, fields?: string[]): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalidArgument(`Invalid JSON payload received. ${where} must be an object.`);
  for (const key of Object.keys(value)) {
    if (fields && !fields.includes(key))
      throw invalidArgument(`Invalid JSON payload received. Unknown name "${key}" at '${where}': Cannot find field.`);
  }
  return value as Record<string, unknown>;
}

function stringMap(value: unknown, what: string, key: RegExp, val: RegExp): Record<string, string> {
  const map = knownFields(value, what);
  for (const [k, v] of Object.entries(map)) {
    if (!key.test(k) || typeof v !== 'string' || !val.test(v)) {
      throw invalidArgument(
        `Invalid ${what} '${k}': '${String(v)}'. Keys start with a lowercase letter and hold up to 63 lowercase letters, digits, '_' or '-'; values up to 63 of those.`,
      );
    }
  }
  if (Object.keys(map).length > 64) throw invalidArgument(`A secret has at most 64 ${what}.`);
  return map as Record<string, string>;
}

function pageOf<T>(items: T[], query: URLSearchParams): { items: T[]; nextPageToken?: string } {
  const rawSize = query.get('pageSize');
  const size = rawSize === null || rawSize === '' ? MAX_PAGE_SIZE : Number(rawSize);
  if (!Number.isInteger(size) || size < 0) throw invalidArgument(`Invalid pageSize '${rawSize}': a non-negative integer.`);
  const limit = size === 0 ? MAX_PAGE_SIZE : Math.min(size, MAX_PAGE_SIZE);
  const token = query.get('pageToken');
  const offset = token ? Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^o:/, '')) : 0;
  if (!Number.isInteger(offset) || offset < 0)
    throw invalidArgument(`Invalid pageToken '${token}': pass the nextPageToken of the previous page.`);
  const slice = items.slice(offset, offset + limit);
  return offset + limit < items.length
    ? { items: slice, nextPageToken: Buffer.from(`o:${offset + limit}`).toString('base64url') }
    : { items: slice };
}

export class SecretManagerService {
  private readonly store: SecretStore;

  constructor(store: SecretStore) {
    this.store = store;
  }

  projects(): string[] {
    return this.store.projects();
  }

  /** The policy of a secret, or undefined when there is no such secret. */
  policyOf(project: string, id: string): Policy | undefined {
    return this.store.get(project, id)?.policy;
  }

  private secret(project: string, id: string): StoredSecret {
    const s = this.store.get(project, id);
    if (!s) throw new RpcError('NOT_FOUND', `Secret [${secretName(project, id)}] not found.`);
    return s;
  }

  private version(project: string, id: string, version: string): { secret: StoredSecret; version: StoredVersion } {
    if (version === 'latest') {
      const s = this.store.get(project, id);
      const latest = s?.versions.filter((v) => v.state === 'ENABLED').at(-1);
      if (!s || !latest) throw new RpcError('NOT_FOUND', `Secret [${secretName(project, id)}] not found or has no versions.`);
      return { secret: s, version: latest };
    }
    if (!/^[1-9]\d{0,9}$/.test(version)) throw invalidArgument(`Invalid version '${version}': a version is a positive number or 'latest'.`);
    const s = this.secret(project, id);
    const v = s.versions.find((x) => x.number === Number(version));
    if (!v) throw new RpcError('NOT_FOUND', `Secret Version [${versionName(project, id, version)}] not found.`);
    return { secret: s, version: v };
  }

  create(project: string, secretId: string | null, body: unknown): object {
    if (!secretId) throw invalidArgument('The secret id is missing: pass it as the secretId query parameter.');
    if (!SECRET_ID.test(secretId)) throw invalidArgument(`Invalid secret id '${secretId}': 1 to 255 letters, digits, '_' or '-'.`);
    const b = knownFields(body, 'secret', [
      'replication',
      'labels',
      'annotations',
      'name',
      'etag',
      'versionAliases',
      'topics',
      'expireTime',
      'ttl',
      'rotation',
      'versionDestroyTtl',
      'tags',
    ]);
    const replication = knownFields(b.replication, 'secret.replication', ['automatic', 'userManaged']);
    if (!('automatic' in replication) && !('userManaged' in replication)) {
      throw invalidArgument('Secret.replication is required: {"replication": {"automatic": {}}} or {"userManaged": {"replicas": [...]}}.');
    }
    if (this.store.get(project, secretId))
      throw new RpcError('ALREADY_EXISTS', `Secret [${secretName(project, secretId)}] already exists.`);
    const secret: StoredSecret = {
      project,
      id: secretId,
      createTime: now(),
      replication,
      labels: stringMap(b.labels, 'labels', LABEL_KEY, LABEL_VALUE),
      annotations: knownFields(b.annotations, 'annotations') as Record<string, string>,
      etag: newEtag(),
      versions: [],
      lastVersion: 0,
      policy: EMPTY_POLICY,
    };
    this.store.put(secret);
    return secretJson(secret);
  }

  get(project: string, id: string): object {
    return secretJson(this.secret(project, id));
  }

  list(project: string, query: URLSearchParams): object {
    const matching = this.store.list(project).filter(secretFilter(query.get('filter')));
    const page = pageOf(matching, query);
    return {
      ...(page.items.length ? { secrets: page.items.map(secretJson) } : {}),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      totalSize: matching.length,
    };
  }

  delete(project: string, id: string, etag: string | null): object {
    const s = this.secret(project, id);
    if (etag && etag !== s.etag)
      throw new RpcError('ABORTED', `The etag ${etag} does not match the secret's current etag ${s.etag}: read the secret again.`);
    this.store.delete(project, id);
    return {};
  }

  addVersion(project: string, id: string, body: unknown): object {
    const b = knownFields(body, 'request', ['payload', 'parent']);
    const payload = knownFields(b.payload, 'payload', ['data', 'dataCrc32c']);
    const encoded = payload.data ?? '';
    if (typeof encoded !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(encoded))
      throw invalidArgument("Invalid value at 'payload.data' (TYPE_BYTES): base64 expected.");
    const data = Buffer.from(encoded, 'base64');
    if (data.length > MAX_PAYLOAD_BYTES)
      throw invalidArgument(`Secret payload data is ${data.length} bytes; it must be no larger than 64KiB (${MAX_PAYLOAD_BYTES} bytes).`);
    const checksum = String(crc32c(data));
    const given = payload.dataCrc32c;
    if (given !== undefined && given !== null && String(given) !== checksum) {
      throw invalidArgument(
        `Checksum verification failed: payload.dataCrc32c ${String(given)} is not the CRC32C of the received data. The data was corrupted in transit or the checksum was computed on other bytes.`,
      );
    }
    const s = this.secret(project, id);
    const version: StoredVersion = {
      number: s.lastVersion + 1,
      createTime: now(),
      state: 'ENABLED',
      data: data.toString('base64'),
      crc32c: checksum,
      clientSpecifiedPayloadChecksum: given !== undefined && given !== null,
      etag: newEtag(),
    };
    const next = { ...s, versions: [...s.versions, version], lastVersion: version.number };
    this.store.put(next);
    return versionJson(next, version);
  }

  getVersion(project: string, id: string, version: string): object {
    const found = this.version(project, id, version);
    return versionJson(found.secret, found.version);
  }

  listVersions(project: string, id: string, query: URLSearchParams): object {
    const s = this.secret(project, id);
    if (query.get('filter')) throw invalidArgument('The emulator does not filter secret versions: list them without a filter.');
    // Newest first, as Google lists them.
    const all = [...s.versions].reverse();
    const page = pageOf(all, query);
    return {
      ...(page.items.length ? { versions: page.items.map((v) => versionJson(s, v)) } : {}),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      totalSize: all.length,
    };
  }

  access(project: string, id: string, version: string): object {
    const found = this.version(project, id, version);
    return accessJson(found.secret, found.version);
  }

  getIamPolicy(project: string, id: string): Policy {
    return this.secret(project, id).policy;
  }

  setIamPolicy(project: string, id: string, body: unknown): Policy {
    const b = knownFields(body, 'request', ['policy', 'updateMask', 'resource']);
    const s = this.secret(project, id);
    const policy = nextPolicy(s.policy, b.policy);
    this.store.put({ ...s, policy });
    return policy;
  }
}
