// The Kubernetes stand-ins a master VM runs from its kubernetes-server tarball
// (emulator/standins): the real binaries' command lines, the kube-apiserver stand-in against a real
// etcd (health, /version, authentication, Leases, kubectl), and leader election between
// kube-scheduler / kube-controller-manager stand-ins. The processes are started through the sh
// wrappers writeStandinBinaries() writes, the way the tarball runs them.
import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { promisify } from 'node:util';
import { startEtcdCluster } from '../support/etcd-cluster.ts';
import type { EtcdTestCluster } from '../support/etcd-cluster.ts';
import { randomLoopbackBase } from '../support/runtime-certs.ts';
import { processAlive, sleep, waitFor } from '../support/runtime-vms.ts';
import { writeStandinBinaries } from '../../emulator/standins/wrappers.ts';
import type { StandinName } from '../../emulator/standins/flags.ts';
import { flagSpec, FlagError, parseFlags } from '../../emulator/standins/flags.ts';
import type { Lease } from '../../emulator/standins/leases.ts';
import { identityLeaseName } from '../../emulator/runtime/apiserver-identity.ts';
import { deleteKubeSystemLease, listKubeSystemLeases } from '../../src/kube/lease-api.ts';
import type { ApiTarget } from '../../src/kube/lease-api.ts';
import { hostname } from 'node:os';

const run = promisify(execFile);
const REPO = process.cwd();
const NODE = existsSync(join(REPO, 'node_modules/node/bin/node')) ? join(REPO, 'node_modules/node/bin/node') : process.execPath;
const KUBECTL = '/usr/bin/kubectl';
const API_IP = `${randomLoopbackBase()}.10`;
const API_PORT = 6443;
const API = `https://${API_IP}:${API_PORT}`;

/** The flags the start-up script (vm/startup.sh) passes; every one must be accepted. */
const STARTUP_FLAGS: Record<StandinName, string[]> = {
  'kube-apiserver': [
    '--advertise-address',
    '--bind-address',
    '--secure-port',
    '--etcd-servers',
    '--etcd-cafile',
    '--etcd-certfile',
    '--etcd-keyfile',
    '--tls-cert-file',
    '--tls-private-key-file',
    '--client-ca-file',
    '--service-account-key-file',
    '--service-account-signing-key-file',
    '--service-account-issuer',
    '--service-cluster-ip-range',
    '--authorization-mode',
    '--enable-admission-plugins',
    '--allow-privileged',
    '--storage-backend',
    '--endpoint-reconciler-type',
  ],
  'kube-controller-manager': [
    '--kubeconfig',
    '--authentication-kubeconfig',
    '--authorization-kubeconfig',
    '--leader-elect',
    '--bind-address',
    '--service-account-private-key-file',
    '--root-ca-file',
    '--cluster-signing-cert-file',
    '--cluster-signing-key-file',
    '--use-service-account-credentials',
    '--cluster-name',
  ],
  'kube-scheduler': ['--kubeconfig', '--authentication-kubeconfig', '--authorization-kubeconfig', '--leader-elect', '--bind-address'],
};

let dir: string;
let bin: Record<StandinName, string>;
let etcd: EtcdTestCluster;
const procs: Proc[] = [];

interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  output: string[];
  exited: Promise<number | null>;
}

// ---------------------------------------------------------------------------------------------
// certificates (openssl, ECDSA P-256, one day)

function openssl(args: string[]): void {
  execFileSyncQuiet('openssl', args);
}

