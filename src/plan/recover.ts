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
// When no member answers at all, `restore-from` names a snapshot in Cloud Storage instead: the record
// (phase `s`) names the replica that restores it (the master when it runs, else another running
// one, else a new master), every other VM goes, and that replica gets `etcd-restore-from` and a
// reset: it downloads that version of the snapshot, checks its MD5 and restores it into a new
// one-member cluster. Steps 3-4 follow as above.
import type { ClusterNames, ClusterState, Intent, PlanResult, RestoreSource } from '../model.ts';
import { memberIdHex } from '../model.ts';
import { count } from '../words.ts';
import { liveReplicas } from './view.ts';
import type { ClusterView } from './view.ts';

export const RECOVERY_LABEL = 'ha-masters-recovery';

export interface Recovery {
  survivor: string;
  /** Replicas before the recovery: the count it restores. */
  count: number;
  /**
   * `p`: prepared (the others go, then the survivor is forced); `s`: restoring a snapshot (the others
   * go, then `survivor` restores it); `f`: etcd serves again (replicas come back).
   */
  phase: 'p' | 's' | 'f';
}

export function decodeRecovery(names: ClusterNames, labels: Record<string, string> | undefined): Recovery | undefined {
  const m = /^(m|[0-9a-f]{3})_(\d{1,2})_([psf])$/.exec(labels?.[RECOVERY_LABEL] ?? '');
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
    if (!survivor) return intent.restore ? startRestore(intent, view, intent.restore) : noSurvivor(state);
    if (intent.restore) {
      return {
        type: 'refuse',
        problem: `etcd member ${survivor.memberName} on ${survivor.vm} still answers (applied index ${survivor.index}): its data is newer than a snapshot, so ${gsUrl(intent.restore)} is not restored`,
        fix: `run recover without restore-from to rebuild etcd from ${survivor.vm}; to roll back to the snapshot anyway, stop ${survivor.vm} first (gcloud compute instances stop ${survivor.vm})`,
        nothingChanged: true,
      };
    }
    const replicas = liveReplicas(view).length;
    const entry: Recovery = { survivor: survivor.vm, count: intent.replicas ?? Math.max(1, replicas), phase: 'p' };
    const lost = state.etcd.members.filter((m) => m.dbSize === undefined).map((m) => m.name || memberIdHex(m.id));
    return step(
      { kind: 'writeRecovery', record: entry },
      `etcd has no quorum: rebuild it from ${survivor.vm} (member ${survivor.memberName}, the highest applied index, ${survivor.index}), then add ${count(entry.count - 1, 'replica')} back; taken as lost, since they do not answer: ${lost.join(', ') || 'none'}`,
    );
  }
  if (record.phase === 's') return continueRestore(intent, view, record);
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
export function recoverCount(intent: Intent, view: ClusterView, addOne: () => PlanResult): PlanResult {
  const { state } = view;
  const record = decodeRecovery(state.names, state.address?.labels);
  if (!record) {
    return {
      type: 'done',
      reason: `etcd of ${state.names.master} has its quorum: nothing to recover (operation: repair replaces unhealthy replicas)${intent.restore ? `; ${gsUrl(intent.restore)} was not restored, which would roll the cluster's data back` : ''}`,
    };
  }
  if (liveReplicas(view).length < record.count) return addOne();
  return step(
    { kind: 'writeRecovery' },
    `recovered: ${count(record.count, 'replica')} again, rebuilt from ${record.survivor}; the recovery record goes`,
  );
}

const gsUrl = (source: RestoreSource): string => `gs://${source.bucket}/${source.object}`;

function noSurvivor(state: ClusterState): PlanResult {
  return {
    type: 'refuse',
    problem: `no etcd member of ${state.names.master} answers, so none can be rebuilt from: ${state.etcd.error ?? 'no member answered'}`,
    fix: `start the stopped master VMs if any (etcd comes back by itself); if every member is lost, restore a snapshot: set restore-from: gs://<bucket>/<snapshot.db> (docs/troubleshooting.md, "etcd lost quorum")`,
    nothingChanged: true,
  };
}

/** Where a restore goes: the master when it runs, else the first running replica, else a new master. */
function restoreTarget(state: ClusterState): string {
  const running = state.replicas.filter((r) => r.status === 'RUNNING').map((r) => r.name);
  if (running.includes(state.names.master)) return state.names.master;
  return running.sort()[0] ?? state.names.master;
}

