// Where a new replica goes. A zone can take one when it is UP and no VM insert of this run failed
// there for want of capacity (GCE tells that only by failing the insert: the engine remembers such
// zones for the rest of the run in ClusterState.noCapacity; a new run tries them again, since
// capacity comes back). The preferred zone (the one a replaced replica leaves) wins when it can take
// one; otherwise the zone with fewest replicas among `zones`, or among the region's zones.
import type { ClusterState, Intent } from '../model.ts';
import { pickFewest } from './zones.ts';

export type Placement = { zone: string } | { zone?: undefined; why: string };

/** Zones a new replica may use: `zones` when given, else every zone of the cluster's region. */
function allowedZones(intent: Intent, state: ClusterState): string[] {
  if (intent.zones.length) return intent.zones;
  return state.zones.filter((z) => z.region === state.region).map((z) => z.name);
}

/** Why `zone` cannot take a replica now, or undefined when it can. */
export function zoneProblem(state: ClusterState, zone: string): string | undefined {
  const info = state.zones.find((z) => z.name === zone);
  if (!info) return `${zone} does not exist`;
  if (info.status !== 'UP') return `${zone} is ${info.status}`;
  const full = state.noCapacity?.[zone];
  if (full) return `${zone} had no capacity for a VM during this run (${full})`;
  return undefined;
}

export function placeReplica(intent: Intent, state: ClusterState, replicaZones: string[], preferred?: string): Placement {
  // A repair keeps a replacement in its replica's zone unless told to spread.
  if (preferred && intent.repair?.zonePolicy === 'same') {
    const problem = zoneProblem(state, preferred);
    return problem ? { why: `the replacement stays in ${preferred} (repair-zone-policy: same), and ${problem}` } : { zone: preferred };
  }
  const allowed = allowedZones(intent, state);
  if (preferred && (intent.zones.length === 0 || allowed.includes(preferred)) && !zoneProblem(state, preferred)) return { zone: preferred };
  const usable = allowed.filter((z) => !zoneProblem(state, z));
  const zone = pickFewest(usable, replicaZones);
  if (zone) return { zone };
  const tried = [...new Set([...(preferred ? [preferred] : []), ...allowed])];
  const why = tried
    .map((z) => zoneProblem(state, z))
    .filter(Boolean)
    .join('; ');
  return {
    why: `no zone ${intent.zones.length ? 'of zones' : `of region ${state.region}`} can take a new replica: ${why || 'none is listed'}`,
  };
}