function execFileSyncQuiet(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.toString()}`);
}

function makeCa(name: string): void {
  openssl([
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
}

function makeLeaf(name: string, ca: string, subject: string, usage: 'serverAuth' | 'clientAuth', sans: string[] = []): void {
  writeFileSync(
    join(dir, `${name}.ext`),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      `extendedKeyUsage=${usage}`,
      ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []),
    ].join('\n'),
  );
  openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    subject,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-set_serial',
    String(Date.now() % 2 ** 40),
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
}

const file = (name: string): string => join(dir, name);
const pem = (name: string): string => readFileSync(file(name), 'utf8');

/** Relative paths resolve against the kubeconfig; components verify the name `kubernetes` as vm/startup.sh's do. */
function writeKubeconfig(user: string, tlsServerName?: string): string {
  const path = file(`${user}.kubeconfig`);
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: emulated',
      '  cluster:',
      `    server: ${API}`,
      '    certificate-authority: kube-ca.crt',
      ...(tlsServerName ? [`    tls-server-name: ${tlsServerName}`] : []),
      'users:',
      `- name: ${user}`,
      '  user:',
      `    client-certificate: ${user}.crt`,
      `    client-key: ${user}.key`,
      'contexts:',
      '- name: emulated',
      '  context:',
      '    cluster: emulated',
      `    user: ${user}`,
      'current-context: emulated',
      '',
    ].join('\n'),
  );
  return path;
}

// ---------------------------------------------------------------------------------------------
// processes

function start(name: StandinName, args: string[]): Proc {
  const child = spawn(bin[name], args, {
    cwd: dir,
    env: { ...process.env, NODE_COMPILE_CACHE: file('node-cache') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const output: string[] = [];
  const collect = (chunk: Buffer): void => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc = { name, child, pid: child.pid, output, exited };
  procs.push(proc);
  return proc;
}

async function kill(proc: Proc): Promise<void> {
  if (processAlive(proc.pid)) process.kill(proc.pid, 'SIGKILL');
  await proc.exited;
}

const LEADER_TIMING = ['--leader-elect-lease-duration=4s', '--leader-elect-renew-deadline=3s', '--leader-elect-retry-period=1s'];

function startApiServer(): Proc {
  return start('kube-apiserver', [
    `--advertise-address=${API_IP}`,
    `--bind-address=${API_IP}`,
    `--secure-port=${API_PORT}`,
    `--etcd-servers=${etcd.endpoints.join(',')}`,
    '--etcd-cafile=etcd-ca.crt',
    '--etcd-certfile=etcd-client.crt',
    '--etcd-keyfile=etcd-client.key',
    '--tls-cert-file=apiserver.crt',
    '--tls-private-key-file=apiserver.key',
    '--client-ca-file=kube-ca.crt',
    '--service-account-key-file=sa.key',
    '--service-account-signing-key-file=sa.key',
    '--service-account-issuer=https://kubernetes.default.svc',
    '--service-cluster-ip-range=10.0.0.0/16',
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    '--storage-backend=etcd3',
    '--endpoint-reconciler-type=lease',
    '--v=2',
  ]);
}

function startScheduler(): Proc {
  const kc = file('scheduler.kubeconfig');
  return start('kube-scheduler', [
    `--kubeconfig=${kc}`,
    `--authentication-kubeconfig=${kc}`,
    `--authorization-kubeconfig=${kc}`,
    '--leader-elect=true',
    '--bind-address=127.0.0.1',
    ...LEADER_TIMING,
  ]);
}

// ---------------------------------------------------------------------------------------------
// HTTPS

interface Answer {
  status: number;
  body: string;
}

function https(
  path: string,
  opts: { method?: string; user?: string; body?: object; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${API}${path}`,
      {
        method: opts.method ?? 'GET',
        ca: pem('kube-ca.crt'),
        ...(opts.user ? { cert: pem(`${opts.user}.crt`), key: pem(`${opts.user}.key`) } : {}),
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...opts.headers },
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';

async function getLease(name: string): Promise<Lease | undefined> {
  const r = await https(`${LEASES}/${name}`, { user: 'admin' });
  return r.status === 200 ? (JSON.parse(r.body) as Lease) : undefined;
}

