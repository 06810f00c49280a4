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
    holderIdentity: string;
    leaseDurationSeconds: number;
    renewTime: string;
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
  await etcd.put(PREFIX + lease.metadata.name).value(JSON.stringify(stored)).options(deadlineIn(CALL_TIMEOUT_MS)).exec();
}

export async function getLease(etcd: Etcd3, name: string): Promise<LeaseObject | undefined> {
  const res = await etcd.get(PREFIX + name).options(deadlineIn(CALL_TIMEOUT_MS)).exec();
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
  const prevKvs = await etcd.delete().key(PREFIX + name).options(deadlineIn(CALL_TIMEOUT_MS)).getPrevious();
  const prev = prevKvs[0];
  return prev ? decode(prev.value, prev.mod_revision) : undefined;
}
