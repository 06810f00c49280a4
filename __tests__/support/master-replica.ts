// A master replica inserted through the Compute API as the action inserts one: kube-env and master
// certificates first, then the member certificate once the internal IP is known, as it names that
// IP. By default a process-runtime VM (cos image, real etcd on its loopback address) with its keys
// inline in metadata; `startup` makes a Debian VM that boots vm/startup.sh, `keys` puts the private
// keys in Secret Manager (contract v2) and gives the VM the default service account.
import type { Compute } from '../emulator/support/compute.ts';
import { masterMetadata, memberCertsMetadata, type MasterMetadataInput, type TestPki } from './runtime-certs.ts';
import { DEFAULT_SERVICE_ACCOUNT, masterKeysIntoSecrets, memberKeysIntoSecret, type SecretKeys } from './secret-keys.ts';

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
  /** A Debian 12 VM running vm/startup.sh with this release (Debian runtime). */
  startup?: MasterMetadataInput['startup'];
  /** Contract v2: keys in Secret Manager; default: inline in metadata (a cluster made before v2). */
  keys?: SecretKeys;
  /** An ephemeral external IP (tcp:443 reaches the VM through it). */
  externalIp?: boolean;
}

const items = (values: Record<string, string>) => Object.entries(values).map(([key, value]) => ({ key, value }));
const IMAGES = {
  process: 'projects/cos-cloud/global/images/family/cos-stable',
  debian: 'projects/debian-cloud/global/images/family/debian-12',
};

/** Inserts the replica and gives it its member certificate; resolves with its internal IP. */
export async function insertMasterReplica(gce: Compute, spec: ReplicaSpec): Promise<string> {
  const { project, zone, name, pki, keys } = spec;
  const master = spec.master ?? name;
  let metadata = masterMetadata({
    pki,
    master,
    staticIp: spec.staticIp,
    state: spec.state ?? 'new',
    initialCluster: spec.initialCluster ?? [name],
    ...(spec.startup ? { startup: spec.startup } : {}),
  });
  if (keys) metadata = { ...(await masterKeysIntoSecrets(keys, project, master, metadata)), 'enable-guest-attributes': 'TRUE' };
  await gce.finish(
    await gce.instances.insert({
      project,
      zone,
      instanceResource: {
        name,
        machineType: `zones/${zone}/machineTypes/e2-standard-2`,
        disks: [
          { boot: true, autoDelete: true, initializeParams: { sourceImage: spec.startup ? IMAGES.debian : IMAGES.process } },
          { autoDelete: true, deviceName: `${name}-pd`, initializeParams: { diskName: `${name}-pd`, diskSizeGb: '20' } },
        ],
        networkInterfaces: [
          {
            network: 'global/networks/default',
            ...(spec.externalIp ? { accessConfigs: [{ type: 'ONE_TO_ONE_NAT', name: 'external-nat' }] } : {}),
          },
        ],
        ...(spec.tags ? { tags: { items: spec.tags } } : {}),
        ...(spec.labels ? { labels: spec.labels } : {}),
        ...(keys ? DEFAULT_SERVICE_ACCOUNT : {}),
        metadata: { items: items(metadata) },
      },
    }),
    project,
  );
  const [vm] = await gce.instances.get({ project, zone, instance: name });
  const ip = vm.networkInterfaces?.[0]?.networkIP as string;
  const kept = (vm.metadata?.items ?? []).map(({ key, value }) => ({ key, value }));
  let member = memberCertsMetadata(pki.member(name, ip));
  if (keys) member = await memberKeysIntoSecret(keys, project, master, name, member);
  await gce.finish(
    await gce.instances.setMetadata({
      project,
      zone,
      instance: name,
      metadataResource: {
        fingerprint: vm.metadata?.fingerprint,
        items: [...kept, ...items(member)],
      },
    }),
    project,
  );
  return ip;
}
