// The expected effect of a step on the observed state, assuming it succeeds: what a dry run shows
// as the rest of the plan, and the ideal world the planner's sequence tests run in. Values GCE or
// etcd will choose (IPs, member ids) are placeholders named after the replica.
import { clientUrl, peerUrl } from '../model.ts';
import type { ClusterState, PlanResult, Step, Intent } from '../model.ts';
import { decodeJournal, withJournalEntry } from './journal.ts';
import { plan } from './ladder.ts';
import { RECOVERY_LABEL, decodeRecovery, encodeRecovery } from './recover.ts';
import { CLUSTER_LABEL, ownerLabels } from '../labels.ts';
import { releaseForNewReplica } from './release.ts';
import { shapeForNewReplica } from './shape.ts';

const placeholderIp = (vm: string) => `ip-of-${vm}`;
const placeholderId = (vm: string) => `member-of-${vm}`;

/** `intent`: the run's, which decides a new replica's release and shape (without it, neither is projected). */
export function projectStep(state: ClusterState, step: Step, intent?: Intent): ClusterState {
  const s: ClusterState = structuredClone(state);
  const n = s.names;
  const vm = (name: string) => s.replicas.find((r) => r.name === name);
  /** The recovery record's phase `f`: etcd serves again, replicas come back. */
  const recoveryServes = (): void => {
    const record = decodeRecovery(n, s.address?.labels);
    if (record && s.address) s.address.labels = { ...s.address.labels, [RECOVERY_LABEL]: encodeRecovery(n, { ...record, phase: 'f' }) };
  };
  const member = (name: string, ip: string, learner: boolean) => ({
    id: placeholderId(name),
    name: `etcd-${name}`,
    peerUrls: [peerUrl(ip)],
    clientUrls: [clientUrl(ip)],
    isLearner: learner,
    healthy: true,
    isLeader: false,
    alarms: [],
    appliedIndex: 0,
  });
  switch (step.kind) {
    case 'createAddress':
      s.address = {
        name: n.address,
        ip: `ip-of-${n.address}`,
        status: 'RESERVED',
        users: [],
        region: s.region ?? '',
        labels: { [CLUSTER_LABEL]: n.master },
      };
      break;
    case 'createFirewall':
      s.firewalls.push(step.name);
      break;
    case 'createHealthCheck':
      s.healthCheck = n.healthCheck;
      break;
    case 'createReplica': {
      const release = intent && releaseForNewReplica(intent, state, step.replaces);
      const shape = intent && shapeForNewReplica(intent, state, step.replaces);
      s.replicas.push({
        name: step.replica,
        zone: step.zone,
        status: 'RUNNING',
        internalIp: placeholderIp(step.replica),
        externalIp: step.first ? s.address?.ip : `ephemeral-ip-of-${step.replica}`,
        hasStaticIp: step.first,
        hasMemberCerts: false,
        inTargetPool: false,
        request: step.request,
        apiserverReady: false,
        creationTimestamp: s.observedAt,
        ...(step.replaces ? { replaces: step.replaces } : {}),
        ...(release ? { release } : {}),
        ...shape,
      });
      break;
    }
    case 'setMemberCerts': {
      const r = vm(step.replica)!;
      r.hasMemberCerts = true;
      if (s.etcd.members.length === 0) {
        // The first master starts a one-member cluster by itself.
        s.etcd.members.push({ ...member(r.name, r.internalIp!, false), isLeader: true });
        s.etcd.reachable = true;
        r.apiserverReady = true;
      }
      break;
    }
    case 'addLearner': {
      const r = vm(step.replica)!;
      s.etcd.members.push({ ...member(r.name, r.internalIp!, true), peerUrls: [step.peerUrl] });
      break;
    }
    case 'promoteLearner': {
      const m = s.etcd.members.find((x) => x.id === step.memberId);
      if (m) m.isLearner = false;
      const r = vm(step.replica);
      if (r) r.apiserverReady = true;
      break;
    }
    case 'waitReady': {
      const r = vm(step.replica);
      if (r) r.apiserverReady = true;
      break;
    }
    case 'createTargetPool':
      s.targetPool = { name: n.targetPool, instances: [], healthChecks: [n.healthCheck] };
      for (const i of step.instances) {
        const r = vm(i.name);
        if (r) r.inTargetPool = true;
        s.targetPool.instances.push(`zones/${i.zone}/instances/${i.name}`);
      }
      break;
    case 'addToTargetPool': {
      const r = vm(step.replica);
      if (r) r.inTargetPool = true;
      break;
    }
    case 'removeFromTargetPool': {
      const r = vm(step.replica);
      if (r) r.inTargetPool = false;
      break;
    }
    case 'detachStaticIp': {
      const r = vm(step.replica);
      if (r) {
        r.hasStaticIp = false;
        r.externalIp = undefined;
      }
      break;
    }
    case 'attachEphemeralIp': {
      const r = vm(step.replica);
      if (r) r.externalIp = `ephemeral-ip-of-${step.replica}`;
      break;
    }
    case 'attachStaticIp': {
      const r = vm(step.replica);
      if (r) {
        r.hasStaticIp = true;
        r.externalIp = s.address?.ip;
      }
      break;
    }
    case 'createForwardingRule':
      s.forwardingRule = { name: n.forwardingRule, ip: s.address?.ip ?? '', target: n.targetPool };
      break;
    case 'deleteForwardingRule':
      s.forwardingRule = undefined;
      break;
    case 'deleteTargetPool':
      s.targetPool = undefined;
      for (const r of s.replicas) r.inTargetPool = false;
      break;
    case 'moveLeader':
      for (const m of s.etcd.members) m.isLeader = m.id === step.toId;
      break;
    case 'removeMember': {
      const wasLeader = s.etcd.members.find((m) => m.id === step.memberId)?.isLeader;
      s.etcd.members = s.etcd.members.filter((m) => m.id !== step.memberId);
      if (wasLeader) {
        const next = s.etcd.members.find((m) => !m.isLearner && m.healthy);
        if (next) next.isLeader = true;
      }
      break;
    }
    case 'deleteReplica':
      s.replicas = s.replicas.filter((r) => r.name !== step.replica);
      break;
    case 'deleteIdentityLease':
      if (s.leases?.readable) s.leases.identities = s.leases.identities.filter((l) => l.name !== step.name);
      break;
    case 'deleteFirewall':
      s.firewalls = s.firewalls.filter((f) => f !== step.name);
      break;
    case 'deleteHealthCheck':
      s.healthCheck = undefined;
      break;
    case 'deleteAddress':
      s.address = undefined;
      break;
    case 'deleteNodeGroup':
      s.nodeGroups = s.nodeGroups.filter((g) => g.name !== step.name);
      break;
    case 'deleteNodeTemplate':
      s.nodeTemplates = s.nodeTemplates.filter((t) => t !== step.name);
      break;
    case 'deleteSecret':
      s.secrets = s.secrets.filter((x) => x !== step.name);
      break;
    case 'moveKeys':
      s.inlineKeys = s.inlineKeys.filter((x) => x !== step.replica);
      break;
    case 'waitRunning': {
      const r = vm(step.replica);
      if (r) {
        r.status = 'RUNNING';
        r.internalIp ??= placeholderIp(r.name);
      }
      break;
    }
    case 'waitForLock':
      s.lock = undefined;
      break; // assumed: the other run finishes and lets go
    case 'writeJournal':
      if (s.address) s.address.labels = withJournalEntry(n, s.address.labels, step.entry);
      break;
    case 'writeRecovery':
      if (s.address) {
        const labels = { ...s.address.labels };
        if (step.record) labels[RECOVERY_LABEL] = encodeRecovery(n, step.record);
        else delete labels[RECOVERY_LABEL];
        s.address.labels = labels;
      }
      break;
    case 'forceNewCluster': {
      // The survivor's member alone, as the one voter and leader; the record moves to phase f.
      const own = s.etcd.members.find((m) => m.name === `etcd-${step.replica}`);
      s.etcd = { reachable: true, members: own ? [{ ...own, healthy: true, isLeader: true, isLearner: false, alarms: [] }] : [] };
      const r = vm(step.replica);
      if (r) r.apiserverReady = true;
      recoveryServes();
      break;
    }
    case 'restoreSnapshot': {
      // A new one-member cluster holding the snapshot's data; the record moves to phase f.
      const r = vm(step.replica)!;
      s.etcd = { reachable: true, members: [{ ...member(r.name, r.internalIp!, false), isLeader: true }] };
      r.apiserverReady = true;
      recoveryServes();
      break;
    }
    case 'pause':
      // What it waits to confirm is assumed confirmed: the etcd members without a VM.
      s.confirmedOrphans = s.etcd.members.filter((m) => !s.replicas.some((r) => m.name === `etcd-${r.name}`)).map((m) => m.id);
      break;
    case 'reclaimEtcdSpace':
      for (const m of s.etcd.members) {
        if (!step.disarm.includes(m.id)) continue;
        m.alarms = m.alarms.filter((a) => a !== 'NOSPACE');
        m.healthy = m.alarms.length === 0 && m.dbSize !== undefined;
      }
      break;
    case 'labelCluster':
      if (s.address) s.address.labels = { ...s.address.labels, ...step.labels };
      break;
    default: {
      // A step kind without a projection would make a dry run plan it again and again.
      const unprojected: never = step;
      throw new Error(`no projection for step ${JSON.stringify(unprojected)}`);
    }
  }
  s.journal = s.address ? decodeJournal(n, s.address.labels) : [];
  s.etcd.leaderId = s.etcd.members.find((m) => m.isLeader)?.id;
  return s;
}

export interface ProjectedPlan {
  steps: { step: Step; reason: string }[];
  /** How the plan ends: done, or a refusal met on the way. */
  end: Exclude<PlanResult, { type: 'step' }> | { type: 'cut'; reason: string };
  state: ClusterState;
}

/** Plans, projects, plans again, until done or refused: the whole run a dry run announces. */
export function projectPlan(intent: Intent, start: ClusterState, maxSteps = 100): ProjectedPlan {
  let state = start;
  const steps: ProjectedPlan['steps'] = [];
  for (let i = 0; i < maxSteps; i++) {
    const r = plan(intent, state);
    if (r.type !== 'step') return { steps, end: r, state };
    steps.push({ step: r.step, reason: r.reason });
    state = projectStep(state, r.step, intent);
    // A new address carries the run's ownership labels from the start (apply.ts), as the rung expects.
    if (r.step.kind === 'createAddress' && state.address)
      state.address.labels = { ...state.address.labels, ...ownerLabels(intent.owner, intent.expiresAt) };
  }
  return { steps, end: { type: 'cut', reason: `more than ${maxSteps} steps` }, state };
}
