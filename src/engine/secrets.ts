// The cluster's key material. It is made once, with the first master, and lives in the masters'
// metadata (as kube-up kept it); later runs read it back from any replica. Every value passes
// through `mask` before anything can print it.
import { createCa, createSigningKey, issueClientCert, issueMemberCert, issueServingCert } from '../etcd/certs.ts';
import type { InstanceInfo } from '../gce/types.ts';
import type { TlsMaterial } from '../etcd/types.ts';
import { b64, decodeFlatYaml, unb64 } from './kube-yaml.ts';

export interface KeyPair {
  cert: string;
  key: string;
}

export interface ClusterSecrets {
  etcdCa: KeyPair;
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

/** The cluster's service names: every apiserver serving certificate carries them. */
export function apiServerDnsNames(master: string): string[] {
  return ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', master];
}

export async function newClusterSecrets(master: string, staticIp: string): Promise<ClusterSecrets> {
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
export async function replicaServingCertFor(secrets: ClusterSecrets, master: string, staticIp: string, internalIp: string): Promise<KeyPair> {
  return issueServingCert(secrets.apiCa, { ips: [staticIp, internalIp, '127.0.0.1'], dnsNames: apiServerDnsNames(master) });
}

export async function memberCertFor(secrets: ClusterSecrets, vmName: string, internalIp: string): Promise<KeyPair> {
  return issueMemberCert(secrets.etcdCa, { vmName, internalIp });
}

/** Secrets as stored in `kube-env` and `kube-master-certs`. */
export function secretsToMetadata(s: ClusterSecrets): { kubeEnv: Record<string, string>; masterCerts: Record<string, string> } {
  return {
    kubeEnv: { ETCD_CA_CERT: b64(s.etcdCa.cert), ETCD_CA_KEY: b64(s.etcdCa.key) },
    masterCerts: {
      CA_CERT: b64(s.apiCa.cert),
      CA_KEY: b64(s.apiCa.key),
      MASTER_CERT: b64(s.apiServing.cert),
      MASTER_KEY: b64(s.apiServing.key),
      ETCD_APISERVER_CLIENT_CERT: b64(s.etcdClient.cert),
      ETCD_APISERVER_CLIENT_KEY: b64(s.etcdClient.key),
      SERVICE_ACCOUNT_KEY: b64(s.serviceAccountKey),
      KUBE_CONTROLLER_MANAGER_CERT: b64(s.controllerManager.cert),
      KUBE_CONTROLLER_MANAGER_KEY: b64(s.controllerManager.key),
      KUBE_SCHEDULER_CERT: b64(s.scheduler.cert),
      KUBE_SCHEDULER_KEY: b64(s.scheduler.key),
    },
  };
}

/** Reads the secrets back from a master VM's metadata; undefined if any piece is missing. */
export function secretsFromInstance(vm: InstanceInfo): ClusterSecrets | undefined {
  const env = decodeFlatYaml(vm.metadata['kube-env'] ?? '');
  const certs = decodeFlatYaml(vm.metadata['kube-master-certs'] ?? '');
  const need = [
    env.ETCD_CA_CERT, env.ETCD_CA_KEY, certs.CA_CERT, certs.CA_KEY, certs.MASTER_CERT, certs.MASTER_KEY, certs.ETCD_APISERVER_CLIENT_CERT,
    certs.ETCD_APISERVER_CLIENT_KEY, certs.SERVICE_ACCOUNT_KEY, certs.KUBE_CONTROLLER_MANAGER_CERT, certs.KUBE_CONTROLLER_MANAGER_KEY,
    certs.KUBE_SCHEDULER_CERT, certs.KUBE_SCHEDULER_KEY,
  ];
  if (need.some((v) => !v)) return undefined;
  return {
    etcdCa: { cert: unb64(env.ETCD_CA_CERT!), key: unb64(env.ETCD_CA_KEY!) },
    apiCa: { cert: unb64(certs.CA_CERT!), key: unb64(certs.CA_KEY!) },
    apiServing: { cert: unb64(certs.MASTER_CERT!), key: unb64(certs.MASTER_KEY!) },
    etcdClient: { cert: unb64(certs.ETCD_APISERVER_CLIENT_CERT!), key: unb64(certs.ETCD_APISERVER_CLIENT_KEY!) },
    serviceAccountKey: unb64(certs.SERVICE_ACCOUNT_KEY!),
    controllerManager: { cert: unb64(certs.KUBE_CONTROLLER_MANAGER_CERT!), key: unb64(certs.KUBE_CONTROLLER_MANAGER_KEY!) },
    scheduler: { cert: unb64(certs.KUBE_SCHEDULER_CERT!), key: unb64(certs.KUBE_SCHEDULER_KEY!) },
  };
}

export function etcdClientTls(s: ClusterSecrets): TlsMaterial {
  return { ca: s.etcdCa.cert, cert: s.etcdClient.cert, key: s.etcdClient.key };
}

/**
 * Every secret string for masking: each private key's base64 lines (the runner masks line by
 * line, so a whole multi-line PEM would not hide its lines) and the key's base64 form as it sits
 * in metadata.
 */
export function secretValues(s: ClusterSecrets): string[] {
  return [s.etcdCa.key, s.etcdClient.key, s.apiCa.key, s.apiServing.key, s.serviceAccountKey, s.controllerManager.key, s.scheduler.key].flatMap(keyMaskValues);
}

export function keyMaskValues(pem: string): string[] {
  const lines = pem.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('-----'));
  return [...lines, b64(pem)];
}
