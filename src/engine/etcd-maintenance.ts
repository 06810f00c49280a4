// Reclaiming etcd's space after a NOSPACE alarm, as etcd's maintenance guide does it: compact the
// keyspace at the current revision, defragment the members one at a time (the leader last, so that
// leadership is not disturbed while the others are busy), then disarm the alarm. The order and the
// members are the planner's (src/plan/etcd-space.ts); this only carries it out.
import type { ClusterState, Step } from '../model.ts';
import type { EtcdAdmin } from '../etcd/types.ts';

export async function reclaimEtcdSpace(
  step: Extract<Step, { kind: 'reclaimEtcdSpace' }>,
  state: ClusterState,
  admin: EtcdAdmin,
): Promise<void> {
  const urlOf = (id: string): string => {
    const url = state.etcd.members.find((m) => m.id === id)?.clientUrls[0];
    if (!url) throw new Error(`etcd member ${id} has no client URL: cannot reclaim its space`);
    return url;
  };
  const first = step.defragOrder[0];
  if (!first) throw new Error('no etcd member answers: nothing to compact through');
  await admin.compact(urlOf(first));
  for (const id of step.defragOrder) await admin.defragment(urlOf(id));
  for (const id of step.disarm) await admin.disarm(urlOf(first), id, 'NOSPACE');
}
