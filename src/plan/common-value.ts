// What "the cluster's" value of a replica property is when the run names none: the value most
// running replicas report, the newest replica's on a tie (after a half-done rollout, the newer).

import type { ClusterState, Replica } from '../model.ts';

export function commonValue<T>(
  state: ClusterState,
  get: (r: Replica) => T | undefined,
  same: (a: T, b: T) => boolean = (a, b) => a === b,
): T | undefined {
  const values = state.replicas
    .filter((r) => r.status === 'RUNNING' && get(r) !== undefined)
    .sort((a, b) => b.creationTimestamp.localeCompare(a.creationTimestamp))
    .map((r) => get(r)!);
  let best: { value: T; count: number } | undefined;
  for (const value of values) {
    const count = values.filter((o) => same(o, value)).length;
    if (!best || count > best.count) best = { value, count };
  }
  return best?.value;
}