const kubectl = (...args: string[]): Promise<{ stdout: string; stderr: string }> =>
  run(KUBECTL, ['--kubeconfig', file('admin.kubeconfig'), '--cache-dir', file('kubectl-cache'), ...args], { timeout: 15_000 });

// ---------------------------------------------------------------------------------------------

let kcmBeforeApiserver: Proc;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'standins-'));
  bin = writeStandinBinaries(join(dir, 'tarball'), { nodePath: NODE, repoPath: REPO });
  makeCa('kube-ca');
  makeCa('other-ca');
  makeLeaf('apiserver', 'kube-ca', '/CN=kube-apiserver', 'serverAuth', [`IP:${API_IP}`, 'DNS:kubernetes', 'DNS:kubernetes.default']);
  makeLeaf('admin', 'kube-ca', '/O=system:masters/CN=kubernetes-admin', 'clientAuth');
  makeLeaf('scheduler', 'kube-ca', '/CN=system:kube-scheduler', 'clientAuth');
  makeLeaf('controller-manager', 'kube-ca', '/CN=system:kube-controller-manager', 'clientAuth');
  makeLeaf('jane', 'kube-ca', '/O=developers/CN=jane', 'clientAuth');
  makeLeaf('mallory', 'other-ca', '/O=system:masters/CN=mallory', 'clientAuth');
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key']);
  writeKubeconfig('admin');
  for (const user of ['scheduler', 'controller-manager']) writeKubeconfig(user, 'kubernetes');

  etcd = await startEtcdCluster({ size: 1 });
  writeFileSync(file('etcd-ca.crt'), etcd.tls.ca);
  writeFileSync(file('etcd-client.crt'), etcd.tls.cert);
  writeFileSync(file('etcd-client.key'), etcd.tls.key, { mode: 0o600 });

  // A controller-manager that comes up before its apiserver keeps trying.
  const kc = file('controller-manager.kubeconfig');
  kcmBeforeApiserver = start('kube-controller-manager', [
    `--kubeconfig=${kc}`,
    `--authentication-kubeconfig=${kc}`,
    `--authorization-kubeconfig=${kc}`,
    '--leader-elect=true',
    '--bind-address=127.0.0.1',
    '--service-account-private-key-file=sa.key',
    '--root-ca-file=kube-ca.crt',
    '--cluster-signing-cert-file=kube-ca.crt',
    '--cluster-signing-key-file=kube-ca.key',
    '--use-service-account-credentials=true',
    '--cluster-name=kubernetes',
    ...LEADER_TIMING,
  ]);
  await waitFor('controller-manager retrying', 15_000, async () =>
    kcmBeforeApiserver.output.some((l) => l.includes('error retrieving resource lock')) ? true : undefined,
  );

  startApiServer();
  await waitFor('apiserver ready', 20_000, async () =>
    (await https('/readyz').catch(() => undefined))?.status === 200 ? true : undefined,
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(procs.map(kill));
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('command line', () => {
  test('the wrappers are executable sh scripts at the upstream paths that exec Node on the entry points', () => {
    for (const name of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const) {
      expect(bin[name]).toBe(join(dir, 'tarball', 'kubernetes', 'server', 'bin', name));
      expect(statSync(bin[name]).mode & 0o777).toBe(0o755);
      const text = readFileSync(bin[name], 'utf8');
      expect(text.startsWith('#!/bin/sh\n')).toBe(true);
      expect(text).toContain(`exec '${NODE}' `);
      expect(text).toContain(`'${REPO}/emulator/standins/${name}.ts' "$@"`);
    }
  });

  test('an unknown flag is refused as the real binaries refuse it (exit 1, "Error: unknown flag")', () => {
    for (const name of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const) {
      const r = spawnSync(bin[name], ['--secure-port=1', '--foo', 'bar'], {
        env: { ...process.env, NODE_COMPILE_CACHE: file('node-cache') },
        encoding: 'utf8',
      });
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('Error: unknown flag: --foo');
      expect(r.stderr).toContain(`Usage:\n  ${name} [flags]`);
    }
    const r = spawnSync(bin['kube-scheduler'], ['--leader-elect=maybe'], {
      env: { ...process.env, NODE_COMPILE_CACHE: file('node-cache') },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(
      'Error: invalid argument "maybe" for "--leader-elect" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
    );
  });

  test('every flag the start-up script uses is accepted (the whole command line parses, then --version exits 0)', () => {
    for (const [name, used] of Object.entries(STARTUP_FLAGS) as Array<[StandinName, string[]]>) {
      const spec = flagSpec(name);
      const argv = used.map((f) => (spec.kinds.get(f.slice(2)) === 'bool' ? `${f}=true` : `${f}=x`));
      expect(() => parseFlags(spec, argv)).not.toThrow();
      const r = spawnSync(bin[name], [...argv, '--version'], {
        env: { ...process.env, NODE_COMPILE_CACHE: file('node-cache') },
        encoding: 'utf8',
      });
      expect({ name, status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        name,
        status: 0,
        stdout: 'Kubernetes v1.34.2\n',
        stderr: '',
      });
    }
  });

  test('pflag syntax: --name=value, --name value, booleans, shorthands, repetition, "_" for "-", and its errors', () => {
    const spec = flagSpec('kube-apiserver');
    const f = parseFlags(spec, [
      '--etcd-servers',
      'https://a:2379',
      '--etcd-servers=https://b:2379,https://c:2379',
      '--allow-privileged',
      '--anonymous-auth=false',
      '-v',
      '2',
      '--secure_port=443',
      '-v=3',
    ]);
    expect(f.list('etcd-servers')).toEqual(['https://a:2379', 'https://b:2379', 'https://c:2379']);
    expect(f.bool('allow-privileged', false)).toBe(true);
    expect(f.bool('anonymous-auth', true)).toBe(false);
    expect(f.get('v')).toBe('3');
    expect(f.get('secure-port')).toBe('443');
    expect(parseFlags(spec, ['-v4']).get('v')).toBe('4');
    const error = (argv: string[]): string => {
      try {
        parseFlags(spec, argv);
      } catch (e) {
        if (e instanceof FlagError) return e.message;
      }
      return 'no error';
    };
    expect(error(['--etcd-servers'])).toBe('flag needs an argument: --etcd-servers');
    expect(error(['-x'])).toBe("unknown shorthand flag: 'x' in -x");
    expect(error(['-v'])).toBe("flag needs an argument: 'v' in -v");
    expect(error(['---x'])).toBe('bad flag syntax: ---x');
    expect(error(['--allow-privileged', 'true'])).toBe('"kube-apiserver" does not take any arguments, got ["true"]');
    expect(error(['--', '--secure-port=1'])).toBe('"kube-apiserver" does not take any arguments, got ["--secure-port=1"]');
    expect(error(['--help=nope'])).toBe('invalid argument "nope" for "-h, --help" flag: strconv.ParseBool: parsing "nope": invalid syntax');
  });
});

describe('kube-apiserver stand-in', () => {
  test('/readyz, /livez, /healthz and /version answer without a client certificate', async () => {
    expect(await https('/readyz')).toEqual({ status: 200, body: 'ok' });
    expect(await https('/livez')).toEqual({ status: 200, body: 'ok' });
    expect(await https('/healthz')).toEqual({ status: 200, body: 'ok' });
    const verbose = await https('/readyz?verbose');
    expect(verbose.body).toMatch(/\[\+\]etcd ok\n[\s\S]*readyz check passed\n$/);
    const version = await https('/version');
    expect(version.status).toBe(200);
    expect(JSON.parse(version.body)).toMatchObject({ major: '1', minor: '34', gitVersion: 'v1.34.2', platform: 'linux/amd64' });
  });

  test('kubectl: get --raw /readyz, get leases -n kube-system (the APIServerIdentity lease)', async () => {
    expect((await kubectl('get', '--raw', '/readyz')).stdout).toBe('ok');
    const { stdout } = await kubectl('get', 'leases', '-n', 'kube-system');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+HOLDER\s+AGE$/);
    // As kube-apiserver names it: apiserver-<base32 of the hostname's hash>, held by <name>_<uuid>.
    const name = identityLeaseName(hostname());
    expect(name).toMatch(/^apiserver-[a-z2-7]{26}$/);
    expect(lines.some((l) => new RegExp(`^${name}\\s+${name}_[0-9a-f-]{36}\\s+\\d+s$`).test(l))).toBe(true);
    const identity = JSON.parse(
      (await kubectl('get', 'leases', '-n', 'kube-system', '-l', 'apiserver.kubernetes.io/identity=kube-apiserver', '-o', 'json')).stdout,
    ) as { items: Lease[] };
    expect(identity.items).toHaveLength(1);
    expect(identity.items[0]!.metadata).toMatchObject({
      name,
      labels: { 'apiserver.kubernetes.io/identity': 'kube-apiserver', 'kubernetes.io/hostname': hostname() },
    });
    expect(identity.items[0]!.spec).toMatchObject({ leaseDurationSeconds: 3600 });
    expect(identity.items[0]!.spec.holderIdentity).toMatch(new RegExp(`^${name}_[0-9a-f-]{36}$`));
  });

  test('client certificates: the client CA authenticates, system:masters and the components are authorised', async () => {
    const anonymous = await https(LEASES);
    expect(anonymous.status).toBe(403);
    expect(JSON.parse(anonymous.body)).toMatchObject({
      reason: 'Forbidden',
      message:
        'leases.coordination.k8s.io is forbidden: User "system:anonymous" cannot list resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system"',
    });
    expect((await https('/apis')).status).toBe(403);
    expect((await https('/readyz/etcd')).status).toBe(403);
    // An authenticated user without rights gets discovery but no leases.
    expect((await https('/apis', { user: 'jane' })).status).toBe(200);
    expect((await https(LEASES, { user: 'jane' })).status).toBe(403);
    // A certificate from another CA, or a token nobody can check, is 401.
    expect((await https('/readyz', { user: 'mallory' })).status).toBe(401);
    expect((await https('/readyz', { headers: { authorization: 'Bearer abc' } })).status).toBe(401);
    for (const user of ['admin', 'scheduler', 'controller-manager']) expect((await https(LEASES, { user })).status).toBe(200);
    expect((await https('/apis/coordination.k8s.io/v1', { user: 'jane' })).body).toContain('"name":"leases"');
  });

  test('leases: create, AlreadyExists, update with resourceVersion (stale: 409 Conflict), label selector, delete', async () => {
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'test-lock', namespace: 'kube-system', labels: { app: 'test' } },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
    };
    const created = await https(LEASES, { method: 'POST', user: 'admin', body });
    expect(created.status).toBe(201);
    const lease = JSON.parse(created.body) as Lease;
    expect(lease.metadata).toMatchObject({
      name: 'test-lock',
      namespace: 'kube-system',
      uid: expect.any(String),
      resourceVersion: expect.stringMatching(/^\d+$/),
    });
    const again = await https(LEASES, { method: 'POST', user: 'admin', body });
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body)).toMatchObject({
      reason: 'AlreadyExists',
      message: 'leases.coordination.k8s.io "test-lock" already exists',
    });

    const renewed = { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } };
    const updated = await https(`${LEASES}/test-lock`, { method: 'PUT', user: 'scheduler', body: renewed });
    expect(updated.status).toBe(200);
    const next = JSON.parse(updated.body) as Lease;
    expect(Number(next.metadata.resourceVersion)).toBeGreaterThan(Number(lease.metadata.resourceVersion));
    expect(next.metadata.uid).toBe(lease.metadata.uid);
    const stale = await https(`${LEASES}/test-lock`, {
      method: 'PUT',
      user: 'scheduler',
      body: { ...renewed, spec: { holderIdentity: 'c' } },
    });
    expect(stale.status).toBe(409);
    expect(JSON.parse(stale.body)).toMatchObject({
      reason: 'Conflict',
      details: { name: 'test-lock', group: 'coordination.k8s.io', kind: 'leases' },
    });
    expect((await getLease('test-lock'))?.spec.holderIdentity).toBe('b');

    const selected = JSON.parse((await https(`${LEASES}?labelSelector=app%3Dtest`, { user: 'admin' })).body) as { items: Lease[] };
    expect(selected.items.map((l) => l.metadata.name)).toEqual(['test-lock']);
    expect((await https(`${LEASES}/test-lock`, { method: 'DELETE', user: 'admin' })).status).toBe(200);
    expect((await https(`${LEASES}/test-lock`, { user: 'admin' })).status).toBe(404);
    expect(
      (
        await https(`${LEASES}/missing`, {
          method: 'PUT',
          user: 'admin',
          body: { ...body, metadata: { ...body.metadata, name: 'missing' } },
        })
      ).status,
    ).toBe(404);
  });
});

