// Secret Manager v1 over REST, the few calls the action makes: create a secret, add and read
// versions, share a secret with one service account, list a cluster's secrets, delete them.
// Plain fetch with a bearer token keeps the bundle free of a second Google client library.
// Every payload is checked against its CRC32C both ways. Payloads are never logged.
import { DEFAULT_RETRY, realSleep, retrying } from '../gce/retry.ts';
import { exchange } from '../http/exchange.ts';
import type { TokenSource } from '../auth/adc.ts';
import { crc32c } from './crc32c.ts';
import { isSecretNotFound, SecretManagerError, secretHttpError } from './errors.ts';

export const SECRET_MANAGER_ENDPOINT = 'https://secretmanager.googleapis.com';
export const SECRET_ACCESSOR = 'roles/secretmanager.secretAccessor';

export interface SecretInfo {
  /** The secret's id (the last part of its name). */
  id: string;
  labels: Record<string, string>;
}

export interface SecretManagerApi {
  /** Creates the secret; false when it already existed (its labels are not changed). */
  createSecret(id: string, labels: Record<string, string>): Promise<boolean>;
  getSecret(id: string): Promise<SecretInfo | undefined>;
  /** Adds a version; its full name (`projects/<number>/secrets/<id>/versions/<n>`). */
  addVersion(id: string, payload: Buffer): Promise<string>;
  /** The payload of a version name as addVersion returned it. */
  access(versionName: string): Promise<Buffer>;
  /** The newest enabled version of a secret: its full name and payload; undefined when the secret has none. */
  accessLatest(id: string): Promise<{ name: string; payload: Buffer } | undefined>;
  /** Lets `member` (e.g. `serviceAccount:x@y`) read the secret's versions; no-op when it already may. */
  grantAccessor(id: string, member: string): Promise<void>;
  /** Secrets whose label `key` is `value`. */
  listByLabel(key: string, value: string): Promise<SecretInfo[]>;
  /** Deletes the secret and its versions; false when it did not exist. */
  deleteSecret(id: string): Promise<boolean>;
}

export interface SecretManagerOptions {
  project: string;
  /** Base URL (default Google's); the emulator's is its Compute port's `http://127.0.0.1:<port>`. */
  endpoint?: string;
  token: TokenSource;
  log?: (line: string) => void;
  /** Attempts for a call that failed with 429, 5xx or a network error (and for a policy conflict). */
  attempts?: number;
}

interface Policy {
  version?: number;
  etag?: string;
  bindings?: Array<{ role: string; members: string[] }>;
}

const secretId = (name: string): string => name.slice(name.lastIndexOf('/') + 1);

interface AccessAnswer {
  name?: string;
  payload?: { data?: string; dataCrc32c?: string };
}

/** The payload of an `:access` answer, checked against its CRC32C. */
function checkedPayload(versionName: string, got: AccessAnswer | undefined): Buffer {
  const data = Buffer.from(got?.payload?.data ?? '', 'base64');
  const sum = got?.payload?.dataCrc32c;
  if (sum !== undefined && Number(sum) !== crc32c(data)) {
    throw new SecretManagerError(
      'corrupt',
      `the payload of ${versionName} does not match its CRC32C checksum; it was damaged on the way. Re-run the step`,
    );
  }
  return data;
}

