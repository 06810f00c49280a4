// The job summary's view of the control plane's leases: which replica leads kube-controller-manager
// and kube-scheduler, and which replicas' kube-apiservers have an identity lease.
import { vmOfHostname } from '../model.ts';
import type { ClusterState, IdentityLeaseView, LeaderLeaseView } from '../model.ts';
import { cell, code, table, text } from './markdown.ts';

export function leasesSection(state: ClusterState): string {
  const leases = state.leases;
  if (!leases) return 'Not read: the cluster has no running replica or no static IP to reach its API at.';
  if (!leases.readable) return `Could not be read: ${text(leases.error)}.`;
  const rows = [
    [
      '`kube-system/kube-controller-manager`',
      leaderCell(state, leases.controllerManager, 'kube-controller-manager'),
      renewed(leases.controllerManager?.renewTime),
    ],
    ['`kube-system/kube-scheduler`', leaderCell(state, leases.scheduler, 'kube-scheduler'), renewed(leases.scheduler?.renewTime)],
  ];
  const identities = leases.identities.length ? leases.identities.map((l) => identityItem(state, l)).join(', ') : 'none';
  return `${table(['Leader lease', 'Held by', 'Renewed'], ['l', 'l', 'l'], rows)}\n\nkube-apiserver identity leases: ${identities}.`;
}

function leaderCell(state: ClusterState, lease: LeaderLeaseView | undefined, component: string): string {
  if (!lease) return `nobody: ${component} has not elected a leader (yet)`;
  const vm = vmOfHostname(lease.hostname);
  if (state.replicas.some((r) => r.name === vm)) return `replica ${code(vm)}`;
  const expiry =
    lease.leaseDurationSeconds === undefined ? 'once the lease expires' : `within ${lease.leaseDurationSeconds} s of its last renewal`;
  return cell(`${lease.hostname}, which is no replica of this cluster now: a running replica takes over ${expiry}`);
}

function identityItem(state: ClusterState, lease: IdentityLeaseView): string {
  const vm = vmOfHostname(lease.hostname);
  const known = state.replicas.some((r) => r.name === vm);
  const who = lease.hostname ? code(vm) : 'no hostname label';
  const note = known ? '' : lease.deleteFailed ? ' (VM gone; deleting it failed, it expires within an hour)' : ' (VM gone)';
  return `${who} (${code(lease.name)})${note}`;
}

function renewed(time: string | undefined): string {
  return time ? code(time) : '';
}
