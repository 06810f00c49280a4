// `recover`: etcd lost its quorum, and a person confirmed (input `confirm`) that the cluster may be
// rebuilt from one member. Pure. The steps, each safe to repeat:
//   1. record the recovery on the address (`ha-masters-recovery: <survivor>_<count>_<phase>`): the
//      survivor is the member that answers with the highest raft applied index, `count` the
//      replicas there were; the engine takes an etcd snapshot before this first step;
//   2. delete every other replica VM: their members belong to the lost cluster;
//   3. `etcd-force-new-cluster` on the survivor and a reset (docs/vm-contract.md): it boots into a
//      new one-member cluster from its own data, then the record moves to phase `f`;
//   4. from then on the usual rungs hold (the load balancer goes while one replica is left), and the
//      request adds replicas back one at a time, as learners, up to `count`; then the record goes.
import type { ClusterNames, ClusterState, Intent, PlanResult } from '../model.ts';
import { memberIdHex } from '../model.ts';
import { count } from '../words.ts';
import { liveReplicas } from './view.ts';
import type { ClusterView } from './view.ts';

export const RECOVERY_LABEL = 'ha-masters-recovery';

export interface Recovery {
  survivor: string;
  /** Replicas before the recovery: the count it restores. */
  count: number;
  /** `p`: prepared (the others go, then the survivor is forced); `f`: forced (replicas come back). */
  phase: 'p' | 'f';
}

export function decodeRecovery(names: ClusterNames, labels: Record<string, string> | undefined): Recovery | undefined {
  const m = /^(m|[0-9a-f]{3})_(\d{1,2})_([pf])$/.exec(labels?.[RECOVERY_LABEL] ?? '');
  if (!m) return undefined;
  return { survivor: m[1] === 'm' ? names.master : `${names.master}-${m[1]}`, count: Number(m[2]), phase: m[3] as Recovery['phase'] };
}

export function encodeRecovery(names: ClusterNames, r: Recovery): string {
  const suffix = r.survivor === names.master ? 'm' : r.survivor.slice(names.master.length + 1);
  return `${suffix}_${r.count}_${r.phase}`;
}

const step = (s: Extract<PlanResult, { type: 'step' }>['step'], reason: string): PlanResult => ({ type: 'step', step: s, reason });

/** The member to rebuild from: it answers, and holds the most (highest applied index); its VM runs. */
function chooseSurvivor(state: ClusterState): { vm: string; index: number; memberName: string } | undefined {
  const candidates = state.etcd.members
    .filter((m) => m.dbSize !== undefined && !m.isLearner && m.name.startsWith('etcd-'))
    .map((m) => ({ vm: m.name.slice('etcd-'.length), index: m.appliedIndex ?? 0, memberName: m.name }))
    .filter((c) => state.replicas.some((r) => r.name === c.vm && r.status === 'RUNNING'))
    .sort((a, b) => b.index - a.index || a.vm.localeCompare(b.vm));
  return candidates[0];
}

/**
 * The recovery's next step while quorum is being restored (steps 1-3), or undefined once the
 * survivor has been forced (the usual ladder and `recoverCount` go on from there).
 */
export function recoverQuorum(intent: Intent, view: ClusterView): PlanResult | undefined {
  const { state } = view;
  const n = state.names;
  const record = decodeRecovery(n, state.address?.labels);
  if (record?.phase === 'f') return undefined;
  if (!record) {
    if (state.etcd.reachable) return undefined; // quorum holds: recoverCount says there is nothing to do
    const survivor = chooseSurvivor(state);
    if (!survivor) {
      return {
        type: 'refuse',
        problem: `no etcd member of ${n.master} answers, so none can be rebuilt from: ${state.etcd.error ?? 'no member answered'}`,
        fix: `start the stopped master VMs if any (etcd comes back by itself), or restore your latest snapshot by hand (docs/troubleshooting.md, "etcd lost quorum")`,
        nothingChanged: true,
      };
    }
    const replicas = liveReplicas(view).length;
    const entry: Recovery = { survivor: survivor.vm, count: Math.max(1, replicas), phase: 'p' };
    const lost = state.etcd.members.filter((m) => m.dbSize === undefined).map((m) => m.name || memberIdHex(m.id));
    return step(
      { kind: 'writeRecovery', record: entry },
      `etcd has no quorum: rebuild it from ${survivor.vm} (member ${survivor.memberName}, the highest applied index, ${survivor.index}), then add ${count(entry.count - 1, 'replica')} back; taken as lost, since they do not answer: ${lost.join(', ') || 'none'}`,
    );
  }
  const survivor = state.replicas.find((r) => r.name === record.survivor);
  if (!survivor) {
    return {
      type: 'refuse',
      problem: `the recovery of ${n.master} was to rebuild etcd from ${record.survivor}, whose VM is gone now`,
      fix: `restore your latest snapshot by hand (docs/troubleshooting.md, "etcd lost quorum"); then remove the label ${RECOVERY_LABEL} from the address ${n.address}`,
      nothingChanged: false,
    };
  }
  const other = state.replicas.find((r) => r.name !== record.survivor);
  if (other) {
    return step(
      { kind: 'deleteReplica', replica: other.name, zone: other.zone },
      `recovery: ${other.name}'s member belongs to the lost cluster; it goes before ${record.survivor} forms the new one`,
    );
  }
  const member = state.etcd.members.find((m) => m.name === `etcd-${record.survivor}`);
  return step(
    { kind: 'forceNewCluster', replica: survivor.name, zone: survivor.zone, nonce: intent.requestId },
    `recovery: ${survivor.name}${member ? ` (member ${memberIdHex(member.id)})` : ''} boots into a new one-member etcd cluster from its own data`,
  );
}

/** The request itself once quorum is back: replicas up to the recorded count, then the record goes. */
export function recoverCount(view: ClusterView, addOne: () => PlanResult): PlanResult {
  const { state } = view;
  const record = decodeRecovery(state.names, state.address?.labels);
  if (!record) {
    return {
      type: 'done',
      reason: `etcd of ${state.names.master} has its quorum: nothing to recover (operation: repair replaces unhealthy replicas)`,
    };
  }
  if (liveReplicas(view).length < record.count) return addOne();
  return step(
    { kind: 'writeRecovery' },
    `recovered: ${count(record.count, 'replica')} again, rebuilt from ${record.survivor}; the recovery record goes`,
  );
}