function startRestore(intent: Intent, view: ClusterView, source: RestoreSource): PlanResult {
  const { state } = view;
  if (!source.generation) {
    // main.ts reads the object before planning; a plan without its version would restore whatever is there later.
    return {
      type: 'refuse',
      problem: `the version of ${gsUrl(source)} was not read`,
      fix: 'this is a bug in ha-masters: please report it',
      nothingChanged: true,
    };
  }
  const target = restoreTarget(state);
  const entry: Recovery = { survivor: target, count: intent.replicas ?? Math.max(1, liveReplicas(view).length), phase: 's' };
  const exists = state.replicas.some((r) => r.name === target);
  const lost = state.etcd.members.map((m) => m.name || memberIdHex(m.id));
  return step(
    { kind: 'writeRecovery', record: entry },
    `no etcd member answers: restore etcd from ${gsUrl(source)} (generation ${source.generation}${source.size !== undefined ? `, ${source.size} bytes` : ''}) onto ${exists ? target : `a new ${target}`}, then add ${count(entry.count - 1, 'replica')} back; every other replica VM goes${lost.length ? ` (lost members: ${lost.join(', ')})` : ''}`,
  );
}

/** Phase `s`: the other VMs go, the target exists and runs with its member certificate, then it restores. */
function continueRestore(intent: Intent, view: ClusterView, record: Recovery): PlanResult {
  const { state } = view;
  const n = state.names;
  const source = intent.restore;
  if (!source?.generation) {
    return {
      type: 'refuse',
      problem: `a restore of ${n.master} from a snapshot onto ${record.survivor} is under way (label ${RECOVERY_LABEL} on ${n.address}), and this run names no snapshot`,
      fix: `re-run recover with the same restore-from (and confirm); to give the restore up, remove the label ${RECOVERY_LABEL} from the address ${n.address}`,
      nothingChanged: true,
    };
  }
  const creating = (status: string) => status === 'PROVISIONING' || status === 'STAGING';
  const other = state.replicas.find((r) => r.name !== record.survivor || !(r.status === 'RUNNING' || creating(r.status)));
  if (other) {
    return step(
      { kind: 'deleteReplica', replica: other.name, zone: other.zone },
      other.name === record.survivor
        ? `restore: ${other.name} is ${other.status}; it is made anew to take the snapshot`
        : `restore: ${other.name}'s etcd member is lost; it goes before ${record.survivor} restores the snapshot`,
    );
  }
  const target = state.replicas.find((r) => r.name === record.survivor);
  if (!target && state.forwardingRule) {
    return step(
      { kind: 'deleteForwardingRule' },
      `restore: ${n.address} goes back to the one master that restores the snapshot (its forwarding rule returns once two replicas vote)`,
    );
  }
  if (!target) {
    const zone =
      intent.zone ?? intent.zones[0] ?? state.zones.find((z) => z.region === state.region && z.status === 'UP')?.name ?? undefined;
    if (!zone) {
      return {
        type: 'refuse',
        problem: `no zone of region ${state.region ?? '(unknown)'} is UP to make ${record.survivor} in`,
        fix: 'set gce-zone to a zone that is up, then re-run',
        nothingChanged: true,
      };
    }
    return step(
      { kind: 'createReplica', replica: record.survivor, zone, first: true, seeds: [], request: `${intent.requestId}-s` },
      `restore: make ${record.survivor} in ${zone}; it restores the snapshot once it runs`,
    );
  }
  if (target.status !== 'RUNNING') {
    return step(
      { kind: 'waitRunning', replica: target.name, zone: target.zone },
      `restore: ${target.name} is being created (${target.status})`,
    );
  }
  if (!target.hasMemberCerts) {
    return step(
      { kind: 'setMemberCerts', replica: target.name, zone: target.zone },
      `restore: ${target.name} needs its etcd member certificate`,
    );
  }
  return step(
    { kind: 'restoreSnapshot', replica: target.name, zone: target.zone, nonce: intent.requestId, source },
    `restore: ${target.name} boots into a new one-member etcd cluster restored from ${gsUrl(source)} (generation ${source.generation})`,
  );
}
