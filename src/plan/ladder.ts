// plan(intent, state): the next safe step, "done", or a refusal. Pure: it reads one observed
// ClusterState and returns one decision; the engine applies it and observes again.
//
// The ladder, top rung first; the first rung with something to do wins:
//   1. teardown (down + delete-nodes) is its own ladder (teardown.ts)
//   2. refusals that need the observed state (no cluster, wrong region, unknown replica, ...)
//   3. base resources of a cluster being created or repaired: address, firewalls (and the IAP one
//      when the run goes through IAP), health check
//   3a. the ownership labels: pull request, repository, expiry (owner-labels.ts)
//   3b. a cluster made before Secret Manager: each replica's private keys leave its metadata
//   3c. repair only: an etcd NOSPACE alarm is reclaimed (compact, defragment, disarm) first
//   (recover, before 3a: quorum rebuilt from one survivor, recover.ts)
//   4. finish removals already started (journal `removing`): out of the pool, move the leader,
//      remove the member, delete the VM, delete its apiserver identity lease (rung 4a, for any
//      replica whose VM is gone), then mark the entry done
//   5. remove etcd members whose VM is gone (one per pass, only if quorum holds)
//   6. finish replicas that are joining: member certs, learner, promotion, readiness
//   7. the load balancer: built once two replicas vote, torn down when one is left
//   8. the request itself: create the first master, add a replica, start a removal, scale, roll a
//      release out (release.ts)
// Before all: a request older than what the journal can vouch for is refused (forgotten.ts).
// A refusal from rungs 3-8 while another request holds the cluster's lock becomes a wait for that
// lock (other-run.ts): what looks broken may be that run's change in flight.
import { ORPHAN_CONFIRM_MS, isTeardown, memberIdHex, peerUrl } from '../model.ts';
import { count } from '../words.ts';
import type { ClusterState, Intent, JournalEntry, PlanResult, Step } from '../model.ts';
import { journalFor } from './journal.ts';
import { newReplicaName } from './naming.ts';
import { canAddLearner, projectRemoval, quorumOf } from './quorum.ts';
import { planTeardown } from './teardown.ts';
import { staleIdentityLease } from './identity-leases.ts';
import { chooseVictim } from './victim.ts';
import { buildView, healthyVoters, isHealthyReplica, liveReplicas, unhealthyReason, voters } from './view.ts';
import type { ClusterView, ReplicaView } from './view.ts';
import { placeReplica, zoneProblem } from './placement.ts';
import { waitInsteadOfRefusing } from './other-run.ts';
import { forgottenRequest } from './forgotten.ts';
import { isJoiningInGrace, judgeRepairs, quorumLoss } from './repair.ts';
import { reclaimSpace } from './etcd-space.ts';
import { recoverCount, recoverQuorum } from './recover.ts';
import type { RepairCandidate } from './repair.ts';
import { mixedReleaseWarning, nextToRollOut, outdatedReplicas, releaseWords, rolloutProblem, soleRelease } from './release.ts';
import { mixedShapeWarnings, namedShapeWords, networkProblem, shapeDrift } from './shape.ts';
import { ownerLabelsRung } from './owner-labels.ts';

type Rung = PlanResult | undefined;

const step = (s: Step, reason: string): PlanResult => ({ type: 'step', step: s, reason });
const done = (reason: string): PlanResult => ({ type: 'done', reason });
const refuse = (problem: string, fix: string, nothingChanged = true): PlanResult => ({ type: 'refuse', problem, fix, nothingChanged });

export function plan(intent: Intent, state: ClusterState): PlanResult {
  if (intent.operation === 'status') return done('status only reads the cluster');
  const forgotten = forgottenRequest(intent, state);
  if (forgotten) return forgotten;
  if (isTeardown(intent)) return planTeardown(state);
  const view = buildView(state);
  // The engine streams the snapshot once the plan is done (run.ts): nothing is written to the cluster.
  if (intent.operation === 'snapshot') return refusalFromState(intent, view) ?? done('a snapshot writes nothing to the cluster');
  const fromState = (): PlanResult =>
    baseResources(intent, view) ??
    // Without quorum no other rung can work: a confirmed recovery restores it first (recover.ts).
    (intent.operation === 'recover' ? recoverQuorum(intent, view) : undefined) ??
    ownerLabelsRung(intent, state) ??
    moveKeys(view) ??
    staleIdentityLease(view) ??
    // Out of space, every member counts as sick: reclaim it before anything weighs quorum.
    (intent.repair ? reclaimSpace(state) : undefined) ??
    finishRemovals(view) ??
    removeOrphanMembers(intent, view) ??
    finishJoining(intent, view) ??
    loadBalancer(view) ??
    theRequest(intent, view);
  return refusalFromState(intent, view) ?? waitInsteadOfRefusing(intent, state, fromState());
}

/** Zones the cluster can use: the cluster's region, UP. */
function zonesOfRegion(state: ClusterState): string[] {
  return state.zones.filter((z) => z.region === state.region && z.status === 'UP').map((z) => z.name);
}

