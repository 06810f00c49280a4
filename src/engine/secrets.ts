// The cluster's key material and where each piece is written (docs/vm-contract.md). Certificates
// are public and live in the masters' metadata; every private key lives in Secret Manager, in the
// payloads built here, and metadata names the exact version of each. A cluster made before that
// (keys inline in metadata, as kube-up kept them) is still read, so that `up` can move it.
// Every key passes through `mask` before anything can print it.
import { createCa, createSigningKey, issueClientCert, issueMemberCert, issueServingCert } from '../etcd/certs.ts';
import type { InstanceInfo } from '../gce/types.ts';
import type { TlsMaterial } from '../etcd/types.ts';
import { b64, decodeFlatYaml, encodeFlatYaml, unb64 } from './kube-yaml.ts';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface ClusterSecrets {
  /** The etcd CA; its key is read only to issue a member certificate (see KeyStore.withEtcdCaKey). */
  etcdCa: { cert: string; key?: string };
  /** Client certificate for etcd (the apiservers' and the action's). */
  etcdClient: KeyPair;
  apiCa: KeyPair;
  /** The apiserver serving certificate every replica shares (SAN: the static IP). */
  apiServing: KeyPair;
  /** Signs service-account tokens; every replica's apiserver must share it. */
  serviceAccountKey: string;
  /** Client certificates of kube-controller-manager and kube-scheduler (signed by apiCa). */
  controllerManager: KeyPair;
  scheduler: KeyPair;
}

/** Version names (`projects/<number>/secrets/<id>/versions/<n>`) of the cluster's two key secrets. */
export interface KeyRefs {
  clusterKeys: string;
  etcdCaKey: string;
}

/** Metadata keys that name a secret version instead of holding a key. */
export const KEYS_SECRET = 'KEYS_SECRET';
export const ETCD_CA_KEY_SECRET = 'ETCD_CA_KEY_SECRET';

/** The cluster's service names: every apiserver serving certificate carries them. */
export function apiServerDnsNames(master: string): string[] {
  return ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', master];
}

export async function newClusterSecrets(master: string, staticIp: string): Promise<ClusterSecrets & { etcdCa: KeyPair }> {
  const etcdCa = await createCa(`${master}-etcd-ca`);
  const apiCa = await createCa(`${master}-ca`);
  const etcdClient = await issueClientCert(etcdCa, 'client');
  const apiServing = await issueServingCert(apiCa, { ips: [staticIp, '127.0.0.1'], dnsNames: apiServerDnsNames(master) });
  const serviceAccountKey = await createSigningKey();
  const controllerManager = await issueClientCert(apiCa, 'system:kube-controller-manager');
  const scheduler = await issueClientCert(apiCa, 'system:kube-scheduler');
  return { etcdCa, etcdClient, apiCa, apiServing, serviceAccountKey, controllerManager, scheduler };
}

/**
 * One replica's apiserver serving certificate: the static IP (users and kubelets) and this
 * replica's internal IP (its peers and the health checks), as the seed asks.
 */
export async function replicaServingCertFor(
  secrets: ClusterSecrets,
  master: string,
  staticIp: string,
  internalIp: string,
): Promise<KeyPair> {
  return issueServingCert(secrets.apiCa, { ips: [staticIp, internalIp, '127.0.0.1'], dnsNames: apiServerDnsNames(master) });
}

export async function memberCertFor(etcdCa: KeyPair, vmName: string, internalIp: string): Promise<KeyPair> {
  return issueMemberCert(etcdCa, { vmName, internalIp });
}

/** `kube-env` and `kube-master-certs` entries: certificates and the key secrets' versions, no key. */
export function certsToMetadata(
  s: ClusterSecrets,
  refs: KeyRefs,
): { kubeEnv: Record<string, string>; masterCerts: Record<string, string> } {
  return {
    kubeEnv: { ETCD_CA_CERT: b64(s.etcdCa.cert) },
    masterCerts: {
      CA_CERT: b64(s.apiCa.cert),
      MASTER_CERT: b64(s.apiServing.cert),
      ETCD_APISERVER_CLIENT_CERT: b64(s.etcdClient.cert),
      KUBE_CONTROLLER_MANAGER_CERT: b64(s.controllerManager.cert),
      KUBE_SCHEDULER_CERT: b64(s.scheduler.cert),
      [KEYS_SECRET]: refs.clusterKeys,
      [ETCD_CA_KEY_SECRET]: refs.etcdCaKey,
    },
  };
}

