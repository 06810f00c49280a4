// A master replica inserted through the Compute API as the action inserts one (process runtime:
// real etcd on the VM's loopback address): kube-env and master certificates first, then the
// member certificate once the internal IP is known, as it names that IP.
import type { Compute } from '../emulator/support/compute.ts';
import { masterMetadata, memberCertsMetadata, type TestPki } from './runtime-certs.ts';

export interface ReplicaSpec {
  project: string;
  zone: string;
  name: string;
  pki: TestPki;
  staticIp: string;
  /** The cluster's master name (default: this replica's). */
  master?: string;
  state?: 'new' | 'existing';
  /** VM names of the etcd cluster, this one included (default: this one alone). */
  initialCluster?: string[];
  tags?: string[];
  labels?: Record<string, string>;
}

const items = (values: Record<string, string>) => Object.entries(values).map(([key, value]) => ({ key, value }));

/** Inserts the replica and gives it its member certificate; resolves with its internal IP. */
export async function insertMasterReplica(gce: Compute, spec: ReplicaSpec): Promise<string> {
  const { project, zone, name, pki } = spec;
  const metadata = masterMetadata({ pki, master: spec.master ?? name, staticIp: spec.staticIp, state: spec.state ?? 'new', initialCluster: spec.initialCluster ?? [name] });
  await gce.finish(await gce.instances.insert({ project, zone, instanceResource: {
    name, machineType: `zones/${zone}/machineTypes/e2-standard-2`,
    disks: [
      { boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/cos-cloud/global/images/family/cos-stable' } },
      { autoDelete: true, initializeParams: { diskName: `${name}-pd`, diskSizeGb: '20' } },
    ],
    networkInterfaces: [{ network: 'global/networks/default' }],
    ...(spec.tags ? { tags: { items: spec.tags } } : {}),
    ...(spec.labels ? { labels: spec.labels } : {}),
    metadata: { items: items(metadata) },
  } }), project);
  const [vm] = await gce.instances.get({ project, zone, instance: name });
  const ip = vm.networkInterfaces?.[0]?.networkIP as string;
  const kept = (vm.metadata?.items ?? []).map(({ key, value }) => ({ key, value }));
  await gce.finish(await gce.instances.setMetadata({ project, zone, instance: name, metadataResource: {
    fingerprint: vm.metadata?.fingerprint, items: [...kept, ...items(memberCertsMetadata(pki.member(name, ip)))],
  } }), project);
  return ip;
}
