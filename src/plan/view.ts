// Joins the observed VMs and etcd members into one list of replicas, so that every decision asks
// named questions ("healthy voters", "replicas in zone z") instead of re-joining lists itself.
import { etcdMemberName, peerUrl } from '../model.ts';
import type { ClusterState, EtcdMember, JournalEntry, Replica } from '../model.ts';

export interface ReplicaView {
  name: string;
  zone?: string;
  /** The VM, when it exists. */
  vm?: Replica;
  /** Its etcd member, when it has one. */
  member?: EtcdMember;
  /** A journal entry says it is being removed. */
  removing: boolean;
}

export interface ClusterView {
  state: ClusterState;
  replicas: ReplicaView[];
  /** Members that belong to no VM (the VM is gone or never existed). */
  orphanMembers: EtcdMember[];
  removals: JournalEntry[];
}

export function memberOf(state: ClusterState, vm: Replica): EtcdMember | undefined {
  const url = vm.internalIp ? peerUrl(vm.internalIp) : undefined;
  return state.etcd.members.find((m) => (url !== undefined && m.peerUrls.includes(url)) || m.name === etcdMemberName(vm.name));
}

export function buildView(state: ClusterState): ClusterView {
  const removals = state.journal.filter((e) => e.phase === 'removing');
  const removingNames = new Set(removals.map((e) => e.replica));
  const used = new Set<string>();
  const replicas: ReplicaView[] = state.replicas.map((vm) => {
    const member = memberOf(state, vm);
    if (member) used.add(member.id);
    return { name: vm.name, zone: vm.zone, vm, member, removing: removingNames.has(vm.name) };
  });
  const orphanMembers = state.etcd.members.filter((m) => !used.has(m.id));
  // A replica whose VM is gone but whose member is still named after it is still a replica
  // (being removed or to be removed): keep it visible by name.
  for (const m of orphanMembers) {
    const vmName = m.name.startsWith('etcd-') ? m.name.slice(5) : undefined;
    if (vmName && removingNames.has(vmName) && !replicas.some((r) => r.name === vmName)) {
      replicas.push({ name: vmName, member: m, removing: true });
    }
  }
  return { state, replicas, orphanMembers, removals };
}

export function isVoter(m: EtcdMember | undefined): boolean {
  return m !== undefined && !m.isLearner;
}

/** Serves: VM RUNNING, voting member, healthy, apiserver not known to be failing. */
export function isHealthyReplica(r: ReplicaView): boolean {
  return r.vm?.status === 'RUNNING' && r.member !== undefined && !r.member.isLearner && r.member.healthy && r.vm.apiserverReady !== false;
}

/** Why a replica is not healthy, in words for logs and refusals. */
export function unhealthyReason(r: ReplicaView): string | undefined {
  if (!r.vm) return 'its VM is gone';
  if (r.vm.status !== 'RUNNING') return `its VM is ${r.vm.status}`;
  if (r.vm.startupFailure) return `its start-up script reports "${r.vm.startupFailure}"`;
  if (!r.member) return 'it has no etcd member';
  if (r.member.isLearner) return 'its etcd member is still a learner';
  if (!r.member.healthy) return r.member.alarms.length ? `etcd alarms: ${r.member.alarms.join(', ')}` : 'its etcd member does not answer';
  if (r.vm.apiserverReady === false) return 'its kube-apiserver is not ready';
  return undefined;
}

export function voters(state: ClusterState): EtcdMember[] {
  return state.etcd.members.filter((m) => !m.isLearner);
}

export function learners(state: ClusterState): EtcdMember[] {
  return state.etcd.members.filter((m) => m.isLearner);
}

export function healthyVoters(state: ClusterState): EtcdMember[] {
  return voters(state).filter((m) => m.healthy);
}

export function liveReplicas(view: ClusterView): ReplicaView[] {
  return view.replicas.filter((r) => r.vm !== undefined && !r.removing);
}