describe("the action's lease calls (src/kube/lease-api.ts)", () => {
  const target = (user: string): ApiTarget => ({
    url: API,
    caPem: pem('kube-ca.crt'),
    serverName: 'kubernetes',
    clientCert: pem(`${user}.crt`),
    clientKey: pem(`${user}.key`),
  });
  const stale = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: 'apiserver-staleidentity',
      namespace: 'kube-system',
      labels: { 'apiserver.kubernetes.io/identity': 'kube-apiserver', 'kubernetes.io/hostname': 'gone-master' },
    },
    spec: { holderIdentity: 'apiserver-staleidentity_1', leaseDurationSeconds: 3600 },
  };

  test('an admin certificate lists the leases and deletes a stale identity lease; deleting it again is "absent"', async () => {
    expect((await https(LEASES, { method: 'POST', user: 'admin', body: stale })).status).toBe(201);
    const names = (await listKubeSystemLeases(target('admin'), 3000)).map((l) => l.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['apiserver-staleidentity', identityLeaseName(hostname())]));
    expect(await deleteKubeSystemLease(target('admin'), 'apiserver-staleidentity', 3000)).toBe('deleted');
    expect(await getLease('apiserver-staleidentity')).toBeUndefined();
    expect(await deleteKubeSystemLease(target('admin'), 'apiserver-staleidentity', 3000)).toBe('absent');
  });

  test('anonymous and unauthorised DELETEs are refused (403), a foreign certificate is 401; the lease stays', async () => {
    expect((await https(LEASES, { method: 'POST', user: 'admin', body: stale })).status).toBe(201);
    const anonymous = await https(`${LEASES}/apiserver-staleidentity`, { method: 'DELETE' });
    expect(anonymous.status).toBe(403);
    expect(JSON.parse(anonymous.body)).toMatchObject({
      reason: 'Forbidden',
      message:
        'leases.coordination.k8s.io "apiserver-staleidentity" is forbidden: User "system:anonymous" cannot delete resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system"',
    });
    await expect(deleteKubeSystemLease(target('jane'), 'apiserver-staleidentity', 3000)).rejects.toThrow(
      `deleting lease kube-system/apiserver-staleidentity at ${API}: HTTP 403 (leases.coordination.k8s.io "apiserver-staleidentity" is forbidden: User "jane" cannot delete`,
    );
    await expect(deleteKubeSystemLease(target('mallory'), 'apiserver-staleidentity', 3000)).rejects.toThrow('HTTP 401 (Unauthorized)');
    expect((await getLease('apiserver-staleidentity'))?.metadata.name).toBe('apiserver-staleidentity');
    expect(await deleteKubeSystemLease(target('admin'), 'apiserver-staleidentity', 3000)).toBe('deleted');
  });
});

