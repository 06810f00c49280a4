// down + delete-nodes: delete everything the cluster owns. Nodes first, as kube-down did (groups
// before the templates they use); then the load balancer (so no traffic goes to masters being
// deleted), the masters, their key secrets, and the address last (it holds the journal). Each resource that is
// already gone is skipped, so a re-run finds nothing and changes nothing.
import type { ClusterState, PlanResult, Step } from '../model.ts';

export function planTeardown(state: ClusterState): PlanResult {
  const n = state.names;
  for (const g of state.nodeGroups)
    return mk({ kind: 'deleteNodeGroup', name: g.name, zone: g.zone }, `delete node group ${g.name} and its nodes`);
  for (const t of state.nodeTemplates) return mk({ kind: 'deleteNodeTemplate', name: t }, `delete node template ${t}`);
  if (state.forwardingRule) return mk({ kind: 'deleteForwardingRule' }, `delete forwarding rule ${n.forwardingRule}`);
  if (state.targetPool) return mk({ kind: 'deleteTargetPool' }, `delete target pool ${n.targetPool}`);
  const vm = state.replicas[0];
  if (vm) return mk({ kind: 'deleteReplica', replica: vm.name, zone: vm.zone }, `delete replica ${vm.name} in ${vm.zone} with its disks`);
  if (state.healthCheck) return mk({ kind: 'deleteHealthCheck' }, `delete health check ${n.healthCheck}`);
  for (const fw of state.firewalls) return mk({ kind: 'deleteFirewall', name: fw }, `delete firewall ${fw}`);
  for (const secret of state.secrets)
    return mk({ kind: 'deleteSecret', name: secret }, `delete secret ${secret}: no replica needs its keys any more`);
  if (state.address) return mk({ kind: 'deleteAddress' }, `release the static IP ${n.address}`);
  return { type: 'done', reason: `nothing of ${n.master} is left` };
}

function mk(s: Step, reason: string): PlanResult {
  return { type: 'step', step: s, reason };
}
