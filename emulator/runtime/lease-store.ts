// coordination.k8s.io/v1 Leases in kube-system, stored in etcd the way kube-apiserver stores
// them (key /registry/leases/<namespace>/<name>; JSON here instead of protobuf), with
// metadata.resourceVersion taken from etcd's revisions as Kubernetes does.
import type { Etcd3 } from 'etcd3';
import { deadlineIn } from './etcd-client.ts';

export const LEASE_NAMESPACE = 'kube-system';
const PREFIX = `/registry/leases/${LEASE_NAMESPACE}/`;
const CALL_TIMEOUT_MS = 2000;

export interface LeaseObject {
  kind: 'Lease';
  apiVersion: 'coordination.k8s.io/v1';
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion?: string;
    creationTimestamp: string;
    labels: Record<string, string>;
  };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaseList {
  kind: 'LeaseList';
  apiVersion: 'coordination.k8s.io/v1';
  metadata: { resourceVersion: string };
  items: LeaseObject[];
}

/** RFC 3339 with microseconds, as Kubernetes writes MicroTime. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Kubernetes' Time: RFC 3339 to the second. */
export function secondTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function decode(value: Buffer, modRevision: string): LeaseObject | undefined {
  try {
    const lease = JSON.parse(value.toString('utf8')) as LeaseObject;
    lease.metadata.resourceVersion = modRevision;
    return lease;
  } catch {
    return undefined;
  }
}

export async function putLease(etcd: Etcd3, lease: LeaseObject): Promise<void> {
  const stored = { ...lease, metadata: { ...lease.metadata } };
  delete stored.metadata.resourceVersion;
  await etcd
    .put(PREFIX + lease.metadata.name)
    .value(JSON.stringify(stored))
    .options(deadlineIn(CALL_TIMEOUT_MS))
    .exec();
}

export async function getLease(etcd: Etcd3, name: string): Promise<LeaseObject | undefined> {
  const res = await etcd
    .get(PREFIX + name)
    .options(deadlineIn(CALL_TIMEOUT_MS))
    .exec();
  const kv = res.kvs[0];
  return kv ? decode(kv.value, kv.mod_revision) : undefined;
}

export async function listLeases(etcd: Etcd3): Promise<LeaseList> {
  const res = await etcd.getAll().prefix(PREFIX).options(deadlineIn(CALL_TIMEOUT_MS)).exec();
  const items = res.kvs.map((kv) => decode(kv.value, kv.mod_revision)).filter((l): l is LeaseObject => l !== undefined);
  return {
    kind: 'LeaseList',
    apiVersion: 'coordination.k8s.io/v1',
    metadata: { resourceVersion: res.header.revision },
    items,
  };
}

/** The deleted lease, or undefined if there was none. */
export async function deleteLease(etcd: Etcd3, name: string): Promise<LeaseObject | undefined> {
  const prevKvs = await etcd
    .delete()
    .key(PREFIX + name)
    .options(deadlineIn(CALL_TIMEOUT_MS))
    .getPrevious();
  const prev = prevKvs[0];
  return prev ? decode(prev.value, prev.mod_revision) : undefined;
}

export type LeaseWrite = { ok: true; lease: LeaseObject } | { ok: false; reason: 'AlreadyExists' | 'NotFound' | 'Conflict' };

/** Writes a new lease only if none of that name exists (etcd transaction on create revision 0). */
export async function createLease(etcd: Etcd3, lease: LeaseObject): Promise<LeaseWrite> {
  const key = PREFIX + lease.metadata.name;
  const stored = { ...lease, metadata: { ...lease.metadata } };
  delete stored.metadata.resourceVersion;
  const res = await etcd
    .if(key, 'Create', '==', 0)
    .then(etcd.put(key).value(JSON.stringify(stored)))
    .options(deadlineIn(CALL_TIMEOUT_MS))
    .commit();
  if (!res.succeeded) return { ok: false, reason: 'AlreadyExists' };
  return { ok: true, lease: { ...stored, metadata: { ...stored.metadata, resourceVersion: res.header.revision } } };
}

/**
 * Replaces a lease at the resourceVersion the client read (Conflict otherwise), keeping its uid and
 * creationTimestamp, as kube-apiserver's optimistic concurrency does.
 */
export async function updateLease(etcd: Etcd3, lease: LeaseObject): Promise<LeaseWrite> {
  const current = await getLease(etcd, lease.metadata.name);
  if (!current) return { ok: false, reason: 'NotFound' };
  const wanted = lease.metadata.resourceVersion;
  if (wanted && wanted !== current.metadata.resourceVersion) return { ok: false, reason: 'Conflict' };
  const key = PREFIX + lease.metadata.name;
  const next: LeaseObject = {
    ...lease,
    metadata: { ...lease.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp },
  };
  delete next.metadata.resourceVersion;
  const res = await etcd
    .if(key, 'Mod', '==', current.metadata.resourceVersion!)
    .then(etcd.put(key).value(JSON.stringify(next)))
    .options(deadlineIn(CALL_TIMEOUT_MS))
    .commit();
  if (!res.succeeded) return { ok: false, reason: 'Conflict' };
  return { ok: true, lease: { ...next, metadata: { ...next.metadata, resourceVersion: res.header.revision } } };
}
