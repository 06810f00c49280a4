// Identity leases of replicas that are gone: delete them at once. kube-apiserver's own garbage
// collector only takes an identity lease an hour after its last renewal, and until then every
// reader (kubectl, the StorageVersion machinery, this action's summary) counts a dead apiserver.
// Only leases whose host is a replica name of this cluster with no VM are touched; a lease this
// run already failed to delete is left to expire (asking again would loop).
import { isReplicaName, vmOfHostname } from '../model.ts';
import type { PlanResult } from '../model.ts';
import type { ClusterView } from './view.ts';

export function staleIdentityLease(view: ClusterView): PlanResult | undefined {
  const { state } = view;
  const leases = state.leases;
  if (!leases?.readable) return undefined;
  const vms = new Set(state.replicas.map((r) => r.name));
  for (const lease of leases.identities) {
    const replica = vmOfHostname(lease.hostname);
    if (!isReplicaName(state.names, replica) || vms.has(replica) || lease.deleteFailed) continue;
    return {
      type: 'step',
      step: { kind: 'deleteIdentityLease', name: lease.name, replica },
      reason: `VM ${replica} is gone: remove its apiserver identity lease now rather than after the hour kube-apiserver waits`,
    };
  }
  return undefined;
}