describe('leader election', () => {
  test('a kube-controller-manager started before the apiserver kept trying and acquired kube-system/kube-controller-manager', async () => {
    await waitFor('controller-manager leads', 15_000, async () =>
      kcmBeforeApiserver.output.some((l) => l.includes('successfully acquired lease kube-system/kube-controller-manager'))
        ? true
        : undefined,
    );
    expect(kcmBeforeApiserver.output[0]).toMatch(
      /^I\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ controllermanager\.go:\d+\] "Starting" version="v1\.34\.2"$/,
    );
    const lease = await getLease('kube-controller-manager');
    expect(lease?.spec).toMatchObject({
      holderIdentity: expect.stringMatching(/^[^_]+_[0-9a-f-]{36}$/),
      leaseDurationSeconds: 4,
      leaseTransitions: 0,
    });
  });

  test('two kube-schedulers: exactly one holds kube-system/kube-scheduler; when it dies the other takes over after expiry', async () => {
    const schedulers = [startScheduler(), startScheduler()];
    const acquired = (p: Proc): boolean => p.output.some((l) => l.includes('successfully acquired lease kube-system/kube-scheduler'));
    const leader = await waitFor('a scheduler leads', 20_000, async () => schedulers.find(acquired));
    const first = (await getLease('kube-scheduler'))!;
    await sleep(3000); // several renewals (retry period 1 s)
    expect(schedulers.filter(acquired)).toEqual([leader]);
    const renewed = (await getLease('kube-scheduler'))!;
    expect(renewed.spec.holderIdentity).toBe(first.spec.holderIdentity);
    expect(Date.parse(renewed.spec.renewTime!)).toBeGreaterThan(Date.parse(first.spec.renewTime!));

    await kill(leader);
    const killedAt = Date.now();
    const follower = schedulers.find((p) => p !== leader)!;
    await waitFor('the other scheduler leads', 20_000, async () => (acquired(follower) ? true : undefined), 50);
    const after = Date.now() - killedAt;
    expect(after).toBeGreaterThan(2000); // it waits for the 4 s lease to expire (as observed by it)
    expect(after).toBeLessThan(12_000);
    const taken = (await getLease('kube-scheduler'))!;
    expect(taken.spec.holderIdentity).not.toBe(first.spec.holderIdentity);
    expect(taken.spec.leaseTransitions).toBe(1);
    expect(follower.output.filter((l) => l.includes('attempting to acquire leader lease kube-system/kube-scheduler...'))).toHaveLength(1);
  });
});