function refusalFromState(intent: Intent, view: ClusterView): Rung {
  const { state } = view;
  const hasCluster = state.address !== undefined || state.replicas.length > 0;
  const creating = intent.operation === 'up' && !intent.replicate;
  if (!hasCluster && creating && !intent.zone && intent.zones.length === 0) {
    return refuse(
      `there is no cluster ${state.names.master} yet, and no zone to create its first master in`,
      `set gce-zone (KUBE_GCE_ZONE) to the zone of the first master`,
    );
  }
  if (!hasCluster && !creating) {
    return refuse(
      `no cluster "${state.names.master}" was found in project ${state.project}${state.region ? ` (region ${state.region})` : ''}: there is no address ${state.names.address} and no replica VM`,
      `create it first with operation: up (without replicate-existing-master), or check instance-prefix, project and gce-zone`,
    );
  }
  if (intent.zone) {
    const zone = state.zones.find((z) => z.name === intent.zone);
    if (!zone) {
      return refuse(
        `zone ${intent.zone} does not exist in project ${state.project}`,
        `set gce-zone to one of: ${state.zones.map((z) => z.name).join(', ')}`,
      );
    }
    if (state.region && zone.region !== state.region && hasCluster) {
      return refuse(
        `zone ${intent.zone} is in region ${zone.region}, but cluster ${state.names.master} lives in region ${state.region} (its address, target pool and forwarding rule are regional)`,
        `pick a zone of ${state.region}: ${zonesOfRegion(state).join(', ')}`,
      );
    }
  }
  for (const z of intent.zones) {
    const zone = state.zones.find((x) => x.name === z);
    if (!zone)
      return refuse(`zone ${z} (in zones) does not exist`, `list zones of region ${state.region}: ${zonesOfRegion(state).join(', ')}`);
    if (state.region && zone.region !== state.region) {
      return refuse(
        `zone ${z} (in zones) is in region ${zone.region}, not in the cluster's region ${state.region}`,
        `list zones of ${state.region} only`,
      );
    }
  }
  return undefined;
}

function baseResources(intent: Intent, view: ClusterView): Rung {
  const { state } = view;
  const n = state.names;
  if (!state.address) {
    // Only `up` creates a cluster; other operations were refused above when there is none.
    if (intent.operation !== 'up') return undefined;
    return step({ kind: 'createAddress' }, `reserve the static IP ${n.address} that kubelets and users will reach`);
  }
  for (const fw of [n.firewallHttps, n.firewallEtcd, n.firewallHealthChecks]) {
    if (!state.firewalls.includes(fw)) return step({ kind: 'createFirewall', name: fw }, `firewall ${fw} is missing`);
  }
  // A run through IAP reaches etcd and the apiservers only with this rule (a cluster made from a
  // self-hosted runner gets it the first time a hosted one manages it).
  if (intent.transport === 'iap' && !state.firewalls.includes(n.firewallIap)) {
    return step(
      { kind: 'createFirewall', name: n.firewallIap },
      `firewall ${n.firewallIap} is missing: this run reaches the replicas through IAP`,
    );
  }
  if (!state.healthCheck) {
    return step(
      { kind: 'createHealthCheck' },
      `health check ${n.healthCheck} is missing (made early so the load balancer can be built without delay)`,
    );
  }
  return undefined;
}

/**
 * Keys in metadata are readable by anyone with compute.instances.get: they move before anything
 * else changes (a new replica is made only from keys in Secret Manager). One replica per step;
 * its processes keep running, since only the metadata changes.
 */
function moveKeys(view: ClusterView): Rung {
  const { state } = view;
  for (const name of state.inlineKeys) {
    const r = state.replicas.find((x) => x.name === name);
    if (!r) continue;
    return step(
      { kind: 'moveKeys', replica: name, zone: r.zone },
      `the metadata of ${name} holds private keys that anyone who may read the instance can see`,
    );
  }
  return undefined;
}

function finishRemovals(view: ClusterView): Rung {
  const { state } = view;
  for (const entry of view.removals) {
    const r = view.replicas.find((x) => x.name === entry.replica);
    if (!r || (!r.vm && !r.member)) {
      return step(
        { kind: 'writeJournal', entry: { ...entry, phase: 'done' } },
        `replica ${entry.replica} is gone: record request ${entry.request} as done`,
      );
    }
    if (r.vm && r.vm.inTargetPool && state.targetPool) {
      return step(
        { kind: 'removeFromTargetPool', replica: r.name, zone: r.vm.zone },
        `take ${r.name} out of the load balancer before it leaves`,
      );
    }
    if (r.member) {
      const others = voters(state).filter((m) => m.id !== r.member!.id);
      if (!r.member.isLearner && others.length === 0) {
        return refuse(
          `${r.name} holds the last etcd voting member`,
          `to delete the whole cluster use operation: down with delete-nodes: true`,
          false,
        );
      }
      if (r.member.isLeader) {
        const target = bestLeaderCandidate(view, r.member.id);
        if (target) {
          return step(
            { kind: 'moveLeader', fromId: r.member.id, toId: target.id },
            `${r.name} leads etcd: hand leadership to ${target.name} first so writes do not stall`,
          );
        }
      }
      if (!r.member.isLearner) {
        const p = projectRemoval(state.etcd.members, r.member.id);
        if (!p.ok) {
          return refuse(
            `removing the etcd member of ${r.name} is not safe: ${p.explanation}`,
            `bring the unhealthy replicas back first (or replace them one at a time), then re-run; the journal keeps this removal pending`,
            false,
          );
        }
      }
      return step(
        { kind: 'removeMember', memberId: r.member.id, memberName: r.member.name || r.name },
        `remove ${r.name} from etcd while the rest keep quorum`,
      );
    }
    if (r.vm) {
      return step({ kind: 'deleteReplica', replica: r.name, zone: r.vm.zone }, `delete VM ${r.name} and its disks`);
    }
  }
  return undefined;
}

/** Highest applied index among healthy voters other than `exceptId`; newest VM on ties. */
function bestLeaderCandidate(view: ClusterView, exceptId: string) {
  return healthyVoters(view.state)
    .filter((m) => m.id !== exceptId)
    .sort((a, b) => (b.appliedIndex ?? 0) - (a.appliedIndex ?? 0) || a.name.localeCompare(b.name))[0];
}

