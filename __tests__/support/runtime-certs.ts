// Certificates and master-replica metadata for tests that drive the emulator's VM runtime
// directly: made with the openssl CLI (ECDSA P-256, one day), shaped as docs/vm-contract.md says.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';

export interface Pem {
  cert: string;
  key: string;
}

export interface TestPki {
  etcdCa: Pem;
  apiserverCa: Pem;
  master: Pem;
  etcdClient: Pem;
  /** A cluster admin (group system:masters), as the action mints one. */
  admin: Pem;
  /** kube-controller-manager's and kube-scheduler's client certificates (CN system:<name>). */
  controllerManager: Pem;
  scheduler: Pem;
  member(vm: string, ip: string): Pem;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): Pem {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
  ]);
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

function makeLeaf(dir: string, ca: string, name: string, cn: string, sans: string[], usages: string): Pem {
  const ext = [
    'basicConstraints=CA:FALSE',
    'keyUsage=digitalSignature,keyEncipherment',
    `extendedKeyUsage=${usages}`,
    ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []),
  ].join('\n');
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${cn}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-set_serial',
    String(randomInt(1, 2 ** 47)),
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
  return { cert: readFileSync(join(dir, `${name}.crt`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') };
}

/** A fresh PKI; `staticIp` goes into the apiserver serving certificate, as the action does. */
export function makeTestPki(master: string, staticIp: string): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'runtime-pki-'));
  try {
    const etcdCa = makeCa(dir, 'etcd-ca');
    const apiserverCa = makeCa(dir, 'apiserver-ca');
    const masterPem = makeLeaf(
      dir,
      'apiserver-ca',
      'master',
      'kube-apiserver',
      [`IP:${staticIp}`, 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', `DNS:${master}`],
      'serverAuth',
    );
    const etcdClient = makeLeaf(dir, 'etcd-ca', 'client', 'client', [], 'clientAuth');
    const admin = makeLeaf(dir, 'apiserver-ca', 'admin', 'ha-masters-admin/O=system:masters', [], 'clientAuth');
    const controllerManager = makeLeaf(dir, 'apiserver-ca', 'kcm', 'system:kube-controller-manager', [], 'clientAuth');
    const scheduler = makeLeaf(dir, 'apiserver-ca', 'scheduler', 'system:kube-scheduler', [], 'clientAuth');
    return {
      etcdCa,
      apiserverCa,
      master: masterPem,
      etcdClient,
      admin,
      controllerManager,
      scheduler,
      // Member certificates are made on demand (they need the VM's IP), from the same CA files.
      member: (vm, ip) => {
        const d = mkdtempSync(join(tmpdir(), 'runtime-member-'));
        try {
          writeFileSync(join(d, 'etcd-ca.crt'), etcdCa.cert);
          writeFileSync(join(d, 'etcd-ca.key'), etcdCa.key);
          return makeLeaf(d, 'etcd-ca', 'member', vm, [`IP:${ip}`, 'IP:127.0.0.1', `DNS:${vm}`], 'serverAuth,clientAuth');
        } finally {
          rmSync(d, { recursive: true, force: true });
        }
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export function flatYaml(values: Record<string, string>): string {
  return (
    Object.entries(values)
      .map(([k, v]) => `${k}: '${v.replace(/'/g, "''")}'`)
      .join('\n') + '\n'
  );
}

export interface MasterMetadataInput {
  pki: TestPki;
  master: string;
  staticIp: string;
  state: 'new' | 'existing';
  /** VM names, the new VM included. */
  initialCluster: string[];
  /** For vm/startup.sh (Debian runtime): the `ha-masters-release` text and the seeds' client URLs. */
  startup?: { release: string; seedEndpoints?: string[] };
}

/** What vm/startup.sh needs beyond the process runtime: its own text, the release, the components' material. */
function startupMetadata(input: MasterMetadataInput & { startup: NonNullable<MasterMetadataInput['startup']> }) {
  const { pki } = input;
  return {
    env: { ETCD_SEED_ENDPOINTS: (input.startup.seedEndpoints ?? []).join(','), SERVICE_CLUSTER_IP_RANGE: '10.0.0.0/16' },
    certs: {
      CA_KEY: b64(pki.apiserverCa.key),
      // Any private key signs service-account tokens; the admin's is at hand.
      SERVICE_ACCOUNT_KEY: b64(pki.admin.key),
      KUBE_CONTROLLER_MANAGER_CERT: b64(pki.controllerManager.cert),
      KUBE_CONTROLLER_MANAGER_KEY: b64(pki.controllerManager.key),
      KUBE_SCHEDULER_CERT: b64(pki.scheduler.cert),
      KUBE_SCHEDULER_KEY: b64(pki.scheduler.key),
    },
    items: {
      'startup-script': readFileSync(join(import.meta.dirname, '../../vm/startup.sh'), 'utf8'),
      'enable-guest-attributes': 'TRUE',
      'ha-masters-release': input.startup.release,
    },
  };
}

/** kube-env + kube-master-certs, without the per-replica etcd-member-certs. */
export function masterMetadata(input: MasterMetadataInput): Record<string, string> {
  const { pki } = input;
  const startup = input.startup ? startupMetadata({ ...input, startup: input.startup }) : undefined;
  return {
    ...startup?.items,
    'kube-env': flatYaml({
      INSTANCE_PREFIX: input.master.replace(/-master$/, ''),
      MASTER_NAME: input.master,
      MULTIZONE: 'true',
      ENABLE_ETCD_QUORUM_READ: 'true',
      MASTER_ADVERTISE_ADDRESS: input.staticIp,
      INITIAL_ETCD_CLUSTER: input.initialCluster.join(','),
      INITIAL_ETCD_CLUSTER_STATE: input.state,
      ETCD_CA_CERT: b64(pki.etcdCa.cert),
      ETCD_CA_KEY: b64(pki.etcdCa.key),
      ...startup?.env,
    }),
    'kube-master-certs': flatYaml({
      CA_CERT: b64(pki.apiserverCa.cert),
      MASTER_CERT: b64(pki.master.cert),
      MASTER_KEY: b64(pki.master.key),
      ETCD_APISERVER_CLIENT_CERT: b64(pki.etcdClient.cert),
      ETCD_APISERVER_CLIENT_KEY: b64(pki.etcdClient.key),
      ...startup?.certs,
    }),
  };
}

export function memberCertsMetadata(pem: Pem): Record<string, string> {
  return { 'etcd-member-certs': flatYaml({ ETCD_MEMBER_CERT: b64(pem.cert), ETCD_MEMBER_KEY: b64(pem.key) }) };
}

/** A random 127.B.x.0/24-ish base so concurrent test files never share addresses. */
export function randomLoopbackBase(): string {
  return `127.${randomInt(16, 251)}.${randomInt(0, 256)}`;
}
