// Whether the cluster is healthy, and if not, what is wrong, in words: for the `healthy` output, the
// summary's first line and `fail-on-unhealthy`. Healthy means every replica VM runs a voting etcd
// member that answers with no alarm and a kube-apiserver that is not failing, and etcd has no member
// that no VM accounts for.
import { memberIdHex, type ClusterState } from '../model.ts';
import { buildView, unhealthyReason } from '../plan/view.ts';
import { membersWithoutReplica } from './replica-view.ts';

export interface ClusterHealth {
  /** undefined: there is no cluster to judge (no replica VM). */
  healthy: boolean | undefined;
  /** One line per problem, naming the replica or member and why. */
  problems: string[];
}

export function clusterHealth(state: ClusterState): ClusterHealth {
  const replicas = buildView(state).replicas.filter((r) => r.vm !== undefined);
  if (replicas.length === 0) return { healthy: undefined, problems: [`no replica VM of ${state.names.master} exists`] };
  const problems: string[] = [];
  if (!state.etcd.reachable) problems.push(`etcd could not be read${state.etcd.error ? `: ${state.etcd.error}` : ''}`);
  for (const r of replicas) {
    // With etcd unread, only what the VM itself shows is known about each replica.
    const why = state.etcd.reachable ? unhealthyReason(r) : r.vm!.status !== 'RUNNING' ? `its VM is ${r.vm!.status}` : undefined;
    if (why) problems.push(`${r.name}: ${why}`);
  }
  for (const m of membersWithoutReplica(state)) problems.push(`etcd member ${m.name || '(not started)'} (${memberIdHex(m.id)}) has no VM`);
  return { healthy: problems.length === 0, problems };
}