function removeOrphanMembers(intent: Intent, view: ClusterView): Rung {
  const { state } = view;
  if (!state.etcd.reachable) return undefined;
  const removingIds = new Set(view.replicas.filter((r) => r.removing).flatMap((r) => (r.member ? [r.member.id] : [])));
  for (const m of view.orphanMembers) {
    if (removingIds.has(m.id)) continue;
    const vmName = m.name.startsWith('etcd-') ? m.name.slice('etcd-'.length) : undefined;
    // A repair counts a member whose VM is gone as a replica lost: it leaves, and a successor is owed.
    if (intent.repair && vmName) {
      if (!state.confirmedOrphans?.includes(m.id)) {
        return step(
          { kind: 'pause', ms: ORPHAN_CONFIRM_MS, why: `etcd member ${m.name} has no VM` },
          `etcd member ${m.name} has no VM ${vmName}: look again in ${ORPHAN_CONFIRM_MS / 1000} s before acting on it (a VM list can lag)`,
        );
      }
      const tag = nextRoundTag(intent, state);
      const entry: JournalEntry = stamped(intent, {
        request: `${intent.requestId}-r${tag}`,
        replica: vmName,
        phase: 'removing',
        successorOwed: true,
        repairs: 1,
      });
      return step(
        { kind: 'writeJournal', entry },
        `VM ${vmName} of etcd member ${m.name} is gone (seen twice): record its removal, so that its member leaves and a successor is made`,
      );
    }
    const label = m.name || `unstarted member ${memberIdHex(m.id)} (${m.peerUrls.join(',')})`;
    if (!m.isLearner) {
      const p = projectRemoval(state.etcd.members, m.id);
      if (!p.ok) continue; // kept: removing it would cost quorum; reported as unhealthy
      if (m.isLeader) continue; // a leader without a VM cannot be: skip rather than guess
    }
    return step(
      { kind: 'removeMember', memberId: m.id, memberName: m.name || memberIdHex(m.id) },
      `etcd member ${label} has no VM: remove it so it stops counting towards quorum`,
    );
  }
  return undefined;
}

/** The first replace/repair round of this request that the journal does not know yet ('' for the first). */
function nextRoundTag(intent: Intent, state: ClusterState): string {
  for (let n = 0; ; n++) {
    const tag = n === 0 ? '' : String(n);
    if (!journalFor(state.journal, `${intent.requestId}-a${tag}`) && !journalFor(state.journal, `${intent.requestId}-r${tag}`)) return tag;
  }
}

function finishJoining(intent: Intent, view: ClusterView): Rung {
  const { state } = view;
  const live = liveReplicas(view);
  // The replica a request takes away is not finished first (a broken learner would be waited on).
  const leaving = intent.operation === 'replace' || intent.operation === 'down' ? intent.replicaName : undefined;
  for (const r of live) {
    if (r.name === leaving) continue;
    // A repair replaces a joiner past its grace period instead of waiting on it again.
    if (intent.repair && !isJoiningInGrace(intent.repair, state, r)) continue;
    const vm = r.vm!;
    if (vm.status !== 'RUNNING' || !vm.internalIp) continue;
    if (!vm.hasMemberCerts) {
      return step(
        { kind: 'setMemberCerts', replica: r.name, zone: vm.zone },
        `${r.name} waits for its etcd member certificate (issued for its internal IP ${vm.internalIp})`,
      );
    }
    if (!r.member) {
      const first = state.etcd.members.length === 0;
      if (first) {
        if (live.length === 1)
          return step({ kind: 'waitReady', replica: r.name, zone: vm.zone }, `${r.name} is starting a new one-member etcd cluster`);
        continue;
      }
      if (!state.etcd.reachable) {
        return refuse(
          `${r.name} cannot join etcd: ${state.etcd.error ?? 'no member answers with quorum'}`,
          `bring etcd back to quorum first`,
          false,
        );
      }
      const can = canAddLearner(state.etcd.members);
      if (!can.ok)
        return refuse(`${r.name} cannot join etcd yet: ${can.why}`, `replace or repair the unhealthy replica first, then re-run`, false);
      return step(
        { kind: 'addLearner', replica: r.name, zone: vm.zone, peerUrl: peerUrl(vm.internalIp) },
        `${r.name} joins etcd as a learner: it gets the data before it may vote`,
      );
    }
    if (r.member.isLearner) {
      return step(
        { kind: 'promoteLearner', replica: r.name, memberId: r.member.id },
        `promote ${r.name} to voter once it has caught up with the leader`,
      );
    }
  }
  return undefined;
}

function loadBalancer(view: ClusterView): Rung {
  const { state } = view;
  const n = state.names;
  const live = liveReplicas(view);
  const joined = live.filter((r) => r.member && !r.member.isLearner);
  const pool = state.targetPool;
  const rule = state.forwardingRule;
  const needed = joined.length >= 2;
  if (needed) {
    if (!pool) {
      return step(
        { kind: 'createTargetPool', instances: joined.map((r) => ({ name: r.name, zone: r.vm!.zone })) },
        `two replicas vote: build the target pool ${n.targetPool} with its health check before the IP moves`,
      );
    }
    const missing = joined.find((r) => !r.vm!.inTargetPool);
    if (missing)
      return step({ kind: 'addToTargetPool', replica: missing.name, zone: missing.vm!.zone }, `${missing.name} joins the load balancer`);
    if (!rule) {
      const holder = live.find((r) => r.vm!.hasStaticIp);
      if (holder) {
        return step(
          { kind: 'detachStaticIp', replica: holder.name, zone: holder.vm!.zone },
          `free ${n.address} from ${holder.name} so the forwarding rule can take it (the API is unreachable on it until the rule serves)`,
        );
      }
      return step({ kind: 'createForwardingRule' }, `forward TCP 443 on ${n.address} to the target pool`);
    }
    const bare = live.find((r) => r.vm!.status === 'RUNNING' && !r.vm!.externalIp);
    if (bare)
      return step(
        { kind: 'attachEphemeralIp', replica: bare.name, zone: bare.vm!.zone },
        `${bare.name} gets an ephemeral external IP back`,
      );
    return undefined;
  }
  // One replica (or none) left: the static IP goes back on it and the load balancer goes away.
  const joining = live.some((r) => !r.member || r.member.isLearner);
  if (live.length === 1 && !joining) {
    const last = live[0]!;
    if (rule)
      return step({ kind: 'deleteForwardingRule' }, `one replica left: delete forwarding rule ${n.forwardingRule} to free ${n.address}`);
    if (!last.vm!.hasStaticIp && last.vm!.status === 'RUNNING') {
      return step(
        { kind: 'attachStaticIp', replica: last.name, zone: last.vm!.zone },
        `put ${n.address} back on ${last.name}, the last replica`,
      );
    }
    if (pool) return step({ kind: 'deleteTargetPool' }, `one replica left: delete target pool ${n.targetPool}`);
  }
  return undefined;
}

