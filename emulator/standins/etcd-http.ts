// A small etcd v3 client over etcd's JSON gateway (`POST /v3/kv/...` on the client URL, mTLS),
// which etcd 3.4+ serves next to gRPC. The stand-ins use it instead of the `etcd3` package: gRPC-js
// costs a Node process some 15 MB of memory, and a master VM has to fit in 120 MB.
//
// Endpoints are tried in order, starting with the last one that answered (clientv3 also fails over
// between --etcd-servers). Every call has a deadline. Reads are linearizable (etcd's default).
import { Agent, request } from 'node:https';

export interface EtcdTls {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface KeyValue {
  key: string;
  value: Buffer;
  modRevision: string;
  createRevision: string;
}

interface WireKv {
  key?: string;
  value?: string;
  mod_revision?: string;
  create_revision?: string;
}
interface WireHeader {
  revision?: string;
}
interface RangeResponse {
  header?: WireHeader;
  kvs?: WireKv[];
}
interface TxnResponse {
  header?: WireHeader;
  succeeded?: boolean;
  responses?: Array<{ response_range?: RangeResponse }>;
}
interface DeleteResponse {
  header?: WireHeader;
  deleted?: string;
  prev_kvs?: WireKv[];
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function decodeKv(kv: WireKv): KeyValue {
  return {
    key: Buffer.from(kv.key ?? '', 'base64').toString('utf8'),
    value: Buffer.from(kv.value ?? '', 'base64'),
    modRevision: kv.mod_revision ?? '0',
    createRevision: kv.create_revision ?? '0',
  };
}

/** The smallest key after every key with this prefix (etcd's range_end for a prefix). */
function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = bytes.subarray(0, i + 1);
      end[i]! += 1;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64');
}

export type TxnCondition = { modRevision: string } | { absent: true };

export class EtcdHttpClient {
  private readonly endpoints: URL[];
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private preferred = 0;

  constructor(endpoints: string[], tls: EtcdTls, timeoutMs = 2000) {
    if (endpoints.length === 0) throw new Error('no etcd endpoints');
    this.endpoints = endpoints.map((e) => new URL(e));
    this.agent = new Agent({ keepAlive: true, maxSockets: 8, ...tls });
    this.timeoutMs = timeoutMs;
  }

  close(): void {
    this.agent.destroy();
  }

  async range(key: string, opts: { prefix?: boolean } = {}): Promise<{ revision: string; kvs: KeyValue[] }> {
    const res = await this.call<RangeResponse>('/v3/kv/range', { key: b64(key), ...(opts.prefix ? { range_end: prefixEnd(key) } : {}) });
    return { revision: res.header?.revision ?? '0', kvs: (res.kvs ?? []).map(decodeKv) };
  }

  async put(key: string, value: string): Promise<string> {
    const res = await this.call<{ header?: WireHeader }>('/v3/kv/put', { key: b64(key), value: b64(value) });
    return res.header?.revision ?? '0';
  }

  /**
   * Writes `value` only if the key is absent / still at `modRevision`. On success `revision` is the
   * key's new mod revision; on failure `current` is what the key holds now (undefined: absent).
   */
  async putIf(
    key: string,
    value: string,
    cond: TxnCondition,
  ): Promise<{ succeeded: true; revision: string } | { succeeded: false; current: KeyValue | undefined }> {
    const compare =
      'absent' in cond
        ? { key: b64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' }
        : { key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: cond.modRevision };
    const res = await this.call<TxnResponse>('/v3/kv/txn', {
      compare: [compare],
      success: [{ request_put: { key: b64(key), value: b64(value) } }],
      failure: [{ request_range: { key: b64(key) } }],
    });
    if (res.succeeded) return { succeeded: true, revision: res.header?.revision ?? '0' };
    const kv = res.responses?.[0]?.response_range?.kvs?.[0];
    return { succeeded: false, current: kv ? decodeKv(kv) : undefined };
  }

  /** Deletes the key; the previous value, or undefined if there was none. */
  async delete(key: string): Promise<KeyValue | undefined> {
    const res = await this.call<DeleteResponse>('/v3/kv/deleterange', { key: b64(key), prev_kv: true });
    const prev = res.prev_kvs?.[0];
    return prev ? decodeKv(prev) : undefined;
  }

  private async call<T>(path: string, body: object): Promise<T> {
    const payload = JSON.stringify(body);
    const deadline = Date.now() + this.timeoutMs;
    let lastError: Error = new Error('context deadline exceeded');
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.preferred + i) % this.endpoints.length;
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        const result = await this.post<T>(this.endpoints[index]!, path, payload, left);
        this.preferred = index;
        return result;
      } catch (err) {
        lastError = err as Error;
        // A refusal from etcd is final; connection failures and 5xx (unavailable) move on.
        if ((err as { final?: boolean }).final) throw err;
      }
    }
    throw lastError;
  }

  private post<T>(endpoint: URL, path: string, payload: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const req = request(
        {
          protocol: 'https:',
          hostname: endpoint.hostname.replace(/^\[|\]$/g, ''),
          port: endpoint.port || 2379,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : {};
            } catch {
              parsed = undefined;
            }
            if (res.statusCode === 200 && parsed !== undefined) return resolve(parsed as T);
            const message =
              (parsed as { message?: string; error?: string } | undefined)?.message ??
              (parsed as { error?: string } | undefined)?.error ??
              `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
            reject(Object.assign(new Error(`etcdserver: ${message}`), { final: (res.statusCode ?? 500) < 500 }));
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error('context deadline exceeded')));
      req.on('error', reject);
      req.end(payload);
    });
  }
}
