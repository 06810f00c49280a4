// Metadata of a new master VM, per docs/vm-contract.md. The replica's own etcd certificate is
// not here: it needs the VM's internal IP, which GCE assigns at insert (see setMemberCerts).
import type { ClusterNames, ClusterSettings } from '../model.ts';
import { b64, decodeFlatYaml, encodeFlatYaml } from './kube-yaml.ts';
import { certsToMetadata, ETCD_CA_KEY_SECRET, KEYS_SECRET } from './secrets.ts';
import type { ClusterSecrets, KeyPair, KeyRefs } from './secrets.ts';
import { METADATA_KEY as RELEASE_KEY, toMetadata } from '../release/manifest.ts';
import type { ReleaseManifest } from '../release/manifest.ts';
import { startupScript } from '../vm/startup-script.ts';

export const MEMBER_CERTS_KEY = 'etcd-member-certs';
/** kube-up's default service range (cluster/gce/config-default.sh SERVICE_CLUSTER_IP_RANGE). */
export const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/16';

export interface ReplicaMetadataInput {
  names: ClusterNames;
  vm: string;
  first: boolean;
  /** Replicas that exist now: the VM asks their etcd for the member list. */
  seeds: string[];
  /** Their etcd client URLs (`https://<internal IP>:2379`), where the VM asks. */
  seedEndpoints: string[];
  release: ReleaseManifest;
  staticIp: string;
  settings: ClusterSettings;
  secrets: ClusterSecrets;
  /** The Secret Manager versions of the cluster's keys. */
  refs: KeyRefs;
  zone: string;
}

export function replicaMetadata(input: ReplicaMetadataInput): Record<string, string> {
  const { names, vm, first, seeds, staticIp, settings, secrets } = input;
  const stored = certsToMetadata(secrets, input.refs);
  const kubeEnv = {
    INSTANCE_PREFIX: names.prefix,
    MASTER_NAME: names.master,
    MULTIZONE: String(settings.multizone),
    ENABLE_ETCD_QUORUM_READ: String(settings.quorumRead),
    MASTER_ADVERTISE_ADDRESS: staticIp,
    KUBERNETES_MASTER_NAME: staticIp,
    KUBELET_APISERVER: staticIp,
    INITIAL_ETCD_CLUSTER: [...new Set([...seeds, vm])].join(','),
    INITIAL_ETCD_CLUSTER_STATE: first ? 'new' : 'existing',
    ETCD_SEED_ENDPOINTS: first ? '' : input.seedEndpoints.join(','),
    SERVICE_CLUSTER_IP_RANGE,
    ...stored.kubeEnv,
  };
  return {
    'kube-env': encodeFlatYaml(kubeEnv),
    'kube-master-certs': encodeFlatYaml(stored.masterCerts),
    'cluster-name': names.prefix,
    'cluster-location': input.zone,
    'startup-script': startupScript(),
    // GCE takes guest attributes only from VMs whose metadata enables them: the script reports there.
    'enable-guest-attributes': 'TRUE',
    [RELEASE_KEY]: toMetadata(input.release),
  };
}

/** The replica's own certificates (its etcd member cert, its apiserver serving cert) and the version of their keys. */
export function memberCertsMetadata(pair: KeyPair, serving: KeyPair | undefined, keysVersion: string): string {
  return encodeFlatYaml({
    ETCD_MEMBER_CERT: b64(pair.cert),
    ...(serving ? { APISERVER_CERT: b64(serving.cert) } : {}),
    [KEYS_SECRET]: keysVersion,
  });
}

/**
 * An earlier version's metadata with its keys moved out: `kube-env` and `kube-master-certs` keep
 * everything but the keys and name the cluster's versions; the start-up script becomes this
 * version's. (`etcd-member-certs` is the caller's: its keys need a secret of their own.)
 */
export function withoutInlineKeys(metadata: Record<string, string>, refs: KeyRefs): Record<string, string> {
  const strip = (value: string): Record<string, string> =>
    Object.fromEntries(Object.entries(decodeFlatYaml(value)).filter(([k]) => !k.endsWith('_KEY')));
  return {
    ...metadata,
    'kube-env': encodeFlatYaml(strip(metadata['kube-env'] ?? '')),
    'kube-master-certs': encodeFlatYaml({
      ...strip(metadata['kube-master-certs'] ?? ''),
      [KEYS_SECRET]: refs.clusterKeys,
      [ETCD_CA_KEY_SECRET]: refs.etcdCaKey,
    }),
    'startup-script': startupScript(),
  };
}

export function settingsFromKubeEnv(env: Record<string, string>): ClusterSettings | undefined {
  if (env.MULTIZONE === undefined && env.ENABLE_ETCD_QUORUM_READ === undefined) return undefined;
  return { multizone: env.MULTIZONE === 'true', quorumRead: env.ENABLE_ETCD_QUORUM_READ === 'true' };
}