/** The payload of `<master>-cluster-keys`: what every replica's processes need. */
/**
 * The payload of `<master>-cluster-keys`: the private keys, and (as `PUBLIC_<name>`, which a VM's
 * start-up ignores) the certificates that go with them, so that a cluster whose every VM is gone can
 * be made again with the same CAs and keys (KeyStore.loadLatest).
 */
export function clusterKeysPayload(s: ClusterSecrets): Buffer {
  return Buffer.from(
    encodeFlatYaml({
      ...Object.fromEntries(Object.entries(certValues(s)).map(([k, v]) => [`${PUBLIC_PREFIX}${k}`, v])),
      CA_KEY: b64(s.apiCa.key),
      MASTER_KEY: b64(s.apiServing.key),
      ETCD_APISERVER_CLIENT_KEY: b64(s.etcdClient.key),
      SERVICE_ACCOUNT_KEY: b64(s.serviceAccountKey),
      KUBE_CONTROLLER_MANAGER_KEY: b64(s.controllerManager.key),
      KUBE_SCHEDULER_KEY: b64(s.scheduler.key),
    }),
  );
}

/** The payload of `<master>-etcd-ca-key`: only the action reads it. */
export function etcdCaKeyPayload(key: string): Buffer {
  return Buffer.from(encodeFlatYaml({ ETCD_CA_KEY: b64(key) }));
}

export function etcdCaKeyFromPayload(payload: Buffer, version: string): string {
  const key = decodeFlatYaml(payload.toString('utf8')).ETCD_CA_KEY;
  if (!key)
    throw new Error(`${version} holds no ETCD_CA_KEY: the cluster's etcd CA key is lost, so no new replica can get a member certificate`);
  return unb64(key);
}

/** The payload of `<vm>-replica-keys`. */
export function replicaKeysPayload(member: KeyPair, serving?: KeyPair): Buffer {
  return Buffer.from(encodeFlatYaml({ ETCD_MEMBER_KEY: b64(member.key), ...(serving ? { APISERVER_KEY: b64(serving.key) } : {}) }));
}

/**
 * What a master VM's metadata says of the cluster's keys: the keys themselves (a cluster made
 * before Secret Manager), or the certificates and the versions that hold the keys.
 */
export type StoredKeys =
  | { where: 'metadata'; secrets: ClusterSecrets & { etcdCa: KeyPair }; vm: string }
  | { where: 'secret-manager'; refs: KeyRefs; certs: Record<string, string>; vm: string };

const CERT_KEYS = ['CA_CERT', 'MASTER_CERT', 'ETCD_APISERVER_CLIENT_CERT', 'KUBE_CONTROLLER_MANAGER_CERT', 'KUBE_SCHEDULER_CERT'] as const;
const CLUSTER_KEY_KEYS = [
  'CA_KEY',
  'MASTER_KEY',
  'ETCD_APISERVER_CLIENT_KEY',
  'SERVICE_ACCOUNT_KEY',
  'KUBE_CONTROLLER_MANAGER_KEY',
  'KUBE_SCHEDULER_KEY',
] as const;
/** Whether a VM's metadata holds a private key in any of the three values (an earlier version's way). */
export function holdsInlineKeys(vm: InstanceInfo): boolean {
  return ['kube-env', 'kube-master-certs', 'etcd-member-certs'].some((item) =>
    Object.entries(decodeFlatYaml(vm.metadata[item] ?? '')).some(([k, v]) => k.endsWith('_KEY') && v !== ''),
  );
}

export function storedKeysOf(vm: InstanceInfo): StoredKeys | undefined {
  const env = decodeFlatYaml(vm.metadata['kube-env'] ?? '');
  const certs = decodeFlatYaml(vm.metadata['kube-master-certs'] ?? '');
  if (!env.ETCD_CA_CERT || CERT_KEYS.some((k) => !certs[k])) return undefined;
  const all = { ...certs, ETCD_CA_CERT: env.ETCD_CA_CERT };
  if (certs[KEYS_SECRET] && certs[ETCD_CA_KEY_SECRET]) {
    return {
      where: 'secret-manager',
      refs: { clusterKeys: certs[KEYS_SECRET], etcdCaKey: certs[ETCD_CA_KEY_SECRET] },
      certs: all,
      vm: vm.name,
    };
  }
  if (!env.ETCD_CA_KEY || CLUSTER_KEY_KEYS.some((k) => !certs[k])) return undefined;
  return {
    where: 'metadata',
    secrets: { ...assemble(all, certs), etcdCa: { cert: unb64(env.ETCD_CA_CERT), key: unb64(env.ETCD_CA_KEY) } },
    vm: vm.name,
  };
}