function theRequest(intent: Intent, view: ClusterView): PlanResult {
  const result = requestedStep(intent, view);
  // A named release on a replica beside others: only a version step Kubernetes and etcd support; a
  // named network: only the cluster's.
  if (result.type === 'step' && result.step.kind === 'createReplica' && !result.step.first) {
    const restoring = intent.operation === 'repair' || intent.operation === 'recover';
    const skew = intent.release && !restoring ? rolloutProblem(view, intent.release) : undefined;
    if (skew) return refuse(`${result.step.replica} cannot join with ${releaseWords(intent.release!)}: ${skew.problem}`, skew.fix);
    const elsewhere = networkProblem(intent, view.state);
    if (elsewhere) return refuse(`${result.step.replica} cannot join: ${elsewhere.problem}`, elsewhere.fix);
  }
  return result;
}

function requestedStep(intent: Intent, view: ClusterView): PlanResult {
  switch (intent.operation) {
    case 'up':
      if (view.state.replicas.length === 0) return ensureFirstMaster(intent, view);
      if (intent.replicas !== undefined) return scaleTo(intent, view, intent.replicas);
      return intent.replicate ? addReplica(intent, view, intent.requestId, intent.zone) : ensureFirstMaster(intent, view);
    case 'down':
      return removeReplica(intent, view, intent.requestId);
    case 'replace':
      return replaceReplica(intent, view);
    case 'repair':
      return repairReplicas(intent, view);
    case 'recover':
      return recoverCount(intent, view, () => addReplica(intent, view, `${intent.requestId}-n${liveReplicas(view).length + 1}`, undefined));
    case 'rollout':
      return rolloutRelease(intent, view);
    case 'status':
      return done('status only reads the cluster');
    case 'snapshot':
      return done('a snapshot writes nothing to the cluster');
  }
}

function ensureFirstMaster(intent: Intent, view: ClusterView): PlanResult {
  const { state } = view;
  if (state.replicas.length === 0) {
    const zone = intent.zone ?? intent.zones[0];
    if (!zone) return refuse(`no zone to create the first master in`, `set gce-zone (KUBE_GCE_ZONE)`);
    return step(
      { kind: 'createReplica', replica: state.names.master, zone, first: true, seeds: [] },
      `create the first master ${state.names.master} in ${zone} with the static IP and a one-member etcd`,
    );
  }
  const live = liveReplicas(view);
  const only = live.length === 1 ? live[0]! : undefined;
  if (only?.vm && only.vm.status === 'RUNNING' && (!isHealthyReplica(only) || only.vm.apiserverReady !== true)) {
    return step(
      { kind: 'waitReady', replica: only.name, zone: only.vm.zone },
      `wait until ${only.name} serves: ${unhealthyReason(only) ?? 'its apiserver is not ready yet'}`,
    );
  }
  return done(`cluster ${state.names.master} exists with ${count(state.replicas.length, 'replica')}`);
}

/**
 * Add one replica for `request`: in `zone` when the user named it, else where placement.ts puts it
 * (`preferred` first: the zone of the replica it succeeds).
 */
function addReplica(
  intent: Intent,
  view: ClusterView,
  request: string,
  zone: string | undefined,
  preferred?: string,
  leaving?: string,
  repairs?: number,
): PlanResult {
  const { state } = view;
  const entry = journalFor(state.journal, request);
  if (entry?.phase === 'done') return done(`request ${request} already added ${entry.replica}`);
  const own = view.replicas.find((r) => r.vm?.request === request);
  if (own) {
    if (isBeingCreated(own))
      return step(
        { kind: 'waitRunning', replica: own.name, zone: own.vm!.zone },
        `${own.name}, made by this request, is still being created (${own.vm!.status}): wait until it runs`,
      );
    if (!own.vm || own.vm.status !== 'RUNNING') {
      return refuse(
        `the replica ${own.name} this request created is ${own.vm?.status ?? 'gone'}`,
        `remove it (operation: down, delete-nodes: false, replica-name: ${own.name}) or start it, then re-run`,
        false,
      );
    }
    if (!isHealthyReplica(own))
      return step({ kind: 'waitReady', replica: own.name, zone: own.vm.zone }, `wait for ${own.name}: ${unhealthyReason(own)}`);
    return step(
      { kind: 'writeJournal', entry: stamped(intent, { request, replica: own.name, phase: 'done', zone: own.vm.zone }) },
      `${own.name} serves: record request ${request} as done`,
    );
  }
  const preflight = preflightForChange(view, leaving);
  if (preflight) return preflight;
  const live = liveReplicas(view);
  const named = zone ? zoneProblem(state, zone) : undefined;
  if (named)
    return refuse(
      `gce-zone ${zone} cannot take a new replica: ${named}`,
      `set gce-zone to another zone of ${state.region} (${zonesOfRegion(state).join(', ')}), or leave it empty to let the zone with fewest replicas take it`,
    );
  const placed = zone
    ? { zone }
    : placeReplica(
        intent,
        state,
        live.map((r) => r.zone!),
        preferred,
      );
  if (placed.zone === undefined) return refuse(placed.why, noPlaceFix(intent), true);
  const target = placed.zone;
  const taken = [...state.replicas.map((r) => r.name), ...state.etcd.members.map((m) => m.name.replace(/^etcd-/, ''))];
  const name = newReplicaName(state.names, taken, request);
  return step(
    {
      kind: 'createReplica',
      replica: name,
      zone: target,
      first: false,
      seeds: live.map((r) => r.name),
      request,
      ...(repairs !== undefined ? { repairs } : {}),
      ...(leaving ? { replaces: leaving } : {}),
    },
    `add replica ${name} in ${target}; it joins etcd as a learner once its VM runs`,
  );
}

