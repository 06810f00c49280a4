// Metadata of a new master VM, per docs/vm-contract.md. The replica's own etcd certificate is
// not here: it needs the VM's internal IP, which GCE assigns at insert (see setMemberCerts).
import type { ClusterNames, ClusterSettings } from '../model.ts';
import { b64, encodeFlatYaml } from './kube-yaml.ts';
import { secretsToMetadata } from './secrets.ts';
import type { ClusterSecrets, KeyPair } from './secrets.ts';

export const MEMBER_CERTS_KEY = 'etcd-member-certs';

export interface ReplicaMetadataInput {
  names: ClusterNames;
  vm: string;
  first: boolean;
  /** Replicas that exist now: the VM asks their etcd for the member list. */
  seeds: string[];
  staticIp: string;
  settings: ClusterSettings;
  secrets: ClusterSecrets;
  zone: string;
}

export function replicaMetadata(input: ReplicaMetadataInput): Record<string, string> {
  const { names, vm, first, seeds, staticIp, settings, secrets } = input;
  const stored = secretsToMetadata(secrets);
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
    ...stored.kubeEnv,
  };
  return {
    'kube-env': encodeFlatYaml(kubeEnv),
    'kube-master-certs': encodeFlatYaml(stored.masterCerts),
    'cluster-name': names.prefix,
    'cluster-location': input.zone,
  };
}

export function memberCertsMetadata(pair: KeyPair): string {
  return encodeFlatYaml({ ETCD_MEMBER_CERT: b64(pair.cert), ETCD_MEMBER_KEY: b64(pair.key) });
}

export function settingsFromKubeEnv(env: Record<string, string>): ClusterSettings | undefined {
  if (env.MULTIZONE === undefined && env.ENABLE_ETCD_QUORUM_READ === undefined) return undefined;
  return { multizone: env.MULTIZONE === 'true', quorumRead: env.ENABLE_ETCD_QUORUM_READ === 'true' };
}
