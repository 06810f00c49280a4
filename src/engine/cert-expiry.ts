// When the cluster's certificates run out: each certificate records its own end (X.509 notAfter),
// and the masters' metadata holds every one of them, so one read of the instances tells the
// earliest. Unreadable values are skipped: they are reported by the steps that use them.
import { X509Certificate } from 'node:crypto';
import type { InstanceInfo } from '../gce/types.ts';
import { decodeFlatYaml, unb64 } from './kube-yaml.ts';

export interface CertExpiry {
  /** Which certificate: `MASTER_CERT`, or `<vm> ETCD_MEMBER_CERT` for one replica's own. */
  what: string;
  notAfter: Date;
}

const SHARED = ['kube-env', 'kube-master-certs'];

export function earliestCertExpiry(vms: InstanceInfo[]): CertExpiry | undefined {
  let earliest: CertExpiry | undefined;
  const seen = new Set<string>();
  for (const vm of vms) {
    for (const item of [...SHARED, 'etcd-member-certs']) {
      for (const [key, value] of Object.entries(decodeFlatYaml(vm.metadata[item] ?? ''))) {
        if (!key.endsWith('_CERT')) continue;
        const what = SHARED.includes(item) ? key : `${vm.name} ${key}`;
        if (seen.has(what)) continue;
        seen.add(what);
        let notAfter: Date;
        try {
          notAfter = new Date(new X509Certificate(unb64(value)).validTo);
        } catch {
          continue;
        }
        if (!earliest || notAfter < earliest.notAfter) earliest = { what, notAfter };
      }
    }
  }
  return earliest;
}