function isBeingCreated(r: ReplicaView): boolean {
  return r.vm?.status === 'PROVISIONING' || r.vm?.status === 'STAGING';
}

/** No new change starts while etcd is unreadable, a learner waits, or a voter is sick (`leaving`, the replica a replace swaps out, excepted). */
function preflightForChange(view: ClusterView, leaving?: string): PlanResult | undefined {
  const { state } = view;
  if (!state.etcd.reachable) {
    return refuse(
      `etcd of ${state.names.master} cannot be read with quorum: ${state.etcd.error ?? 'no member answers'}`,
      `repair the cluster first; check the replicas' VMs in the summary`,
    );
  }
  const sick = liveReplicas(view).filter((r) => r.name !== leaving && !isHealthyReplica(r));
  // A VM still being created is a replica in flight: GCE finishes the insert even when the run that
  // asked for it stopped, so wait until it runs; the joining rungs then finish it.
  const creating = sick.find((r) => isBeingCreated(r));
  if (creating) {
    return step(
      { kind: 'waitRunning', replica: creating.name, zone: creating.vm!.zone },
      `${creating.name} is still being created (its VM is ${creating.vm!.status}${creating.vm!.request ? `, made by request ${creating.vm!.request}` : ''}): wait until it runs, then let it join`,
    );
  }
  if (sick.length) {
    const list = sick.map((r) => `${r.name} (${unhealthyReason(r)})`).join(', ');
    return refuse(
      `not every replica is healthy: ${list}`,
      `replace the unhealthy replica first (operation: replace, replica-name: ${sick[0]!.name}), then re-run`,
    );
  }
  return undefined;
}

function removeReplica(intent: Intent, view: ClusterView, request: string): PlanResult {
  const { state } = view;
  const entry = journalFor(state.journal, request);
  if (entry?.phase === 'done') return done(`request ${request} already removed ${entry.replica}`);
  if (entry) return done(`removal of ${entry.replica} is in progress`); // finishRemovals owns it
  const victim = pickNamedOrZoneVictim(intent, view, false);
  if ('type' in victim) return victim;
  return startRemoval(intent, view, request, victim);
}

/** `entry` with this request's sequence, so that dropping it later raises the journal's floor. */
function stamped(intent: Intent, entry: JournalEntry): JournalEntry {
  return intent.requestSeq === undefined ? entry : { ...entry, seq: intent.requestSeq };
}

function noPlaceFix(intent: Intent): string {
  if (intent.repair?.zonePolicy === 'same') {
    return "re-run once the zone is UP again or has capacity, or set repair-zone-policy: spread to let the region's zone with fewest replicas take the replacement";
  }
  return `re-run with the same inputs once a zone is UP again or has capacity (a new run tries every zone again)${intent.zones.length ? ', or list more zones of the region in zones' : ''}`;
}

/**
 * `repair`: replace each unhealthy replica that the guards allow (repair.ts), one at a time while
 * quorum holds, through the replace ladder; nothing when all is well. Lost quorum and a replica
 * past its retry limit are refused with what to do.
 */
function repairReplicas(intent: Intent, view: ClusterView): PlanResult {
  const lost = quorumLoss(view.state);
  if (lost) return refuse(lost.problem, lost.fix);
  const verdict = judgeRepairs(intent, view);
  if (verdict.exhausted && verdict.candidates.length === 0) {
    return refuse(
      `repair gives up on ${verdict.exhausted.why}`,
      `find out why its replacements fail (its serial console, the start-up script's guest attribute), fix that, then replace it by hand (operation: replace, replica-name: ${verdict.exhausted.name}); raise repair-max-retries only if the cause is gone`,
    );
  }
  const result = replaceReplica(intent, view, verdict.candidates);
  if (result.type !== 'done') return result;
  if (verdict.exhausted)
    return refuse(
      `repair gives up on ${verdict.exhausted.why}`,
      `find out why its replacements fail, fix that, then replace it by hand (operation: replace, replica-name: ${verdict.exhausted.name})`,
      false,
    );
  const held = verdict.held.map((h) => `${h.name}: ${h.why}`);
  if (held.length) return done(`${result.reason}; left alone this run: ${held.join('; ')}`);
  return result.reason.startsWith('every replica') ? done('every replica is healthy: nothing to repair') : result;
}

/**
 * `rollout`: each live replica that differs from what the run names (a release; a machine type, data
 * disk size or service account) is replaced, one at a time, by one that has it, in its zone and
 * added before it leaves (replaceReplica's rounds). What the run does not name stays as the cluster
 * has it. A round starts only while every replica is healthy and the version step is one Kubernetes
 * and etcd take.
 */
