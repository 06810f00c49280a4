// What a VM's metadata says about it: whether it is a master replica (kube-env with
// INITIAL_ETCD_CLUSTER_STATE and the certificates) and, if so, everything its processes need.
import { createHash } from 'node:crypto';
import type { RuntimeInstance } from './types.ts';
import { decodeBase64Pem, parseFlatYaml } from './flat-yaml.ts';

export interface MasterSpec {
  vm: string;
  internalIp: string;
  initialState: 'new' | 'existing';
  /** VM names from INITIAL_ETCD_CLUSTER, itself included. */
  initialCluster: string[];
  etcdCaCert: string;
  apiserverCaCert: string;
  masterCert: string;
  masterKey: string;
  etcdClientCert: string;
  etcdClientKey: string;
  /** Client certificates of kube-controller-manager and kube-scheduler, when the metadata has them: they then run. */
  controllerManager?: { cert: string; key: string };
  scheduler?: { cert: string; key: string };
  /** Absent until the action has set `etcd-member-certs`: etcd waits for it. */
  member?: { cert: string; key: string };
  /** `etcd-force-new-cluster` (docs/vm-contract.md): a nonce; etcd forms a new one-member cluster from its data once per nonce. */
  forceNewCluster?: string;
  /**
   * `etcd-restore-from` (docs/vm-contract.md): restore this snapshot once per nonce before etcd
   * starts; `bad` holds a value that names a nonce but no snapshot, which fails the start-up as
   * vm/startup.sh fails it.
   */
  restoreFrom?: { nonce: string; bucket: string; object: string; generation: string; md5: string } | { nonce: string; bad: string };
  /** Changes with the IP or any cluster certificate: the VM's processes restart then. */
  fingerprint: string;
  /** Changes with the member certificate: etcd (only) restarts then. '' while there is none. */
  memberFingerprint: string;
}

export const MEMBER_CERTS_KEY = 'etcd-member-certs';

export function masterSpecOf(instance: RuntimeInstance): MasterSpec | undefined {
  const kubeEnvText = instance.metadata['kube-env'];
  const masterCertsText = instance.metadata['kube-master-certs'];
  if (!kubeEnvText || !masterCertsText) return undefined;
  const env = parseFlatYaml(kubeEnvText);
  const certs = parseFlatYaml(masterCertsText);
  const state = env.INITIAL_ETCD_CLUSTER_STATE;
  if (state !== 'new' && state !== 'existing') return undefined;
  const etcdCaCert = decodeBase64Pem(env.ETCD_CA_CERT);
  const apiserverCaCert = decodeBase64Pem(certs.CA_CERT);
  const masterCert = decodeBase64Pem(certs.MASTER_CERT);
  const masterKey = decodeBase64Pem(certs.MASTER_KEY);
  const etcdClientCert = decodeBase64Pem(certs.ETCD_APISERVER_CLIENT_CERT);
  const etcdClientKey = decodeBase64Pem(certs.ETCD_APISERVER_CLIENT_KEY);
  if (!etcdCaCert || !apiserverCaCert || !masterCert || !masterKey || !etcdClientCert || !etcdClientKey) return undefined;

  const pair = (certKey: string, keyKey: string) => {
    const cert = decodeBase64Pem(certs[certKey]);
    const key = decodeBase64Pem(certs[keyKey]);
    return cert && key ? { cert, key } : undefined;
  };
  const controllerManager = pair('KUBE_CONTROLLER_MANAGER_CERT', 'KUBE_CONTROLLER_MANAGER_KEY');
  const scheduler = pair('KUBE_SCHEDULER_CERT', 'KUBE_SCHEDULER_KEY');

  const memberText = instance.metadata[MEMBER_CERTS_KEY];
  const memberValues = memberText ? parseFlatYaml(memberText) : {};
  const memberCert = decodeBase64Pem(memberValues.ETCD_MEMBER_CERT);
  const memberKey = decodeBase64Pem(memberValues.ETCD_MEMBER_KEY);
  const member = memberCert && memberKey ? { cert: memberCert, key: memberKey } : undefined;

  const initialCluster = (env.INITIAL_ETCD_CLUSTER ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // INITIAL_* only matter for the first boot, so they stay out of the fingerprint.
  const fingerprint = sha256([
    instance.internalIp,
    etcdCaCert,
    apiserverCaCert,
    masterCert,
    masterKey,
    etcdClientCert,
    etcdClientKey,
    controllerManager?.cert ?? '',
    scheduler?.cert ?? '',
  ]);
  const memberFingerprint = member ? sha256([member.cert, member.key]) : '';
  return {
    vm: instance.name,
    internalIp: instance.internalIp,
    initialState: state,
    initialCluster,
    etcdCaCert,
    apiserverCaCert,
    masterCert,
    masterKey,
    etcdClientCert,
    etcdClientKey,
    ...(controllerManager ? { controllerManager } : {}),
    ...(instance.metadata['etcd-force-new-cluster'] ? { forceNewCluster: instance.metadata['etcd-force-new-cluster'] } : {}),
    ...restoreRequestOf(instance.metadata['etcd-restore-from']),
    ...(scheduler ? { scheduler } : {}),
    member,
    fingerprint,
    memberFingerprint,
  };
}

function sha256(parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex');
}

/**
 * `<nonce> <bucket> <object, URL-encoded> <generation> <md5 or ->`, checked as vm/startup.sh checks
 * it; no nonce asks for nothing, a nonce with anything malformed after it is a bad request.
 */
export function restoreRequestOf(value: string | undefined): { restoreFrom?: NonNullable<MasterSpec['restoreFrom']> } {
  const text = (value ?? '').trim();
  const [nonce, bucket, object, generation, md5, extra] = text.split(/\s+/);
  if (!nonce) return {};
  const wellFormed =
    md5 !== undefined &&
    extra === undefined &&
    /^[0-9]+$/.test(generation ?? '') &&
    /^[a-z0-9._-]+$/.test(bucket ?? '') &&
    /^[A-Za-z0-9%._~!*'()-]+$/.test(object ?? '');
  if (!wellFormed) return { restoreFrom: { nonce, bad: text } };
  return { restoreFrom: { nonce, bucket: bucket!, object: decodeURIComponent(object!), generation: generation!, md5 } };
}
