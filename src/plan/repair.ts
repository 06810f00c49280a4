// What `repair` may do with each unhealthy replica, before the replace ladder does it. Pure.
// After Cluster API's control-plane remediation: a replica that a repair made and that fails again
// within repair-min-healthy-period is a retry, and past repair-max-retries retries in a row repair
// stops and says so; a replica a repair made is left alone for repair-retry-period; a learner gets
// a grace period from its VM's creation to catch up. Quorum lost is never repaired here: replacing
// members needs a quorum, so the run stops and gives the recovery plan.
import { memberIdHex } from '../model.ts';
import type { ClusterState, Intent, RepairPolicy } from '../model.ts';
import { count } from '../words.ts';
import { isHealthyReplica, liveReplicas, unhealthyReason, voters } from './view.ts';
import { onlyOutOfSpace } from './etcd-space.ts';
import type { ClusterView, ReplicaView } from './view.ts';

export interface RepairCandidate {
  replica: ReplicaView;
  /** The `ha-masters-repairs` count its successor gets (none: not a repair's). */
  repairs?: number;
}

export interface RepairVerdict {
  candidates: RepairCandidate[];
  /** Unhealthy, but left alone this run, and why. */
  held: { name: string; why: string }[];
  /** Past the retry limit: repair stops and says so. */
  exhausted?: { name: string; why: string };
}

const ageMs = (state: ClusterState, r: ReplicaView): number => Date.parse(state.observedAt) - Date.parse(r.vm!.creationTimestamp);

/** A learner (or a VM not yet in etcd) still within its grace period: the joining rungs finish it. */
export function isJoiningInGrace(policy: RepairPolicy, state: ClusterState, r: ReplicaView): boolean {
  // A start-up that reported failure will not catch up, however long it is given.
  if (!r.vm || r.vm.startupFailure) return false;
  const joining = !r.member || r.member.isLearner;
  return joining && ageMs(state, r) < policy.learnerGraceMs;
}

export function judgeRepairs(intent: Intent, view: ClusterView): RepairVerdict {
  const policy = intent.repair!;
  const { state } = view;
  const verdict: RepairVerdict = { candidates: [], held: [] };
  for (const r of liveReplicas(view)) {
    if (isHealthyReplica(r)) continue;
    // Out of space is the whole cluster's, and maintenance (etcd-space.ts) is its repair.
    if (r.member && r.vm!.status === 'RUNNING' && onlyOutOfSpace(r.member.alarms) && r.vm!.apiserverReady !== false) {
      verdict.held.push({
        name: r.name,
        why: 'etcd NOSPACE alarm again after space was reclaimed: its live data fills the quota; delete data or raise the quota',
      });
      continue;
    }
    // In flight (PROVISIONING/STAGING) or joining within its grace: not broken yet.
    if (r.vm!.status === 'PROVISIONING' || r.vm!.status === 'STAGING' || isJoiningInGrace(policy, state, r)) continue;
    const age = ageMs(state, r);
    const madeByRepair = r.vm!.repairs;
    if (madeByRepair !== undefined && age < policy.retryPeriodMs) {
      const at = new Date(Date.parse(r.vm!.creationTimestamp) + policy.retryPeriodMs).toISOString();
      verdict.held.push({
        name: r.name,
        why: `${unhealthyReason(r)}; a repair made it ${Math.round(age / 60_000)} min ago, and repair-retry-period lets the next repair start at ${at}`,
      });
      continue;
    }
    const repairs = madeByRepair !== undefined && age < policy.minHealthyPeriodMs ? madeByRepair + 1 : 1;
    if (repairs - 1 > policy.maxRetries) {
      verdict.exhausted ??= {
        name: r.name,
        why:
          `${r.name} (${unhealthyReason(r)}) was made by the ${ordinal(madeByRepair!)} repair in a row and failed within repair-min-healthy-period ` +
          `(${Math.round(policy.minHealthyPeriodMs / 60_000)} min) of its creation; ${count(policy.maxRetries, 'retry', 'retries')} allowed (repair-max-retries)`,
      };
      continue;
    }
    verdict.candidates.push({ replica: r, repairs });
  }
  return verdict;
}

/**
 * Lost quorum: fewer than a majority of voters answer. Replacing a member needs a quorum, so repair
 * changes nothing and says how to recover, starting from the survivor with the highest raft index.
 */
export function quorumLoss(state: ClusterState): { problem: string; fix: string } | undefined {
  if (state.etcd.reachable || state.replicas.length === 0) return undefined;
  const all = voters(state);
  const answering = all.filter((m) => m.healthy);
  const best = [...answering].sort((a, b) => (b.appliedIndex ?? 0) - (a.appliedIndex ?? 0))[0];
  const who = all.length ? `${answering.length} of ${count(all.length, 'voter')} answer` : 'no member answers';
  const from = best
    ? `the survivor with the highest raft index is ${best.name || memberIdHex(best.id)} (applied index ${best.appliedIndex ?? '?'})`
    : 'no member survives: restore from your latest snapshot (etcd-snapshot-dir)';
  return {
    problem: `etcd of ${state.names.master} has no quorum: ${who} (${state.etcd.error ?? 'no quorum read succeeded'}); repair changes nothing without a quorum, since replacing a member needs one. If this runner simply cannot reach the replicas, fix that first (transport, firewall)`,
    fix: best
      ? `${from}; run operation: recover with confirm: ${state.names.master} and etcd-snapshot-dir (it snapshots that member, rebuilds etcd from it and adds the others back one at a time), or recover by hand (docs/troubleshooting.md, "etcd lost quorum")`
      : `${from} (docs/troubleshooting.md, "etcd lost quorum")`,
  };
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}
