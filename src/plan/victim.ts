// Which replica leaves first when the user did not name one. Priority, most broken first:
//   1. its VM is not RUNNING (or gone)
//   2. its etcd member is missing, a learner, or unhealthy
//   3. its apiserver is not ready
//   4. it is in the zone with the most replicas (keeps the spread)
//   5. it is not the etcd leader (saves a leadership move)
//   6. the newest VM (the oldest has proven itself), then name order.
import { pickMost } from './zones.ts';
import type { ReplicaView } from './view.ts';

function brokenness(r: ReplicaView): number {
  if (!r.vm || r.vm.status !== 'RUNNING') return 3;
  if (!r.member || r.member.isLearner || !r.member.healthy) return 2;
  if (r.vm.apiserverReady === false) return 1;
  return 0;
}

export function chooseVictim(candidates: ReplicaView[], allReplicas: ReplicaView[]): ReplicaView | undefined {
  if (candidates.length === 0) return undefined;
  const crowded = pickMost(allReplicas.flatMap((r) => (r.zone ? [r.zone] : [])));
  return [...candidates].sort((a, b) => {
    return (
      brokenness(b) - brokenness(a) ||
      Number(b.zone === crowded) - Number(a.zone === crowded) ||
      Number(a.member?.isLeader ?? false) - Number(b.member?.isLeader ?? false) ||
      (b.vm?.creationTimestamp ?? '').localeCompare(a.vm?.creationTimestamp ?? '') ||
      a.name.localeCompare(b.name)
    );
  })[0];
}

export function isBroken(r: ReplicaView): boolean {
  return brokenness(r) > 0;
}
