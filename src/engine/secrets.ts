// The cluster's key material. It is made once, with the first master, and lives in the masters'
// metadata (as kube-up kept it); later runs read it back from any replica. Every value passes
// through `mask` before anything can print it.
import { createCa, issueClientCert, issueMemberCert, issueServingCert } from '../etcd/certs.ts';
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
}

export async function newClusterSecrets(master: string, staticIp: string): Promise<ClusterSecrets> {
  const etcdCa = await createCa(`${master}-etcd-ca`);
  const apiCa = await createCa(`${master}-ca`);
  const etcdClient = await issueClientCert(etcdCa, 'client');
  const apiServing = await issueServingCert(apiCa, {
    ips: [staticIp, '127.0.0.1'],
    dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', master],
  });
  return { etcdCa, etcdClient, apiCa, apiServing };
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
    },
  };
}

/** Reads the secrets back from a master VM's metadata; undefined if any piece is missing. */
export function secretsFromInstance(vm: InstanceInfo): ClusterSecrets | undefined {
  const env = decodeFlatYaml(vm.metadata['kube-env'] ?? '');
  const certs = decodeFlatYaml(vm.metadata['kube-master-certs'] ?? '');
  const need = [env.ETCD_CA_CERT, env.ETCD_CA_KEY, certs.CA_CERT, certs.CA_KEY, certs.MASTER_CERT, certs.MASTER_KEY, certs.ETCD_APISERVER_CLIENT_CERT, certs.ETCD_APISERVER_CLIENT_KEY];
  if (need.some((v) => !v)) return undefined;
  return {
    etcdCa: { cert: unb64(env.ETCD_CA_CERT!), key: unb64(env.ETCD_CA_KEY!) },
    apiCa: { cert: unb64(certs.CA_CERT!), key: unb64(certs.CA_KEY!) },
    apiServing: { cert: unb64(certs.MASTER_CERT!), key: unb64(certs.MASTER_KEY!) },
    etcdClient: { cert: unb64(certs.ETCD_APISERVER_CLIENT_CERT!), key: unb64(certs.ETCD_APISERVER_CLIENT_KEY!) },
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
  return [s.etcdCa.key, s.etcdClient.key, s.apiCa.key, s.apiServing.key].flatMap(keyMaskValues);
}

export function keyMaskValues(pem: string): string[] {
  const lines = pem.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('-----'));
  return [...lines, b64(pem)];
}
