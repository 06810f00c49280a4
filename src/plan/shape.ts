// What a new replica's VM is made of besides its binaries: machine type, network, data disk size and
// service account. A run that names one (its input set) gets it; otherwise, and always for repair
// and recover, a new replica copies the replica it succeeds, else what most running replicas have,
// so that a scheduled job without these inputs never reshapes a cluster. `rollout` replaces the
// replicas that differ from what the run names. Pure: reads the observed replicas.

import type { ClusterState, Intent, Replica, ShapeField } from '../model.ts';
import { commonValue } from './common-value.ts';

export interface ReplicaShape {
  machineType: string;
  network: string;
  dataDiskSizeGb: number;
  /** Undefined: the project's default Compute Engine account (the engine looks it up). */
  serviceAccount?: string;
}

const FIELDS: readonly ShapeField[] = ['machineType', 'network', 'dataDiskSizeGb', 'serviceAccount'];

const WORDS: Record<ShapeField, string> = {
  machineType: 'machine type',
  network: 'network',
  dataDiskSizeGb: 'data disk size (GB)',
  serviceAccount: 'service account',
};

type ShapeIntent = Pick<Intent, 'operation' | 'shapeNamed' | 'machineType' | 'network' | 'dataDiskSizeGb' | 'serviceAccount'>;

/** Fields the run names, except for repair and recover, which restore what was. */
function namedFields(intent: ShapeIntent): Set<ShapeField> {
  if (intent.operation === 'repair' || intent.operation === 'recover') return new Set();
  return new Set(intent.shapeNamed ?? []);
}

/** The most common value of `field` among running replicas that report it. */
const clusterValue = <F extends ShapeField>(state: ClusterState, field: F): Replica[F] | undefined => commonValue(state, (r) => r[field]);

export function shapeForNewReplica(intent: ShapeIntent, state: ClusterState, succeeds?: string): ReplicaShape {
  const named = namedFields(intent);
  const predecessor = state.replicas.find((r) => r.name === succeeds);
  const pick = <F extends ShapeField>(field: F, own: Replica[F]): Replica[F] =>
    named.has(field) ? own : (predecessor?.[field] ?? clusterValue(state, field) ?? own);
  const account = pick('serviceAccount', intent.serviceAccount);
  return {
    machineType: pick('machineType', intent.machineType)!,
    network: pick('network', intent.network)!,
    dataDiskSizeGb: pick('dataDiskSizeGb', intent.dataDiskSizeGb)!,
    ...(account ? { serviceAccount: account } : {}),
  };
}

/** The network the cluster's firewall rules belong to: its replicas', else the run's. */
export function clusterNetwork(intent: Pick<Intent, 'network'>, state: ClusterState): string {
  return clusterValue(state, 'network') ?? intent.network;
}

/** How `r` differs from what the run names (empty when it does not), in words for logs. */
export function shapeDrift(intent: ShapeIntent, r: Replica): string[] {
  const named = namedFields(intent);
  const wanted: Partial<Record<ShapeField, string | number | undefined>> = {
    machineType: intent.machineType,
    network: intent.network,
    dataDiskSizeGb: intent.dataDiskSizeGb,
    serviceAccount: intent.serviceAccount,
  };
  return FIELDS.filter((f) => named.has(f) && r[f] !== undefined && r[f] !== wanted[f]).map(
    (f) => `${WORDS[f]} ${String(r[f])}, not ${String(wanted[f])}`,
  );
}

/** A named network other than the cluster's: a replica there could not reach its peers' etcd. */
export function networkProblem(intent: ShapeIntent, state: ClusterState): { problem: string; fix: string } | undefined {
  const theirs = clusterValue(state, 'network');
  if (!namedFields(intent).has('network') || theirs === undefined || theirs === intent.network) return undefined;
  return {
    problem: `network ${intent.network} is not the network of ${state.names.master}'s replicas, ${theirs}: a replica there could not reach their etcd, and the cluster's firewall rules are on ${theirs}`,
    fix: `set network: ${theirs}, or leave network empty; to move the control plane to another network, make a new cluster there and restore a snapshot into it`,
  };
}

/** What the run names, in words ("machine type e2-standard-8"); empty when it names nothing. */
export function namedShapeWords(intent: ShapeIntent): string {
  const named = namedFields(intent);
  const value = (f: ShapeField): string | number | undefined => (f === 'dataDiskSizeGb' ? intent.dataDiskSizeGb : intent[f]);
  return FIELDS.filter((f) => named.has(f))
    .map((f) => `${WORDS[f]} ${String(value(f))}`)
    .join(', ');
}

/** Warnings when live replicas differ in machine type, data disk size or service account (a resize stopped half-way, or an `up` with other inputs). */
export function mixedShapeWarnings(state: ClusterState, live: Replica[]): string[] {
  const out: string[] = [];
  for (const field of ['machineType', 'dataDiskSizeGb', 'serviceAccount'] as const) {
    const groups = new Map<string, string[]>();
    for (const r of live) {
      if (r[field] === undefined) continue;
      const key = String(r[field]);
      groups.set(key, [...(groups.get(key) ?? []), r.name]);
    }
    if (groups.size < 2) continue;
    const parts = [...groups].map(([value, names]) => `${names.join(', ')}: ${value}`);
    const input = { machineType: 'machine-type', dataDiskSizeGb: 'data-disk-size-gb', serviceAccount: 'service-account' }[field];
    out.push(
      `the replicas of ${state.names.master} differ in ${WORDS[field]} (${parts.join('; ')}). Make them alike with operation: rollout and the ${input} they should all have.`,
    );
  }
  return out;
}
