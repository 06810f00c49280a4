// down + delete-nodes: delete everything the cluster owns, load balancer first (so no traffic
// goes to VMs being deleted), the address last (it holds the journal). Each resource that is
// already gone is skipped, so a re-run finds nothing and changes nothing.
import type { ClusterState, PlanResult } from '../model.ts';

export function planTeardown(state: ClusterState): PlanResult {
  const n = state.names;
  const step = (s: Parameters<typeof mk>[0], reason: string) => mk(s, reason);
  if (state.forwardingRule) return step({ kind: 'deleteForwardingRule' }, `delete forwarding rule ${n.forwardingRule}`);
  if (state.targetPool) return step({ kind: 'deleteTargetPool' }, `delete target pool ${n.targetPool}`);
  const vm = state.replicas[0];
  if (vm) return step({ kind: 'deleteReplica', replica: vm.name, zone: vm.zone }, `delete replica ${vm.name} in ${vm.zone} with its disks`);
  if (state.healthCheck) return step({ kind: 'deleteHealthCheck' }, `delete health check ${n.healthCheck}`);
  for (const g of state.nodeGroups) return step({ kind: 'deleteNodeGroup', name: g.name, zone: g.zone }, `delete node group ${g.name}`);
  for (const t of state.nodeTemplates) return step({ kind: 'deleteNodeTemplate', name: t }, `delete node template ${t}`);
  for (const fw of state.firewalls) return step({ kind: 'deleteFirewall', name: fw }, `delete firewall ${fw}`);
  if (state.address) return step({ kind: 'deleteAddress' }, `release the static IP ${n.address}`);
  return { type: 'done', reason: `nothing of ${n.master} is left` };
}

function mk(s: Extract<PlanResult, { type: 'step' }>['step'], reason: string): PlanResult {
  return { type: 'step', step: s, reason };
}