test('memory: every stand-in stays small (RSS, anonymous memory and mapped Node code of the running processes)', () => {
  const running = procs.filter((p) => processAlive(p.pid));
  expect(running.map((p) => p.name).sort()).toEqual(['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
  for (const p of running) {
    const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const rssMb = kb('VmRSS') / 1024;
    const anonMb = kb('RssAnon') / 1024;
    const fileMb = kb('RssFile') / 1024;
    console.log(
      `${p.name} (pid ${p.pid}): RSS ${rssMb.toFixed(1)} MB, anonymous ${anonMb.toFixed(1)} MB, file-backed ${fileMb.toFixed(1)} MB`,
    );
    expect(anonMb).toBeLessThan(40);
    expect(rssMb).toBeLessThan(100);
    // Interpreter only: V8's optimizing compilers would map ~8 MB more of Node's binary (~50 MB).
    expect(fileMb).toBeLessThan(46);
  }
});

test('/readyz follows etcd: 500 with the etcd checks failed once the member is gone', async () => {
  await etcd.kill(0);
  const down = await waitFor('readyz failing', 10_000, async () => {
    const r = await https('/readyz');
    return r.status === 500 ? r : undefined;
  });
  expect(down.body).toContain('[-]etcd failed: reason withheld\n');
  expect(down.body.endsWith('readyz check failed\n')).toBe(true);
  expect((await https('/livez')).status).toBe(500);
});