const PUBLIC_PREFIX = 'PUBLIC_';

/** The cluster-wide certificates under their metadata names (base64 PEM). */
function certValues(s: ClusterSecrets): Record<(typeof CERT_KEYS)[number] | 'ETCD_CA_CERT', string> {
  return {
    ETCD_CA_CERT: b64(s.etcdCa.cert),
    CA_CERT: b64(s.apiCa.cert),
    MASTER_CERT: b64(s.apiServing.cert),
    ETCD_APISERVER_CLIENT_CERT: b64(s.etcdClient.cert),
    KUBE_CONTROLLER_MANAGER_CERT: b64(s.controllerManager.cert),
    KUBE_SCHEDULER_CERT: b64(s.scheduler.cert),
  };
}

/**
 * The certificates a `<master>-cluster-keys` payload carries beside its keys, under their metadata
 * names; undefined for a payload written before it carried them.
 */
export function certsFromPayload(payload: Buffer): Record<string, string> | undefined {
  const all = decodeFlatYaml(payload.toString('utf8'));
  const certs = Object.fromEntries(
    [...CERT_KEYS, 'ETCD_CA_CERT'].map((k) => [k, all[`${PUBLIC_PREFIX}${k}`] ?? '']).filter(([, v]) => v !== ''),
  );
  return Object.keys(certs).length === CERT_KEYS.length + 1 ? certs : undefined;
}

/** Certificates from metadata and keys from `<master>-cluster-keys`, as one set. */
export function secretsFromPayload(stored: Extract<StoredKeys, { where: 'secret-manager' }>, payload: Buffer): ClusterSecrets {
  const keys = decodeFlatYaml(payload.toString('utf8'));
  const missing = CLUSTER_KEY_KEYS.filter((k) => !keys[k]);
  if (missing.length)
    throw new Error(
      `${stored.refs.clusterKeys} lacks ${missing.join(', ')}: the cluster's keys are incomplete (it was changed outside ha-masters)`,
    );
  return assemble(stored.certs, keys);
}

function assemble(certs: Record<string, string>, keys: Record<string, string>): ClusterSecrets {
  const pair = (cert: string, key: string): KeyPair => ({ cert: unb64(certs[cert]!), key: unb64(keys[key]!) });
  return {
    etcdCa: { cert: unb64(certs.ETCD_CA_CERT!) },
    apiCa: pair('CA_CERT', 'CA_KEY'),
    apiServing: pair('MASTER_CERT', 'MASTER_KEY'),
    etcdClient: pair('ETCD_APISERVER_CLIENT_CERT', 'ETCD_APISERVER_CLIENT_KEY'),
    serviceAccountKey: unb64(keys.SERVICE_ACCOUNT_KEY!),
    controllerManager: pair('KUBE_CONTROLLER_MANAGER_CERT', 'KUBE_CONTROLLER_MANAGER_KEY'),
    scheduler: pair('KUBE_SCHEDULER_CERT', 'KUBE_SCHEDULER_KEY'),
  };
}

export function etcdClientTls(s: ClusterSecrets): TlsMaterial {
  return { ca: s.etcdCa.cert, cert: s.etcdClient.cert, key: s.etcdClient.key };
}

/**
 * Every secret string for masking: each private key's base64 lines (the runner masks line by
 * line, so a whole multi-line PEM would not hide its lines) and the key's base64 form as it sits
 * in a payload or in an older cluster's metadata.
 */
export function secretValues(s: ClusterSecrets): string[] {
  const keys = [s.etcdClient.key, s.apiCa.key, s.apiServing.key, s.serviceAccountKey, s.controllerManager.key, s.scheduler.key];
  if (s.etcdCa.key) keys.push(s.etcdCa.key);
  return keys.flatMap(keyMaskValues);
}

export function keyMaskValues(pem: string): string[] {
  const lines = pem
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('-----'));
  return [...lines, b64(pem)];
}
