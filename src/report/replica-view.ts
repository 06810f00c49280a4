// Each replica VM joined with its etcd member: the one view the outputs and the summary share.

import { etcdMemberName, peerUrl, type ClusterState, type EtcdMember, type VmStatus } from '../model.ts';

export type MemberRole = 'voter' | 'learner' | 'none';

export interface ReplicaView {
  name: string;
  zone: string;
  internalIp: string | null;
  status: VmStatus;
  memberId: string | null;
  role: MemberRole;
  /** VM RUNNING, its etcd member answered with no alarm, and its apiserver (when probed) is ready. */
  healthy: boolean;
}

/** The member of a VM: by member name, or by peer URL for a member added but never started. */
export function memberOfReplica(state: ClusterState, vm: string, internalIp: string | undefined): EtcdMember | undefined {
  const byName = state.etcd.members.find((m) => m.name === etcdMemberName(vm));
  if (byName) return byName;
  if (!internalIp) return undefined;
  const url = peerUrl(internalIp);
  return state.etcd.members.find((m) => m.name === '' && m.peerUrls.includes(url));
}

/** Sorted by zone, then name, so that outputs are stable between runs. */
export function replicaViews(state: ClusterState): ReplicaView[] {
  return [...state.replicas]
    .sort((a, b) => a.zone.localeCompare(b.zone) || a.name.localeCompare(b.name))
    .map((r) => {
      const member = memberOfReplica(state, r.name, r.internalIp);
      return {
        name: r.name,
        zone: r.zone,
        internalIp: r.internalIp ?? null,
        status: r.status,
        memberId: member?.id ?? null,
        role: member ? (member.isLearner ? 'learner' : 'voter') : 'none',
        healthy: r.status === 'RUNNING' && member !== undefined && member.healthy && r.apiserverReady !== false,
      };
    });
}

/** Members no replica VM accounts for (left behind by a VM that is gone). */
export function membersWithoutReplica(state: ClusterState): EtcdMember[] {
  const owned = new Set(
    state.replicas.map((r) => memberOfReplica(state, r.name, r.internalIp)?.id).filter((id): id is string => id !== undefined),
  );
  return state.etcd.members.filter((m) => !owned.has(m.id));
}

export function isLeader(state: ClusterState, member: EtcdMember): boolean {
  return member.isLeader || state.etcd.leaderId === member.id;
}
