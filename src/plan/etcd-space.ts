// etcd's NOSPACE alarm: the database reached its quota and etcd takes only reads and deletes. The
// remedy is maintenance, not a new replica: reclaim the space (compaction frees old revisions,
// defragmentation gives the file's free pages back), then disarm. Pure: the order of the members.
import { memberIdHex } from '../model.ts';
import type { ClusterState, PlanResult } from '../model.ts';
import { count } from '../words.ts';

export const NOSPACE = 'NOSPACE';

/** The step that reclaims space when any member raised NOSPACE, else undefined. */
export function reclaimSpace(state: ClusterState): PlanResult | undefined {
  const alarmed = state.etcd.members.filter((m) => m.alarms.includes(NOSPACE));
  // Once a run: defragmenting stalls each member, and an alarm that is back at once will not go
  // this way (repair.ts then reports the replicas as left alone).
  if (alarmed.length === 0 || !state.etcd.reachable || state.spaceReclaimed) return undefined;
  // Only members that answered their status can be defragmented; the leader goes last.
  const answering = state.etcd.members.filter((m) => m.dbSize !== undefined);
  const isLeader = (id: string) => state.etcd.leaderId === id || state.etcd.members.some((m) => m.id === id && m.isLeader);
  const defragOrder = [...answering.filter((m) => !isLeader(m.id)), ...answering.filter((m) => isLeader(m.id))].map((m) => m.id);
  const who = alarmed.map((m) => m.name || memberIdHex(m.id)).join(', ');
  return {
    type: 'step',
    step: { kind: 'reclaimEtcdSpace', defragOrder, disarm: alarmed.map((m) => m.id) },
    reason: `etcd raised NOSPACE on ${who}: its database reached the quota and takes only reads; compact, defragment ${count(defragOrder.length, 'member')} one at a time (leader last), then disarm`,
  };
}

/** The member's only problem is NOSPACE: maintenance, not a replacement, is its repair. */
export function onlyOutOfSpace(alarms: string[]): boolean {
  return alarms.length > 0 && alarms.every((a) => a === NOSPACE);
}
