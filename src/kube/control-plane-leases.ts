// What the kube-system Leases say about the control plane (pure): which kube-apiservers have an
// identity (label apiserver.kubernetes.io/identity=kube-apiserver, host in kubernetes.io/hostname)
// and which host leads kube-controller-manager and kube-scheduler (holder `<hostname>_<uuid>`,
// client-go's leader-election identity).
import type { ApiLeasesView, IdentityLeaseView, LeaderLeaseView } from '../model.ts';
import type { RawLease } from './lease-api.ts';

export const IDENTITY_LABEL = 'apiserver.kubernetes.io/identity';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

export function controlPlaneLeases(items: RawLease[]): Extract<ApiLeasesView, { readable: true }> {
  const identities: IdentityLeaseView[] = [];
  let controllerManager: LeaderLeaseView | undefined;
  let scheduler: LeaderLeaseView | undefined;
  for (const lease of items) {
    const name = lease.metadata?.name ?? '';
    const labels = lease.metadata?.labels ?? {};
    if (labels[IDENTITY_LABEL] === 'kube-apiserver') {
      const identity: IdentityLeaseView = { name, hostname: labels[HOSTNAME_LABEL] ?? '' };
      if (lease.spec?.holderIdentity) identity.holderIdentity = lease.spec.holderIdentity;
      if (lease.spec?.renewTime) identity.renewTime = lease.spec.renewTime;
      identities.push(identity);
    } else if (name === 'kube-controller-manager') {
      controllerManager = leaderOf(lease);
    } else if (name === 'kube-scheduler') {
      scheduler = leaderOf(lease);
    }
  }
  identities.sort((a, b) => a.hostname.localeCompare(b.hostname) || a.name.localeCompare(b.name));
  return { readable: true, identities, ...(controllerManager ? { controllerManager } : {}), ...(scheduler ? { scheduler } : {}) };
}

/** A lease with no holder (released, or never taken) has no leader. */
function leaderOf(lease: RawLease): LeaderLeaseView | undefined {
  const holder = lease.spec?.holderIdentity;
  if (!holder) return undefined;
  const view: LeaderLeaseView = { holderIdentity: holder, hostname: holderHostname(holder) };
  if (lease.spec?.renewTime) view.renewTime = lease.spec.renewTime;
  if (lease.spec?.leaseDurationSeconds !== undefined) view.leaseDurationSeconds = lease.spec.leaseDurationSeconds;
  return view;
}

/** `<hostname>_<uuid>` -> hostname (a UUID has no underscore; a hostname cannot have one). */
export function holderHostname(holderIdentity: string): string {
  const cut = holderIdentity.lastIndexOf('_');
  return cut > 0 ? holderIdentity.slice(0, cut) : holderIdentity;
}
