// Cloud Storage's JSON API over fetch, the calls the action makes: an object's metadata (its live
// generation and MD5), read before a restore so that a missing or unreadable snapshot is refused
// before anything changes and the VM downloads exactly that version; the upload of an etcd snapshot
// (etcd-snapshot-dir: gs://...), streamed from its file and checked against its MD5; and for
// `etcd-snapshot-keep`, the list of a prefix and the delete of one version.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_RETRY, realSleep, retrying } from '../gce/retry.ts';
import type { TokenSource } from '../auth/adc.ts';
import { StorageError, storageHttpError, type StorageNeed } from './errors.ts';
import { exchange } from '../http/exchange.ts';
import { objectUrl, type ObjectRef } from './object-url.ts';

export const STORAGE_ENDPOINT = 'https://storage.googleapis.com';

export interface ObjectInfo extends ObjectRef {
  generation: string;
  size: number;
  /** Base64 of the MD5 digest, as GCS gives it; absent for composite objects. */
  md5Hash?: string;
}

export interface StorageApi {
  objectInfo(ref: ObjectRef): Promise<ObjectInfo>;
  /** Uploads the file as `ref` (replacing what is there) and checks the stored MD5 against the file's. */
  uploadFile(ref: ObjectRef, path: string): Promise<ObjectInfo>;
  /** Every live object of `bucket` whose name starts with `prefix`, page after page. */
  listObjects(bucket: string, prefix: string): Promise<ObjectInfo[]>;
  /** Deletes that version of the object; false when it is gone already (or was replaced since). */
  deleteObject(object: ObjectInfo): Promise<boolean>;
}

interface ObjectJson {
  bucket?: string;
  name?: string;
  generation?: string;
  size?: string;
  md5Hash?: string;
}

function objectInfoOf(o: ObjectJson, what: string): ObjectInfo {
  if (!o.generation || !o.bucket || !o.name)
    throw new StorageError('other', `Cloud Storage answered ${what} without an object's generation`);
  return {
    bucket: o.bucket,
    object: o.name,
    generation: o.generation,
    size: Number(o.size ?? 0),
    ...(o.md5Hash ? { md5Hash: o.md5Hash } : {}),
  };
}

export interface StorageOptions {
  /** Base URL (default Google's); the emulator's is its API port. */
  endpoint?: string;
  token: TokenSource;
  log?: (line: string) => void;
  attempts?: number;
}

export function createStorage(opts: StorageOptions): StorageApi {
  const base = (opts.endpoint ?? STORAGE_ENDPOINT).replace(/\/$/, '');
  const policy = { ...DEFAULT_RETRY, attempts: opts.attempts ?? DEFAULT_RETRY.attempts };
  /** One call with retries on 429, 5xx and network errors; `body` makes a fresh body per attempt. */
  async function call<T>(
    what: string,
    url: string,
    init: { method?: string; body?: () => RequestInit['body']; accept404?: boolean; need?: StorageNeed } = {},
  ): Promise<T | undefined> {
    const hooks = { sleep: realSleep, random: Math.random, log: (l: string) => opts.log?.(`cloud storage: ${l}`) };
    return retrying(
      what,
      policy,
      hooks,
      async () => {
        const body = init.body?.();
        const res = await exchange(
          url,
          {
            method: init.method ?? 'GET',
            ...(body ? { headers: { 'content-type': 'application/octet-stream' }, body, duplex: 'half' } : {}),
            // A snapshot upload may take long; its bytes keep the connection busy.
            signal: AbortSignal.timeout(body ? 3_600_000 : 30_000),
          },
          opts.token,
          (why) => new StorageError('unavailable', `could not reach Cloud Storage at ${base} to ${what}: ${why}`),
        );
        if (res.ok) return (res.text ? JSON.parse(res.text) : {}) as T;
        if (res.status === 404 && init.accept404) return undefined;
        throw storageHttpError(what, res.status, res.text, init.need);
      },
      (e) => (e instanceof StorageError && e.retryable ? { why: e.kind } : undefined),
    );
  }

  return {
    async objectInfo(ref) {
      const url = `${base}/storage/v1/b/${encodeURIComponent(ref.bucket)}/o/${encodeURIComponent(ref.object)}`;
      const what = `read the metadata of ${objectUrl(ref)}`;
      return objectInfoOf((await call<ObjectJson>(what, url))!, what);
    },

    async uploadFile(ref, path) {
      const url = `${base}/upload/storage/v1/b/${encodeURIComponent(ref.bucket)}/o?uploadType=media&name=${encodeURIComponent(ref.object)}`;
      const what = `write ${objectUrl(ref)}`;
      const answer = await call<ObjectJson>(what, url, {
        method: 'POST',
        need: 'write',
        body: () => Readable.toWeb(createReadStream(path)) as unknown as ReadableStream,
      });
      const stored = objectInfoOf(answer!, what);
      const md5 = createHash('md5');
      await pipeline(createReadStream(path), md5);
      const local = md5.digest('base64');
      if (stored.md5Hash !== undefined && stored.md5Hash !== local) {
        throw new StorageError(
          'other',
          `${objectUrl(ref)} was damaged on the way: Cloud Storage holds MD5 ${stored.md5Hash}, the file has ${local}`,
        );
      }
      return stored;
    },

    async listObjects(bucket, prefix) {
      const what = `list ${objectUrl({ bucket, object: prefix })}*`;
      const out: ObjectInfo[] = [];
      let pageToken = '';
      do {
        const query = new URLSearchParams({ prefix, ...(pageToken ? { pageToken } : {}) });
        const page = (await call<{ items?: ObjectJson[]; nextPageToken?: string }>(
          what,
          `${base}/storage/v1/b/${encodeURIComponent(bucket)}/o?${query}`,
          { need: 'prune' },
        ))!;
        out.push(...(page.items ?? []).map((o) => objectInfoOf(o, what)));
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      return out;
    },

    async deleteObject(o) {
      const url = `${base}/storage/v1/b/${encodeURIComponent(o.bucket)}/o/${encodeURIComponent(o.object)}?generation=${encodeURIComponent(o.generation)}`;
      const gone = await call(`delete ${objectUrl(o)} (generation ${o.generation})`, url, {
        method: 'DELETE',
        accept404: true,
        need: 'prune',
      });
      return gone !== undefined;
    },
  };
}
