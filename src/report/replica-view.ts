// Each replica VM joined with its etcd member: the one view the outputs and the summary share.

import { memberIdHex, type ClusterState, type EtcdMember, type VmStatus } from '../model.ts';
import { buildView, isHealthyReplica } from '../plan/view.ts';

export type MemberRole = 'voter' | 'learner' | 'none';

export interface ReplicaView {
  name: string;
  zone: string;
  internalIp: string | null;
  status: VmStatus;
  memberId: string | null;
  role: MemberRole;
  /** VM RUNNING, a voting etcd member that answers with no alarm, apiserver not failing (src/plan/view.ts). */
  healthy: boolean;
  /** What it was made with (metadata `ha-masters-release`); null when unknown. */
  kubernetesVersion: string | null;
  etcdVersion: string | null;
}

/** The member of a VM, joined the way the planner joins them (src/plan/view.ts). */
export function memberOfReplica(state: ClusterState, vm: string): EtcdMember | undefined {
  return buildView(state).replicas.find((r) => r.name === vm)?.member;
}

/** Sorted by zone, then name, so that outputs are stable between runs. */
export function replicaViews(state: ClusterState): ReplicaView[] {
  return buildView(state)
    .replicas.filter((r) => r.vm !== undefined)
    .sort((a, b) => a.vm!.zone.localeCompare(b.vm!.zone) || a.name.localeCompare(b.name))
    .map((r) => {
      const vm = r.vm!;
      return {
        name: r.name,
        zone: vm.zone,
        internalIp: vm.internalIp ?? null,
        status: vm.status,
        // Hex, as etcdctl prints it.
        memberId: r.member ? memberIdHex(r.member.id) : null,
        role: r.member ? (r.member.isLearner ? 'learner' : 'voter') : 'none',
        healthy: isHealthyReplica(r),
        kubernetesVersion: vm.release?.kubernetesVersion ?? null,
        etcdVersion: vm.release?.etcdVersion ?? null,
      };
    });
}

/** Members no replica VM accounts for (left behind by a VM that is gone). */
export function membersWithoutReplica(state: ClusterState): EtcdMember[] {
  return buildView(state).orphanMembers;
}

export function isLeader(state: ClusterState, member: EtcdMember): boolean {
  return member.isLeader || state.etcd.leaderId === member.id;
}