function rolloutRelease(intent: Intent, view: ClusterView): PlanResult {
  const target = intent.release ?? soleRelease(view);
  if (!target) {
    return refuse(
      `the replicas of ${view.state.names.master} run different releases (or some record none), and the run names none to roll out`,
      'set kubernetes-version and etcd-version, or release-manifest, to the release they should all run',
    );
  }
  const skew = rolloutProblem(view, target) ?? networkProblem(intent, view.state);
  if (skew) return refuse(skew.problem, skew.fix);
  // Another release, or another machine type, disk size or service account than the run names.
  const outdated = outdatedReplicas(view, target, (r) => shapeDrift(intent, r).length > 0);
  const unhealthy = liveReplicas(view).filter((r) => !isHealthyReplica(r));
  const next = unhealthy.length > 0 ? undefined : nextToRollOut(outdated);
  const candidates = next ? [{ replica: next }] : [];
  const result = replaceReplica(intent, view, candidates);
  if (result.type !== 'done') return result;
  const replaced = result.reason.startsWith('replaced ') ? `${result.reason}; ` : '';
  if (outdated.length > 0) {
    const sick = unhealthy.map((r) => `${r.name} (${unhealthyReason(r)})`).join(', ');
    return refuse(
      `${replaced}${count(outdated.length, 'replica')} still to roll out (${outdated.map((r) => r.name).join(', ')}), but ${sick} ${unhealthy.length === 1 ? 'is' : 'are'} not healthy: a rollout replaces healthy replicas only, so that each step keeps etcd's quorum`,
      'repair the cluster first (operation: repair), then run the rollout again',
      replaced === '',
    );
  }
  const shape = namedShapeWords(intent);
  return done(`${replaced}every replica runs ${releaseWords(target)}${shape ? ` with ${shape}` : ''}`);
}

/** `successorOwed`: a replace removes it before its successor exists (the journal keeps the debt). */
function startRemoval(
  intent: Intent,
  view: ClusterView,
  request: string,
  victim: ReplicaView,
  successorOwed = false,
  repairs?: number,
): PlanResult {
  const { state } = view;
  const others = liveReplicas(view).filter((r) => r.name !== victim.name);
  if (others.length === 0) {
    return refuse(
      `${victim.name} is the last replica of ${state.names.master}`,
      `to delete the whole cluster use operation: down with delete-nodes: true`,
    );
  }
  if (victim.member && !victim.member.isLearner) {
    if (!state.etcd.reachable) return refuse(`etcd cannot be read with quorum: ${state.etcd.error ?? ''}`, `repair etcd first`);
    const p = projectRemoval(state.etcd.members, victim.member.id);
    if (!p.ok) {
      return refuse(`removing ${victim.name} would break etcd quorum: ${p.explanation}`, `repair or replace the unhealthy replicas first`);
    }
  }
  const entry: JournalEntry = stamped(intent, { request, replica: victim.name, phase: 'removing' });
  if (victim.zone) entry.zone = victim.zone;
  if (successorOwed) entry.successorOwed = true;
  if (repairs !== undefined) entry.repairs = repairs;
  return step(
    { kind: 'writeJournal', entry },
    `record that request ${request} removes ${victim.name}, so that a re-run finishes this removal and no other`,
  );
}

/** replica-name (must exist, in gce-zone, of this cluster) or a replica in gce-zone. */
function pickNamedOrZoneVictim(intent: Intent, view: ClusterView, unhealthyOnly: boolean): ReplicaView | PlanResult {
  const { state } = view;
  const n = state.names;
  if (intent.replicaName) {
    const r = findNamedReplica(view, intent.replicaName);
    if (!r) {
      const known = view.replicas.map((x) => `${x.name} (${x.zone ?? 'no VM'})`).join(', ') || 'none';
      return refuse(
        `replica ${intent.replicaName} of ${n.master} was not found (no VM and no etcd member by that name)`,
        `replicas are: ${known}`,
      );
    }
    if (intent.zone && r.zone && r.zone !== intent.zone) {
      return refuse(`replica ${r.name} is in zone ${r.zone}, not in gce-zone ${intent.zone}`, `set gce-zone: ${r.zone}, or leave it empty`);
    }
    return r;
  }
  if (!intent.zone)
    return refuse(
      `neither replica-name nor gce-zone says which replica to act on`,
      `set replica-name (KUBE_REPLICA_NAME) or gce-zone (KUBE_GCE_ZONE)`,
    );
  const inZone = liveReplicas(view).filter((r) => r.zone === intent.zone && (!unhealthyOnly || !isHealthyReplica(r)));
  if (inZone.length === 0) {
    const where = liveReplicas(view)
      .map((r) => `${r.name} (${r.zone})`)
      .join(', ');
    return refuse(
      unhealthyOnly ? `no unhealthy replica in zone ${intent.zone}` : `no replica of ${n.master} in zone ${intent.zone}`,
      unhealthyOnly
        ? `name the replica to replace with replica-name; replicas are: ${where}`
        : `pick a zone that has one, or set replica-name; replicas are: ${where}`,
    );
  }
  return chooseVictim(inZone, liveReplicas(view))!;
}

/** The replica by VM name, or by its etcd member's name when its VM is already gone. */
function findNamedReplica(view: ClusterView, name: string): ReplicaView | undefined {
  const r = view.replicas.find((x) => x.name === name);
  if (r) return r;
  const m = view.orphanMembers.find((x) => x.name === `etcd-${name}`);
  return m ? { name, member: m, removing: false } : undefined;
}

/**
 * replace: the named replica, or every unhealthy one (in gce-zone, when given). Round i keeps two
 * journal entries, `<request>-r<i>` (removal) and `<request>-a<i>` (addition). No replica leaves
 * before placement.ts knows a zone for its successor (its own zone when that can take one, else the
 * zone with fewest replicas). A healthy named replica gives way only after its successor serves, so
 * quorum never shrinks; broken replicas all leave before successors come (etcd refuses to add a
 * member while any voter is down). With no zone for the successor a replica stays, unless it is
 * dead and its leaving lowers the quorum etcd needs. A removal whose successor is still owed says so
 * in the journal (`successorOwed`): a re-run, or any later replace, makes that successor.
 */
