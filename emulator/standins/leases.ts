// coordination.k8s.io/v1 Leases stored in etcd the way emulator/runtime/lease-store.ts stores them
// (key <etcd-prefix>/leases/<namespace>/<name>, the object as JSON without resourceVersion, which
// is etcd's mod revision), so the runtime's stand-in and this one read each other's leases. Writes
// are etcd transactions: create only if absent, update only at the resourceVersion the client sent.
import { randomUUID } from 'node:crypto';
import type { EtcdHttpClient, KeyValue } from './etcd-http.ts';

export interface Lease {
  kind: 'Lease';
  apiVersion: 'coordination.k8s.io/v1';
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
    [k: string]: unknown;
  };
}

/** RFC 3339 with microseconds, as Kubernetes writes MicroTime. */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
/** Kubernetes' Time: RFC 3339 to the second. */
export const secondTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export type WriteResult = { ok: true; lease: Lease } | { ok: false; reason: 'AlreadyExists' | 'NotFound' | 'Conflict' };

export class LeaseStore {
  private readonly etcd: EtcdHttpClient;
  private readonly prefix: string;

  constructor(etcd: EtcdHttpClient, etcdPrefix = '/registry') {
    this.etcd = etcd;
    this.prefix = etcdPrefix.replace(/\/+$/, '');
  }

  private key(namespace: string, name: string): string {
    return `${this.prefix}/leases/${namespace}/${name}`;
  }

  private decode(kv: KeyValue): Lease | undefined {
    try {
      const lease = JSON.parse(kv.value.toString('utf8')) as Lease;
      lease.metadata.resourceVersion = kv.modRevision;
      return lease;
    } catch {
      return undefined;
    }
  }

  private static encode(lease: Lease): string {
    const stored = { ...lease, metadata: { ...lease.metadata } };
    delete stored.metadata.resourceVersion;
    return JSON.stringify(stored);
  }

  async get(namespace: string, name: string): Promise<Lease | undefined> {
    const { kvs } = await this.etcd.range(this.key(namespace, name));
    return kvs[0] ? this.decode(kvs[0]) : undefined;
  }

  /** All leases of a namespace (or of every namespace), with the store's revision. */
  async list(namespace: string | undefined): Promise<{ revision: string; items: Lease[] }> {
    const prefix = namespace === undefined ? `${this.prefix}/leases/` : `${this.prefix}/leases/${namespace}/`;
    const { revision, kvs } = await this.etcd.range(prefix, { prefix: true });
    return { revision, items: kvs.map((kv) => this.decode(kv)).filter((l): l is Lease => l !== undefined) };
  }

  async create(lease: Lease, now = new Date()): Promise<WriteResult> {
    const stored: Lease = {
      ...lease,
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      metadata: { ...lease.metadata, uid: randomUUID(), creationTimestamp: secondTime(now) },
    };
    delete stored.metadata.resourceVersion;
    const res = await this.etcd.putIf(this.key(lease.metadata.namespace, lease.metadata.name), LeaseStore.encode(stored), { absent: true });
    if (!res.succeeded) return { ok: false, reason: 'AlreadyExists' };
    return { ok: true, lease: { ...stored, metadata: { ...stored.metadata, resourceVersion: res.revision } } };
  }

  /**
   * Replaces a lease. With `metadata.resourceVersion` the write happens only at that version
   * (else Conflict); without it, at whatever version is current. uid and creationTimestamp stay.
   */
  async update(lease: Lease): Promise<WriteResult> {
    const key = this.key(lease.metadata.namespace, lease.metadata.name);
    for (let attempt = 0; attempt < 5; attempt++) {
      const { kvs } = await this.etcd.range(key);
      const current = kvs[0] ? this.decode(kvs[0]) : undefined;
      if (!current) return { ok: false, reason: 'NotFound' };
      const wanted = lease.metadata.resourceVersion;
      if (wanted && wanted !== current.metadata.resourceVersion) return { ok: false, reason: 'Conflict' };
      const next: Lease = {
        ...lease,
        kind: 'Lease',
        apiVersion: 'coordination.k8s.io/v1',
        metadata: {
          ...lease.metadata,
          ...(current.metadata.uid ? { uid: current.metadata.uid } : {}),
          ...(current.metadata.creationTimestamp ? { creationTimestamp: current.metadata.creationTimestamp } : {}),
        },
      };
      const res = await this.etcd.putIf(key, LeaseStore.encode(next), { modRevision: current.metadata.resourceVersion! });
      if (res.succeeded) return { ok: true, lease: { ...next, metadata: { ...next.metadata, resourceVersion: res.revision } } };
      if (!res.current) return { ok: false, reason: 'NotFound' };
      if (wanted) return { ok: false, reason: 'Conflict' };
    }
    return { ok: false, reason: 'Conflict' };
  }

  /** Writes a lease whatever is there (the apiserver's own identity lease). */
  async put(lease: Lease): Promise<void> {
    await this.etcd.put(this.key(lease.metadata.namespace, lease.metadata.name), LeaseStore.encode(lease));
  }

  async delete(namespace: string, name: string): Promise<Lease | undefined> {
    const prev = await this.etcd.delete(this.key(namespace, name));
    return prev ? this.decode(prev) : undefined;
  }
}