export function createSecretManager(opts: SecretManagerOptions): SecretManagerApi {
  const base = (opts.endpoint ?? SECRET_MANAGER_ENDPOINT).replace(/\/$/, '');
  const secretPath = (id: string): string => `projects/${encodeURIComponent(opts.project)}/secrets/${encodeURIComponent(id)}`;
  const policy = { ...DEFAULT_RETRY, attempts: opts.attempts ?? DEFAULT_RETRY.attempts };

  /** One call with retries; `what` names it in errors ("create secret projects/p/secrets/x"). */
  function call<T>(what: string, method: string, path: string, body?: unknown, accept404 = false): Promise<T | undefined> {
    const hooks = { sleep: realSleep, random: Math.random, log: (l: string) => opts.log?.(`secret manager: ${l}`) };
    return retrying(
      what,
      policy,
      hooks,
      async () => {
        const res = await exchange(
          `${base}/v1/${path}`,
          {
            method,
            ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
            signal: AbortSignal.timeout(30_000),
          },
          opts.token,
          (why) => new SecretManagerError('unavailable', `could not reach Secret Manager at ${base} to ${what}: ${why}`),
        );
        if (res.ok) return (res.text ? JSON.parse(res.text) : {}) as T;
        if (res.status === 404 && accept404) return undefined;
        throw secretHttpError(what, res.status, res.text);
      },
      (e) => (e instanceof SecretManagerError && e.retryable ? { why: e.kind } : undefined),
    );
  }

  return {
    async createSecret(id, labels) {
      const path = `projects/${encodeURIComponent(opts.project)}/secrets?secretId=${encodeURIComponent(id)}`;
      try {
        await call('create secret ' + secretPath(id), 'POST', path, { replication: { automatic: {} }, labels });
        return true;
      } catch (e) {
        if (e instanceof SecretManagerError && e.kind === 'alreadyExists') return false;
        throw e;
      }
    },

    async getSecret(id) {
      const found = await call<{ name: string; labels?: Record<string, string> }>(
        `get secret ${secretPath(id)}`,
        'GET',
        secretPath(id),
        undefined,
        true,
      );
      return found && { id: secretId(found.name), labels: found.labels ?? {} };
    },

    async addVersion(id, payload) {
      const body = { payload: { data: payload.toString('base64'), dataCrc32c: String(crc32c(payload)) } };
      const version = await call<{ name: string }>(`add a version to ${secretPath(id)}`, 'POST', `${secretPath(id)}:addVersion`, body);
      return version!.name;
    },

    async access(versionName) {
      const got = await call<AccessAnswer>(`access ${versionName}`, 'GET', `${versionName}:access`);
      return checkedPayload(versionName, got);
    },

    async accessLatest(id) {
      const path = `${secretPath(id)}/versions/latest`;
      const got = await call<AccessAnswer>(`access ${path}`, 'GET', `${path}:access`, undefined, true);
      if (!got?.name) return undefined;
      return { name: got.name, payload: checkedPayload(got.name, got) };
    },

    async grantAccessor(id, member) {
      // Read-modify-write under the policy's etag: a concurrent change makes the write fail with
      // ABORTED, and the loop in `call` does not see it, so retry the whole exchange here.
      for (let attempt = 1; ; attempt++) {
        const current = (await call<Policy>(`get the IAM policy of ${secretPath(id)}`, 'POST', `${secretPath(id)}:getIamPolicy`, {}))!;
        const bindings = current.bindings ?? [];
        if (bindings.some((b) => b.role === SECRET_ACCESSOR && b.members.includes(member))) return;
        const others = bindings.filter((b) => b.role !== SECRET_ACCESSOR);
        const accessor = bindings.find((b) => b.role === SECRET_ACCESSOR);
        const next: Policy = {
          ...current,
          bindings: [...others, { role: SECRET_ACCESSOR, members: [...(accessor?.members ?? []), member] }],
        };
        try {
          await call(`set the IAM policy of ${secretPath(id)}`, 'POST', `${secretPath(id)}:setIamPolicy`, { policy: next });
          return;
        } catch (e) {
          if (!(e instanceof SecretManagerError && e.kind === 'aborted') || attempt >= policy.attempts) throw e;
        }
      }
    },

    async listByLabel(key, value) {
      const out: SecretInfo[] = [];
      let pageToken = '';
      do {
        const query = new URLSearchParams({ filter: `labels.${key}=${value}`, pageSize: '100', ...(pageToken ? { pageToken } : {}) });
        const page = (await call<{ secrets?: Array<{ name: string; labels?: Record<string, string> }>; nextPageToken?: string }>(
          `list the secrets labelled ${key}=${value}`,
          'GET',
          `projects/${encodeURIComponent(opts.project)}/secrets?${query}`,
        ))!;
        // Applied here too: a server that ignored the filter must not widen what a teardown deletes.
        for (const s of page.secrets ?? []) if (s.labels?.[key] === value) out.push({ id: secretId(s.name), labels: s.labels });
        pageToken = page.nextPageToken ?? '';
      } while (pageToken);
      return out;
    },

    async deleteSecret(id) {
      try {
        return (await call(`delete secret ${secretPath(id)}`, 'DELETE', secretPath(id), undefined, true)) !== undefined;
      } catch (e) {
        if (isSecretNotFound(e)) return false;
        throw e;
      }
    },
  };
}