function replaceReplica(intent: Intent, view: ClusterView, repairCandidates?: RepairCandidate[]): PlanResult {
  const { state } = view;
  interface Round {
    addReq: string;
    rmReq: string;
    added?: JournalEntry;
    removed?: JournalEntry;
    addingVm?: ReplicaView;
  }
  const rounds: Round[] = [];
  let next = 0;
  for (; next < 64; next++) {
    const tag = next === 0 ? '' : String(next);
    const r: Round = { addReq: `${intent.requestId}-a${tag}`, rmReq: `${intent.requestId}-r${tag}` };
    r.added = journalFor(state.journal, r.addReq);
    r.removed = journalFor(state.journal, r.rmReq);
    r.addingVm = view.replicas.find((x) => x.vm?.request === r.addReq);
    if (!r.added && !r.removed && !r.addingVm) break;
    rounds.push(r);
  }
  const nextTag = next === 0 ? '' : String(next);
  // 1. A successor already being built (add-first round, or the add after a removal): finish it.
  for (const r of rounds) {
    if (r.addingVm && r.added?.phase !== 'done') return addReplica(intent, view, r.addReq, r.addingVm.zone);
  }
  // 2. An add-first round whose successor serves: now the replica it replaces leaves (the named
  // one, or the one its successor's label names).
  for (const r of rounds) {
    if (r.added?.phase !== 'done' || r.removed) continue;
    const replaced = intent.replicaName ?? view.replicas.find((x) => x.name === r.added!.replica)?.vm?.replaces;
    const victim = replaced ? findNamedReplica(view, replaced) : undefined;
    if (victim) return startRemoval(intent, view, r.rmReq, victim);
  }
  // 3. Start the next round while there is something left to replace.
  if (intent.replicaName) {
    if (rounds.length === 0) {
      const victim = findNamedReplica(view, intent.replicaName);
      if (!victim) {
        const owed = owedSuccessor(intent, view);
        if (owed) return owed;
        if (!intent.zone) return pickNamedOrZoneVictim(intent, view, true) as PlanResult;
        // Already gone entirely (no VM, no member): only the add remains, in its zone when it can.
        return addReplica(intent, view, `${intent.requestId}-a`, undefined, intent.zone);
      }
      if (intent.zone && victim.zone && victim.zone !== intent.zone) {
        return refuse(
          `replica ${victim.name} is in zone ${victim.zone}, not in gce-zone ${intent.zone}`,
          `set gce-zone: ${victim.zone}, or leave it empty`,
        );
      }
      return replaceOne(intent, view, victim, `${intent.requestId}-a`, `${intent.requestId}-r`, true);
    }
  } else {
    const candidates = repairCandidates?.map((c) => c.replica) ?? unhealthyCandidates(intent, view);
    if (candidates.length > 0) {
      const victim = chooseVictim(candidates, liveReplicas(view))!;
      const repairs = repairCandidates?.find((c) => c.replica.name === victim.name)?.repairs;
      return replaceOne(intent, view, victim, `${intent.requestId}-a${nextTag}`, `${intent.requestId}-r${nextTag}`, false, repairs);
    }
  }
  // 4. Successors for the replicas that left.
  for (const r of rounds) {
    if (r.removed?.phase === 'done' && r.added?.phase !== 'done') return makeSuccessor(intent, view, r.removed, r.addReq);
  }
  // 5. Successors an earlier replace still owes (its replica left, no zone could take the next one).
  const owed = owedSuccessor(intent, view);
  if (owed) return owed;
  const pairs = rounds.filter((r) => r.added && r.removed).map((r) => `${r.removed!.replica} -> ${r.added!.replica}`);
  if (pairs.length) return done(`${intent.operation === 'repair' ? 'repaired' : 'replaced'} ${pairs.join(', ')}`);
  return done(`every replica${intent.zone ? ` in zone ${intent.zone}` : ''} is healthy: nothing to replace`);
}

/**
 * The first step of one round. The successor comes first when etcd can take it while the victim
 * still votes: a healthy victim, or, named or under repair, one whose member answers (its apiserver
 * may be down); the successor's `ha-masters-replaces` label then tells which replica leaves once it
 * serves, and no zone means nothing happens. Otherwise the victim leaves first, once a zone can take
 * its successor.
 */
function replaceOne(
  intent: Intent,
  view: ClusterView,
  victim: ReplicaView,
  addReq: string,
  rmReq: string,
  named: boolean,
  repairs?: number,
): PlanResult {
  const { state } = view;
  const others = liveReplicas(view).filter((r) => r.name !== victim.name);
  const placed = placeReplica(
    intent,
    state,
    others.map((r) => r.zone!),
    victim.zone,
  );
  const votesAndAnswers = !isDead(victim) && !victim.member!.isLearner;
  // A voter that still answers (its apiserver failing, say) keeps voting until its successor votes:
  // the one a user names, and every one repair replaces.
  if (isHealthyReplica(victim) || ((named || intent.repair !== undefined) && votesAndAnswers && canAddLearner(state.etcd.members).ok)) {
    if (placed.zone === undefined) return refuse(`${placed.why}; ${victim.name} stays until its successor has a place`, noPlaceFix(intent));
    return addReplica(intent, view, addReq, undefined, victim.zone, victim.name, repairs);
  }
  if (placed.zone !== undefined) return startRemoval(intent, view, rmReq, victim, true, repairs);
  if (isDead(victim) && leavingLowersQuorum(state, victim)) return startRemoval(intent, view, rmReq, victim, true, repairs);
  return refuse(
    `${placed.why}; ${victim.name} (${unhealthyReason(victim) ?? 'unhealthy'}) stays until its successor has a place${isDead(victim) ? ': removing it first would not let etcd tolerate one more failure' : ''}`,
    noPlaceFix(intent),
  );
}

