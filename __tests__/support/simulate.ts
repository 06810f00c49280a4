// An ideal world for sequence tests of the planner: applies a Step to a ClusterState the way GCE
// and etcd would if every write succeeded at once. Tests replan after each step (as the engine
// does) and check invariants; this is a model of effects, not of timing.
import { clientUrl, peerUrl } from '../../src/model.ts';
import type { ClusterState, Step } from '../../src/model.ts';
import { withJournalEntry, decodeJournal } from '../../src/plan/journal.ts';

let nextIp = 200;
const freshIp = () => { const k = nextIp++; return `10.200.${(k >> 8) & 255}.${k & 255}`; };

export function applyIdeal(state: ClusterState, step: Step): ClusterState {
  const s: ClusterState = structuredClone(state);
  const n = s.names;
  const vm = (name: string) => s.replicas.find((r) => r.name === name);
  switch (step.kind) {
    case 'createAddress':
      s.address = { name: n.address, ip: '34.1.1.1', status: 'RESERVED', users: [], region: s.region!, labels: { 'ha-masters-cluster': n.master } };
      break;
    case 'createFirewall': s.firewalls.push(step.name); break;
    case 'createHealthCheck': s.healthCheck = n.healthCheck; break;
    case 'createReplica': {
      const ip = freshIp();
      s.replicas.push({
        name: step.replica, zone: step.zone, status: 'RUNNING', internalIp: ip, externalIp: step.first ? s.address!.ip : `35.0.0.${nextIp % 250}`,
        hasStaticIp: step.first, hasMemberCerts: false, inTargetPool: false, request: step.request,
        apiserverReady: false, creationTimestamp: `2026-11-24T01:00:${String(nextIp % 60).padStart(2, '0')}Z`,
      });
      break;
    }
    case 'setMemberCerts': {
      const r = vm(step.replica)!;
      r.hasMemberCerts = true;
      if (s.etcd.members.length === 0) {
        s.etcd.members.push({ id: `9${nextIp++}000`, name: `etcd-${r.name}`, peerUrls: [peerUrl(r.internalIp!)], clientUrls: [clientUrl(r.internalIp!)], isLearner: false, healthy: true, isLeader: true, alarms: [], appliedIndex: 1 });
        s.etcd.reachable = true;
        r.apiserverReady = true;
      }
      break;
    }
    case 'addLearner': {
      const r = vm(step.replica)!;
      s.etcd.members.push({ id: `9${nextIp++}000`, name: `etcd-${r.name}`, peerUrls: [step.peerUrl], clientUrls: [clientUrl(r.internalIp!)], isLearner: true, healthy: true, isLeader: false, alarms: [], appliedIndex: 1 });
      break;
    }
    case 'promoteLearner': {
      s.etcd.members.find((m) => m.id === step.memberId)!.isLearner = false;
      vm(step.replica)!.apiserverReady = true;
      break;
    }
    case 'waitReady': {
      const r = vm(step.replica)!;
      const m = s.etcd.members.find((x) => x.peerUrls.includes(peerUrl(r.internalIp!)));
      if (!m || m.isLearner || !m.healthy || r.status !== 'RUNNING') throw new Error(`waitReady on ${step.replica} would time out`);
      r.apiserverReady = true;
      break;
    }
    case 'createTargetPool':
      s.targetPool = { name: n.targetPool, instances: [], healthChecks: [n.healthCheck] };
      for (const i of step.instances) { vm(i.name)!.inTargetPool = true; s.targetPool.instances.push(`x/zones/${i.zone}/instances/${i.name}`); }
      break;
    case 'addToTargetPool': vm(step.replica)!.inTargetPool = true; break;
    case 'removeFromTargetPool': vm(step.replica)!.inTargetPool = false; break;
    case 'detachStaticIp': { const r = vm(step.replica)!; r.hasStaticIp = false; r.externalIp = undefined; break; }
    case 'attachEphemeralIp': vm(step.replica)!.externalIp = `35.0.1.${nextIp++ % 250}`; break;
    case 'attachStaticIp': { const r = vm(step.replica)!; r.hasStaticIp = true; r.externalIp = s.address!.ip; break; }
    case 'createForwardingRule': s.forwardingRule = { name: n.forwardingRule, ip: s.address!.ip, target: 'pool' }; break;
    case 'deleteForwardingRule': s.forwardingRule = undefined; break;
    case 'deleteTargetPool': s.targetPool = undefined; for (const r of s.replicas) r.inTargetPool = false; break;
    case 'moveLeader':
      for (const m of s.etcd.members) m.isLeader = m.id === step.toId;
      s.etcd.leaderId = step.toId;
      break;
    case 'removeMember': {
      const wasLeader = s.etcd.members.find((m) => m.id === step.memberId)?.isLeader;
      s.etcd.members = s.etcd.members.filter((m) => m.id !== step.memberId);
      if (wasLeader) { const next = s.etcd.members.find((m) => !m.isLearner && m.healthy); if (next) next.isLeader = true; }
      break;
    }
    case 'deleteReplica': s.replicas = s.replicas.filter((r) => r.name !== step.replica); break;
    case 'deleteFirewall': s.firewalls = s.firewalls.filter((f) => f !== step.name); break;
    case 'deleteHealthCheck': s.healthCheck = undefined; break;
    case 'deleteAddress': s.address = undefined; break;
    case 'deleteNodeGroup': s.nodeGroups = s.nodeGroups.filter((g) => g.name !== step.name); break;
    case 'deleteNodeTemplate': s.nodeTemplates = s.nodeTemplates.filter((t) => t !== step.name); break;
    case 'writeJournal':
      s.address!.labels = withJournalEntry(n, s.address!.labels, step.entry);
      break;
    case 'dropJournal': break;
  }
  if (s.address) s.journal = decodeJournal(n, s.address.labels);
  s.etcd.leaderId = s.etcd.members.find((m) => m.isLeader)?.id;
  return s;
}
