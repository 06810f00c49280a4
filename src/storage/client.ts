// Cloud Storage's JSON API over fetch, the one call the action makes: an object's metadata (its live
// generation and MD5), read before a restore so that a missing or unreadable snapshot is refused
// before anything changes, and so that the VM downloads exactly that version and checks it.
import { backoffDelay, DEFAULT_RETRY, realSleep } from '../gce/retry.ts';
import { CredentialsError } from '../auth/adc.ts';
import type { TokenSource } from '../auth/adc.ts';
import { StorageError, storageHttpError } from './errors.ts';
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
  return {
    async objectInfo(ref) {
      const what = `read the metadata of ${objectUrl(ref)}`;
      const url = `${base}/storage/v1/b/${encodeURIComponent(ref.bucket)}/o/${encodeURIComponent(ref.object)}`;
      for (let attempt = 1; ; attempt++) {
        let error: StorageError;
        try {
          const res = await fetch(url, { headers: { authorization: `Bearer ${await opts.token()}` }, signal: AbortSignal.timeout(30_000) });
          const text = await res.text();
          if (res.ok) {
            const o = JSON.parse(text) as { generation?: string; size?: string; md5Hash?: string };
            if (!o.generation) throw new StorageError('other', `Cloud Storage gave no generation for ${objectUrl(ref)}`);
            return { ...ref, generation: o.generation, size: Number(o.size ?? 0), ...(o.md5Hash ? { md5Hash: o.md5Hash } : {}) };
          }
          error = storageHttpError(what, res.status, text);
        } catch (e) {
          if (e instanceof StorageError || e instanceof CredentialsError) throw e;
          error = new StorageError('unavailable', `could not reach Cloud Storage at ${base} to ${what}: ${(e as Error).message}`);
        }
        if (!error.retryable || attempt >= policy.attempts) throw error;
        const delay = backoffDelay(policy, attempt, Math.random);
        opts.log?.(`cloud storage: ${what}: ${error.kind}, retry ${attempt}/${policy.attempts - 1} in ${delay} ms`);
        await realSleep(delay);
      }
    },
  };
}