/** Its VM does not run, or its etcd member does not answer. */
function isDead(r: ReplicaView): boolean {
  return r.vm?.status !== 'RUNNING' || !r.member || !r.member.healthy;
}

/** Without `victim`'s vote etcd needs fewer members for quorum (or it has no vote to lose). */
function leavingLowersQuorum(state: ClusterState, victim: ReplicaView): boolean {
  if (!victim.member || victim.member.isLearner) return true;
  const n = voters(state).length;
  return quorumOf(n - 1) < quorumOf(n);
}

/** The successor of `removed` (request `addReq`), in its zone when that can take one. */
function makeSuccessor(intent: Intent, view: ClusterView, removed: JournalEntry, addReq: string): PlanResult {
  const live = liveReplicas(view);
  const placed = placeReplica(
    intent,
    view.state,
    live.map((r) => r.zone!),
    removed.zone ?? intent.zone,
  );
  if (placed.zone === undefined) {
    return refuse(
      `${removed.replica} has left (request ${removed.request}), but its successor cannot be made yet: ${placed.why}`,
      `${noPlaceFix(intent)}: the journal keeps the successor owed, and a re-run or any later replace makes it`,
    );
  }
  return addReplica(intent, view, addReq, undefined, removed.zone ?? intent.zone, undefined, removed.repairs);
}

/** A successor another replace request still owes: `<id>-r<k>` done with `successorOwed`, `<id>-a<k>` not done. */
function owedSuccessor(intent: Intent, view: ClusterView): PlanResult | undefined {
  for (const e of view.state.journal) {
    const m = /^(.+)-r(\d*)$/.exec(e.request);
    if (!m || !e.successorOwed || e.phase !== 'done') continue;
    const addReq = `${m[1]}-a${m[2]}`;
    if (journalFor(view.state.journal, addReq)?.phase === 'done') continue;
    const building = view.replicas.find((x) => x.vm?.request === addReq);
    if (building) return addReplica(intent, view, addReq, building.vm!.zone);
    return makeSuccessor(intent, view, e, addReq);
  }
  return undefined;
}

function unhealthyCandidates(intent: Intent, view: ClusterView): ReplicaView[] {
  return liveReplicas(view).filter((r) => (!intent.zone || r.zone === intent.zone) && !isHealthyReplica(r));
}

function scaleTo(intent: Intent, view: ClusterView, wanted: number): PlanResult {
  const live = liveReplicas(view);
  if (live.length < wanted) {
    return addReplica(intent, view, `${intent.requestId}-n${live.length + 1}`, undefined);
  }
  if (live.length > wanted) {
    const preflight = preflightForRemoval(view);
    if (preflight) return preflight;
    const victim = chooseVictim(live, live)!;
    return startRemoval(intent, view, `${intent.requestId}-d${live.length}`, victim);
  }
  const zones = new Set(live.map((r) => r.zone));
  return done(`${count(live.length, 'replica')} in ${count(zones.size, 'zone')}, as asked`);
}

function preflightForRemoval(view: ClusterView): PlanResult | undefined {
  if (!view.state.etcd.reachable) return refuse(`etcd cannot be read with quorum: ${view.state.etcd.error ?? ''}`, `repair etcd first`);
  return undefined;
}

/** Warnings about the shape of the cluster after a run (even sizes, crowded zones). */
/** A certificate that runs out within this time is worth a warning on every run. */
const CERT_WARNING_MS = 30 * 86_400_000;

export function shapeWarnings(state: ClusterState): string[] {
  const view = buildView(state);
  const live = liveReplicas(view);
  const warnings: string[] = [];
  const expiry = state.certExpiry;
  if (expiry && Date.parse(expiry.notAfter) - Date.parse(state.observedAt) < CERT_WARNING_MS) {
    const replica = expiry.what.includes(' ') ? expiry.what.split(' ')[0] : undefined;
    const fix = replica
      ? `replace ${replica} before then (operation: replace, replica-name: ${replica}): a new replica gets certificates of its own`
      : 'it is shared by every replica, and ha-masters cannot rotate the shared certificates yet: plan a new cluster before then';
    warnings.push(`certificate ${expiry.what} of ${state.names.master} expires on ${expiry.notAfter.slice(0, 10)}; ${fix}.`);
  }
  const mixed = mixedReleaseWarning(state, view);
  if (mixed) warnings.push(mixed);
  warnings.push(
    ...mixedShapeWarnings(
      state,
      live.map((r) => r.vm!),
    ),
  );
  if (state.inlineKeys.length > 0) {
    warnings.push(
      `the metadata of ${state.inlineKeys.join(', ')} holds the cluster's private keys (made by an earlier version): anyone who may read the instances can read them. Run operation: up to move them to Secret Manager.`,
    );
  }
  if (live.length > 0 && live.length % 2 === 0) {
    warnings.push(
      `${state.names.master} has ${live.length} replicas, an even number: etcd needs ${quorumOf(live.length)} of them up to write, so it tolerates no more failures than ${live.length - 1} replicas would. Add or remove one.`,
    );
  }
  const region = state.region;
  const empty = state.zones
    .filter((z) => z.region === region && z.status === 'UP' && !live.some((r) => r.zone === z.name))
    .map((z) => z.name);
  if (empty.length) {
    const counts = new Map<string, number>();
    for (const r of live) counts.set(r.zone!, (counts.get(r.zone!) ?? 0) + 1);
    for (const [zone, count] of counts) {
      if (count >= 2) {
        warnings.push(
          `${count} replicas of ${state.names.master} are in zone ${zone} while ${empty.join(', ')} ha${empty.length > 1 ? 've' : 's'} none: losing ${zone} loses ${count} at once. Remove one there (operation: down, delete-nodes: false, gce-zone: ${zone}) and add one in ${empty[0]}.`,
        );
      }
    }
  }
  return warnings;
}
