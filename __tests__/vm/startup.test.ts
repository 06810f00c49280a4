// vm/startup.sh, the start-up script of a Debian 12 master (docs/vm-contract.md), tested without
// root, etcd or systemd: shellcheck, then bash with the script sourced and its functions called
// against real local servers (a GCE metadata stand-in and an artifact server), real tar.gz files in
// upstream layout, real ext4 images, and fake mount/mountpoint/systemctl/etcdctl commands on PATH.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { b64, decodeFlatYaml, encodeFlatYaml } from '../../src/engine/kube-yaml.ts';
import { crc32c } from '../../emulator/secretmanager/crc32c.ts';
import { makeTestPki } from '../support/runtime-certs.ts';

const repo = resolve(import.meta.dirname, '../..');
const SCRIPT = join(repo, 'vm/startup.sh');
const FIXTURES = join(import.meta.dirname, 'fixtures');
const PREFIX = 'ha-masters-startup: ';

const scratch = mkdtempSync(join(tmpdir(), 'ha-startup-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (name: string): string => {
  const dir = join(scratch, `${name}-${dirCount++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

// ---------------------------------------------------------------------------------------------
// bash with the script sourced (async: the servers below live in this process's event loop)

interface BashResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bash(snippet: string, env: Record<string, string> = {}, input = ''): Promise<BashResult> {
  return new Promise((done, reject) => {
    const child = spawn('bash', ['-c', `source "$HA_SCRIPT"\n${snippet}`], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch, LC_ALL: 'C', HA_SCRIPT: SCRIPT, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    // A snippet may exit without reading its input: that is no error of the test.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((ok) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => ok(body));
  });

/** A test server on a free loopback port: `url` once started. */
abstract class LocalServer {
  url = '';
  protected abstract readonly server: Server;

  async start(): Promise<this> {
    this.url = await listen(this.server);
    return this;
  }

  stop(): Promise<void> {
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

// ---------------------------------------------------------------------------------------------
// GCE metadata server stand-in: /computeMetadata/v1/..., Metadata-Flavor check, wait_for_change,
// guest-attribute PUTs.

class FakeMetadata {
  readonly values = new Map<string, string>();
  readonly guest: string[] = [];
  readonly requests: string[] = [];
  /** Statuses to answer a path with, one per request, before its value (a metadata server briefly away). */
  readonly failures = new Map<string, number[]>();
  rejected = 0;
  /** A long-poll on a missing key is held at most this long (the script asks for 60 s). */
  maxWaitMs = 400;
  private waiters: Array<() => void> = [];
  private server = createServer((req, res) => void this.handle(req, res));
  url = '';

  async start(): Promise<this> {
    this.url = `${await listen(this.server)}/computeMetadata/v1`;
    return this;
  }

  stop(): Promise<void> {
    for (const w of this.waiters) w();
    return new Promise((ok) => this.server.close(() => ok()));
  }

  set(path: string, value: string): void {
    this.values.set(path, value);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  get status(): string | undefined {
    return this.guest.at(-1);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://metadata');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.headers['metadata-flavor'] !== 'Google') {
      this.rejected += 1;
      res.writeHead(403).end('Missing Metadata-Flavor:Google header.\n');
      return;
    }
    const prefix = '/computeMetadata/v1/';
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : '';
    if (req.method === 'PUT' && path === 'instance/guest-attributes/ha-masters/startup') {
      this.guest.push(await readBody(req));
      res.writeHead(200).end();
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (url.searchParams.get('wait_for_change') === 'true') {
      const seconds = Number(url.searchParams.get('timeout_sec') ?? '60');
      await new Promise<void>((ok) => {
        const timer = setTimeout(ok, Math.min(seconds * 1000, this.maxWaitMs));
        this.waiters.push(() => {
          clearTimeout(timer);
          ok();
        });
      });
    }
    const failure = this.failures.get(path)?.shift();
    if (failure !== undefined) {
      res.writeHead(failure).end('unavailable\n');
      return;
    }
    const value = this.values.get(path);
    if (value === undefined) res.writeHead(404).end('not found\n');
    else res.writeHead(200, { 'Content-Type': 'application/text' }).end(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Secret Manager stand-in: `GET /v1/<version>:access` with the metadata server's token. Answers the
// statuses queued in `fail` first, then the payload (or 403 for a version nobody stored).

class FakeSecretManager extends LocalServer {
  readonly payloads = new Map<string, string>();
  readonly fail: number[] = [];
  readonly requests: string[] = [];
  /** Set to send a wrong dataCrc32c. */
  badChecksum = false;
  token = 'ya29.test-token-never-logged';
  protected readonly server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://sm').pathname;
    this.requests.push(`${req.method} ${path} ${req.headers.authorization ?? ''}`);
    const name = /^\/v1\/(.+):access$/.exec(path)?.[1];
    const payload = name ? this.payloads.get(name) : undefined;
    const status = this.fail.shift() ?? (req.headers.authorization !== `Bearer ${this.token}` ? 401 : payload === undefined ? 403 : 200);
    if (status !== 200)
      return void res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code: status } }));
    const data = Buffer.from(payload!);
    const sum = crc32c(data) + (this.badChecksum ? 1 : 0);
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ name, payload: { data: data.toString('base64'), dataCrc32c: String(sum) } }, null, 2));
  });
}

// ---------------------------------------------------------------------------------------------
// artifact server (counts requests, can fail the first N) and tarballs in upstream layout

class FakeArtifacts extends LocalServer {
  readonly files = new Map<string, Buffer>();
  readonly hits = new Map<string, number[]>();
  readonly failFirst = new Map<string, number>();
  /** Paths whose first answer is cut short (a damaged download: 200, but the wrong bytes). */
  readonly truncateFirst = new Set<string>();
  protected readonly server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://a').pathname;
    const times = this.hits.get(path) ?? [];
    times.push(Date.now());
    this.hits.set(path, times);
    const file = this.files.get(path);
    if ((this.failFirst.get(path) ?? 0) >= times.length) res.writeHead(500).end('try later');
    else if (!file) res.writeHead(404).end();
    else if (this.truncateFirst.has(path) && times.length === 1) res.writeHead(200).end(file.subarray(0, file.length >> 1));
    else res.writeHead(200, { 'Content-Length': file.length }).end(file);
  });

  count(path: string): number {
    return this.hits.get(path)?.length ?? 0;
  }
}

function tarGz(layout: Record<string, string>): Buffer {
  const dir = freshDir('tar');
  for (const [path, text] of Object.entries(layout)) {
    mkdirSync(dirname(join(dir, 'src', path)), { recursive: true });
    writeFileSync(join(dir, 'src', path), text, { mode: 0o755 });
  }
  // Upstream tarballs also carry files the script must leave alone.
  writeFileSync(join(dir, 'src', 'README.md'), 'not a binary\n');
  const r = spawnSync('tar', ['-czf', join(dir, 'out.tar.gz'), '-C', join(dir, 'src'), 'README.md', ...Object.keys(layout)]);
  expect(r.status).toBe(0);
  return readFileSync(join(dir, 'out.tar.gz'));
}

const digest = (alg: 'sha256' | 'sha512', data: Buffer): string => createHash(alg).update(data).digest('hex');
const fakeBinary = (name: string, version: string): string => `#!/bin/sh\necho ${name} ${version}\n`;

// etcdctl stand-in shipped in the fake etcd tarball: logs its arguments, answers with the member
// list the test put in $HA_TEST_STATE/members (fails like an unreachable endpoint when absent).
const FAKE_ETCDCTL = `#!/bin/bash
echo "ETCDCTL_API=$ETCDCTL_API $*" >>"$HA_TEST_STATE/etcdctl.log"
[[ -f $HA_TEST_STATE/members ]] || { echo "context deadline exceeded" >&2; exit 1; }
cat "$HA_TEST_STATE/members"
`;

const K8S_VERSION = 'v1.34.2';
const ETCD_VERSION = 'v3.5.24';
const kubeLayout = (v = K8S_VERSION): Record<string, string> => ({
  'kubernetes/server/bin/kube-apiserver': fakeBinary('kube-apiserver', v),
  'kubernetes/server/bin/kube-controller-manager': fakeBinary('kube-controller-manager', v),
  'kubernetes/server/bin/kube-scheduler': fakeBinary('kube-scheduler', v),
});
const etcdLayout = (v = ETCD_VERSION): Record<string, string> => ({
  [`etcd-${v}-linux-amd64/etcd`]: fakeBinary('etcd', v),
  [`etcd-${v}-linux-amd64/etcdctl`]: FAKE_ETCDCTL,
  [`etcd-${v}-linux-amd64/etcdutl`]: fakeBinary('etcdutl', v),
});

interface Release {
  text: string;
  kubePath: string;
  etcdPath: string;
}
let releaseCount = 0;

function publishRelease(art: FakeArtifacts, opts: { kubeVersion?: string; tamperKube?: boolean } = {}): Release {
  const kv = opts.kubeVersion ?? K8S_VERSION;
  const kube = tarGz(kubeLayout(kv));
  const etcd = tarGz(etcdLayout());
  // A path of its own per release: request counts never mix between tests.
  const n = releaseCount++;
  const kubePath = `/r${n}/${kv}/kubernetes-server-linux-amd64.tar.gz`;
  const etcdPath = `/r${n}/${ETCD_VERSION}/etcd-${ETCD_VERSION}-linux-amd64.tar.gz`;
  // Tampered: a well-formed archive in the right layout, just not the one the manifest names.
  art.files.set(
    kubePath,
    opts.tamperKube ? tarGz({ ...kubeLayout(kv), 'kubernetes/server/bin/kube-apiserver': '#!/bin/sh\necho evil\n' }) : kube,
  );
  art.files.set(etcdPath, etcd);
  const text = [
    '# ha-masters release manifest',
    `kubernetes-server ${kv} sha512 ${digest('sha512', kube)} ${art.url}${kubePath}`,
    '',
    `etcd ${ETCD_VERSION} sha256 ${digest('sha256', etcd)} ${art.url}${etcdPath}`,
    '',
  ].join('\n');
  return { text, kubePath, etcdPath };
}

// ---------------------------------------------------------------------------------------------
// fake commands: mount state and systemctl calls go to $HA_TEST_STATE

function fakeBin(): string {
  const dir = freshDir('fakebin');
  const scripts: Record<string, string> = {
    mountpoint: '#!/bin/bash\n[[ -f $HA_TEST_STATE/mounted ]]\n',
    mount: '#!/bin/bash\necho "$*" >>"$HA_TEST_STATE/mount.log"\ntouch "$HA_TEST_STATE/mounted"\n',
    systemctl: '#!/bin/bash\necho "$*" >>"$HA_TEST_STATE/systemctl.log"\n[[ -z ${HA_TEST_SYSTEMCTL_FAIL:-} ]]\n',
  };
  for (const [name, text] of Object.entries(scripts)) writeFileSync(join(dir, name), text, { mode: 0o755 });
  return dir;
}

const pemOf = (what: string): string =>
  `-----BEGIN ${what.includes('KEY') ? 'PRIVATE KEY' : 'CERTIFICATE'}-----\nTEST ${what}\n-----END ${what.includes('KEY') ? 'PRIVATE KEY' : 'CERTIFICATE'}-----\n`;
const certsOf = (keys: string[]): Record<string, string> => Object.fromEntries(keys.map((k) => [k, b64(pemOf(k))]));

const MASTER_CERT_KEYS = [
  'CA_CERT',
  'CA_KEY',
  'MASTER_CERT',
  'MASTER_KEY',
  'ETCD_APISERVER_CLIENT_CERT',
  'ETCD_APISERVER_CLIENT_KEY',
  'SERVICE_ACCOUNT_KEY',
  'KUBE_CONTROLLER_MANAGER_CERT',
  'KUBE_CONTROLLER_MANAGER_KEY',
  'KUBE_SCHEDULER_CERT',
  'KUBE_SCHEDULER_KEY',
];

function kubeEnv(extra: Record<string, string> = {}): string {
  return encodeFlatYaml({
    INSTANCE_PREFIX: 'kubernetes',
    MASTER_NAME: 'kubernetes-master',
    MULTIZONE: 'true',
    ENABLE_ETCD_QUORUM_READ: 'true',
    MASTER_ADVERTISE_ADDRESS: '34.1.2.3',
    INITIAL_ETCD_CLUSTER: 'kubernetes-master',
    INITIAL_ETCD_CLUSTER_STATE: 'new',
    ETCD_SEED_ENDPOINTS: '',
    ...certsOf(['ETCD_CA_CERT', 'ETCD_CA_KEY']),
    ...extra,
  });
}

/** A scratch VM: HA_ROOT, HA_WORK with metadata values, state dir for the fakes. */
function vmDirs(files: Record<string, string> = {}): { root: string; work: string; state: string; env: Record<string, string> } {
  const base = freshDir('vm');
  const root = join(base, 'root');
  const work = join(base, 'work');
  const state = join(base, 'state');
  for (const d of [root, work, state]) mkdirSync(d);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(work, name), text);
  return { root, work, state, env: { HA_ROOT: root, HA_WORK: work, HA_TEST_STATE: state, HA_POLL_SECONDS: '0.05' } };
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

// ---------------------------------------------------------------------------------------------

let md: FakeMetadata;
let art: FakeArtifacts;
beforeAll(async () => {
  md = await new FakeMetadata().start();
  art = await new FakeArtifacts().start();
});
afterAll(async () => {
  await md.stop();
  await art.stop();
});

describe('vm/startup.sh as a file', () => {
  it('passes shellcheck with no finding at all', () => {
    const r = spawnSync('shellcheck', ['--severity=style', '--shell=bash', SCRIPT], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('fits GCE metadata comfortably (< 40 KB; the limit is 256 KB) and is executable bash', () => {
    const text = readFileSync(SCRIPT, 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThan(40 * 1024);
    expect(text.startsWith('#!/bin/bash\n')).toBe(true);
    expect(text).toMatch(/^set -Eeuo pipefail$/m);
    expect(spawnSync('bash', ['-n', SCRIPT]).status).toBe(0);
  });

  it('sourcing defines the functions without running main (no metadata request, no output)', async () => {
    const before = md.requests.length;
    const r = await bash('declare -F main kv_get etcd_flags apiserver_flags >/dev/null && echo defined', { HA_METADATA_URL: md.url });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('defined\n');
    expect(r.code).toBe(0);
    expect(md.requests.slice(before)).toEqual([]);
  });
});

describe('flat YAML (kv_get)', () => {
  const values: Record<string, string> = {
    PLAIN: 'true',
    QUOTE: "it's: odd ''twice''",
    CERT: b64(pemOf('CA_CERT')),
    EMPTY: '',
    SPACES: '  padded value  ',
    URLS: 'https://10.0.0.2:2379,https://10.0.0.3:2379',
  };

  it('reads every value encodeFlatYaml writes exactly as decodeFlatYaml does', async () => {
    const dir = freshDir('kv');
    const file = join(dir, 'env');
    writeFileSync(file, encodeFlatYaml(values));
    const decoded = decodeFlatYaml(readFileSync(file, 'utf8'));
    for (const key of Object.keys(values)) {
      const r = await bash(`kv_get ${key} <"${file}"; echo "|rc=$?"`);
      expect(r.stdout).toBe(`${decoded[key]}|rc=0\n`);
      expect(decoded[key]).toBe(values[key]);
    }
  });

  it('handles unquoted and double-quoted values, CRLF, comments, the last duplicate, and absent keys', async () => {
    const dir = freshDir('kv');
    const file = join(dir, 'env');
    writeFileSync(file, "# comment: 'no'\nA: 1\r\nB: \"two\"\n  C:   'x'  \nA: 'last'\nNOPE\n");
    const r = await bash(
      `for k in A B C D; do v=$(kv_get $k <"${file}") && echo "$k=[$v]" || echo "$k absent rc=$?"; done
       echo "default=[$(kv "${file}" D fallback)] set=[$(kv "${file}" B fallback)]"`,
    );
    expect(lines(r.stdout)).toEqual(['A=[last]', 'B=[two]', 'C=[x]', 'D absent rc=1', 'default=[fallback] set=[two]']);
  });
});

describe('release manifest (parse_manifest)', () => {
  const k = 'a'.repeat(128);
  const e = 'b'.repeat(64);

  it('keeps artifact lines, drops comments and blank lines, and names the archive members', async () => {
    const manifest = `# comment\n\nkubernetes-server v1.34.2 sha512 ${k} https://dl.k8s.io/v1.34.2/kubernetes-server-linux-amd64.tar.gz\n  etcd   v3.5.24 sha256 ${e} https://example.com/etcd.tar.gz\r\n`;
    const r = await bash(
      'parse_manifest; artifact_members etcd v3.5.24; artifact_members etcd 3.4.23; artifact_members kubernetes-server v1.34.2',
      {},
      manifest,
    );
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([
      `kubernetes-server v1.34.2 sha512 ${k} https://dl.k8s.io/v1.34.2/kubernetes-server-linux-amd64.tar.gz`,
      `etcd v3.5.24 sha256 ${e} https://example.com/etcd.tar.gz`,
      'etcd-v3.5.24-linux-amd64/etcd',
      'etcd-v3.5.24-linux-amd64/etcdctl',
      // etcdutl ships from 3.5 on (the offline snapshot restore; 3.6's etcdctl has none).
      'etcd-v3.5.24-linux-amd64/etcdutl',
      'etcd-3.4.23-linux-amd64/etcd',
      'etcd-3.4.23-linux-amd64/etcdctl',
      'kubernetes/server/bin/kube-apiserver',
      'kubernetes/server/bin/kube-controller-manager',
      'kubernetes/server/bin/kube-scheduler',
    ]);
  });

  it.each([
    [`kubernetes-server v1 sha512 ${e} https://x/y`, 'ha-masters-release: bad kubernetes-server sha512'],
    [`etcd v3 sha256 ${e.toUpperCase()} https://x/y`, 'ha-masters-release: bad etcd sha256'],
    [`etcd v3 md5 ${e} https://x/y`, 'ha-masters-release: unsupported algorithm md5'],
    [`kubelet v1 sha256 ${e} https://x/y`, 'ha-masters-release: unknown artifact kubelet'],
    [`etcd v3 sha256 ${e}`, `ha-masters-release: bad line: etcd v3 sha256 ${e}`],
    [`etcd v3 sha256 ${e} file:///etc/passwd`, 'ha-masters-release: bad url file:///etc/passwd'],
  ])('refuses %s', async (line, why) => {
    const r = await bash('parse_manifest', { HA_METADATA_URL: md.url }, `${line}\n`);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${PREFIX}failed: ${why}\n`);
    expect(md.status).toBe(`failed: ${why}`);
  });
});

describe('etcd flags', () => {
  const VM = 'kubernetes-master-a1b';
  const IP = '10.128.0.7';

  it('etcd_flags: name, data dir on the data disk, mTLS, clients on the internal IP and 127.0.0.1, peers on the internal IP', async () => {
    const vm = vmDirs();
    const r = await bash('etcd_flags', { ...vm.env, VM, IP });
    const pki = `${vm.root}/etc/ha-masters/pki`;
    expect(lines(r.stdout)).toEqual([
      `--name=etcd-${VM}`,
      `--data-dir=${vm.root}/mnt/disks/master-pd/var/etcd/data`,
      `--listen-client-urls=https://${IP}:2379,https://127.0.0.1:2379`,
      `--advertise-client-urls=https://${IP}:2379`,
      `--listen-peer-urls=https://${IP}:2380`,
      `--initial-advertise-peer-urls=https://${IP}:2380`,
      `--cert-file=${pki}/etcd-member.crt`,
      `--key-file=${pki}/etcd-member.key`,
      `--trusted-ca-file=${pki}/etcd-ca.crt`,
      '--client-cert-auth',
      `--peer-cert-file=${pki}/etcd-member.crt`,
      `--peer-key-file=${pki}/etcd-member.key`,
      `--peer-trusted-ca-file=${pki}/etcd-ca.crt`,
      '--peer-client-cert-auth',
    ]);
  });

  it('state new: a one-member cluster of itself', async () => {
    const vm = vmDirs({ 'kube-env': kubeEnv({ INITIAL_ETCD_CLUSTER_STATE: 'new' }) });
    const r = await bash('etcd_initial_flags', { ...vm.env, VM, IP });
    expect(r.stdout).toBe(`--initial-cluster=etcd-${VM}=https://${IP}:2380 --initial-cluster-state=new`);
  });

  it('no INITIAL_ETCD_CLUSTER_STATE: refuses to guess (a guessed `new` would found a second cluster)', async () => {
    const vm = vmDirs({ 'kube-env': kubeEnv({ INITIAL_ETCD_CLUSTER_STATE: '' }) });
    const r = await bash('etcd_initial_flags', { ...vm.env, VM, IP, HA_METADATA_URL: md.url });
    expect(r.code).toBe(1);
    expect(md.status).toBe("failed: kube-env INITIAL_ETCD_CLUSTER_STATE is '', not new or existing");
  });

  it('state existing with an empty data dir: polls the seeds until its own peer URL is listed, then builds --initial-cluster from the list', async () => {
    const vm = vmDirs({
      'kube-env': kubeEnv({
        INITIAL_ETCD_CLUSTER_STATE: 'existing',
        INITIAL_ETCD_CLUSTER: `kubernetes-master,kubernetes-master-0ff,${VM}`,
        ETCD_SEED_ENDPOINTS: 'https://10.128.0.2:2379,https://10.128.0.3:2379',
      }),
    });
    const bin = join(vm.root, 'opt/ha-masters/bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'etcdctl'), FAKE_ETCDCTL, { mode: 0o755 });
    const seeds = [
      '8e9e05c52164694d, started, etcd-kubernetes-master, https://10.128.0.2:2380, https://10.128.0.2:2379, false',
      '91bc3c398fb3c146, started, etcd-kubernetes-master-0ff, https://10.128.0.3:2380, https://10.128.0.3:2379, false',
    ];
    const running = bash('etcd_initial_flags', { ...vm.env, VM, IP });
    // Seeds unreachable at first, then answering without this VM, then with it as an unstarted learner
    // (next to another replica that is joining too and has no name yet either).
    await new Promise((ok) => setTimeout(ok, 300));
    writeFileSync(join(vm.state, 'members'), `${seeds.join('\n')}\n`);
    await new Promise((ok) => setTimeout(ok, 300));
    expect(existsSync(join(vm.state, 'etcdctl.log'))).toBe(true);
    writeFileSync(
      join(vm.state, 'members'),
      [
        ...seeds,
        `a1b2c3d4e5f60708, unstarted, , https://${IP}:2380, , true`,
        '0102030405060708, unstarted, , https://10.128.0.9:2380, , true',
      ].join('\n') + '\n',
    );
    const r = await running;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${PREFIX}waiting to be added as an etcd member`);
    const flags = r.stdout
      .split('\n')
      .filter((l) => !l.startsWith(PREFIX))
      .join('');
    expect(flags).toBe(
      '--initial-cluster=etcd-kubernetes-master=https://10.128.0.2:2380,etcd-kubernetes-master-0ff=https://10.128.0.3:2380,' +
        `etcd-${VM}=https://${IP}:2380,unstarted-0102030405060708=https://10.128.0.9:2380 --initial-cluster-state=existing`,
    );
    const calls = lines(readFileSync(join(vm.state, 'etcdctl.log'), 'utf8'));
    expect(calls.length).toBeGreaterThanOrEqual(4);
    const pki = `${vm.root}/etc/ha-masters/pki`;
    expect(calls[0]).toBe(
      `ETCDCTL_API=3 --endpoints=https://10.128.0.2:2379 --cacert=${pki}/etcd-ca.crt --cert=${pki}/etcd-client.crt ` +
        `--key=${pki}/etcd-client.key --dial-timeout=3s --command-timeout=5s -w simple member list`,
    );
    // With the first seed failing, the second one is asked in the same round.
    expect(calls[1]).toContain('--endpoints=https://10.128.0.3:2379');
  });

  it('parses real etcdctl 3.4.23 `member list -w simple` output (learner with two peer URLs, no name)', async () => {
    const list = readFileSync(join(FIXTURES, 'etcdctl-3.4.23-member-list.txt'), 'utf8');
    const r = await bash('initial_cluster_from_list http://127.0.0.3:2380; echo "|rc=$?"', { VM: 'me' }, list);
    expect(r.stdout).toBe('etcd-me=http://127.0.0.2:2380,etcd-me=http://127.0.0.3:2380,etcd-a=http://127.0.0.1:23801|rc=0\n');
    const absent = await bash('initial_cluster_from_list http://127.0.0.9:2380 || echo "rc=$?"', { VM: 'me' }, list);
    expect(absent.stdout).toBe('rc=1\n');
  });

  it('without ETCD_SEED_ENDPOINTS, asks the other VMs of INITIAL_ETCD_CLUSTER by name', async () => {
    const vm = vmDirs({ 'kube-env': kubeEnv({ INITIAL_ETCD_CLUSTER: `kubernetes-master,${VM},kubernetes-master-0ff` }) });
    const r = await bash('seed_endpoints', { ...vm.env, VM, IP });
    expect(lines(r.stdout)).toEqual(['https://kubernetes-master:2379', 'https://kubernetes-master-0ff:2379']);
  });

  it('a reboot (data in the data dir): keeps the flags the first boot persisted and asks nobody', async () => {
    const vm = vmDirs({ 'kube-env': kubeEnv({ INITIAL_ETCD_CLUSTER_STATE: 'existing', ETCD_SEED_ENDPOINTS: 'https://10.128.0.2:2379' }) });
    const member = join(vm.root, 'mnt/disks/master-pd/var/etcd/data/member/wal');
    mkdirSync(member, { recursive: true });
    const persisted = '--initial-cluster=etcd-a=https://10.128.0.2:2380,etcd-b=https://10.128.0.7:2380 --initial-cluster-state=existing';
    mkdirSync(join(vm.root, 'etc/ha-masters'), { recursive: true });
    writeFileSync(join(vm.root, 'etc/ha-masters/etcd.env'), `ETCD_INITIAL_FLAGS="${persisted}"\n`);
    const r = await bash('etcd_initial_flags; echo "|rc=$?"', { ...vm.env, VM, IP });
    expect(r.stdout).toBe(`${persisted}|rc=0\n`);
    expect(existsSync(join(vm.state, 'etcdctl.log'))).toBe(false);
    // Data but no env file (e.g. written by an older script): start with no --initial-* at all.
    rmSync(join(vm.root, 'etc/ha-masters/etcd.env'));
    const bare = await bash('etcd_initial_flags; echo "|rc=$?"', { ...vm.env, VM, IP });
    expect(bare.stdout).toBe('|rc=0\n');
  });
});

describe('etcd-force-new-cluster (quorum recovery)', () => {
  const IP = '10.128.0.7';
  const VM = 'kubernetes-master-a1f';

  it('a nonce not applied yet forces a new cluster from existing data, once; no data refuses; an applied nonce does nothing', async () => {
    const vm = vmDirs({ 'kube-env': kubeEnv({ INITIAL_ETCD_CLUSTER_STATE: 'existing' }) });
    const env = { ...vm.env, VM, IP, HA_METADATA_URL: md.url };
    md.set('instance/attributes/etcd-force-new-cluster', 'rec-1');
    try {
      // No etcd data: nothing to rebuild from, and an empty new cluster would lose everything.
      const empty = await bash('force_new_cluster_nonce; echo "|rc=$?"', env);
      expect(empty.code).toBe(1);
      expect(md.status).toBe('failed: etcd-force-new-cluster rec-1: this VM has no etcd data to form a new cluster from');

      mkdirSync(join(vm.root, 'mnt/disks/master-pd/var/etcd/data/member/wal'), { recursive: true });
      const forced = await bash('FORCE_NONCE=$(force_new_cluster_nonce); echo "$FORCE_NONCE|$(etcd_initial_flags)"', env);
      expect(forced.stdout).toBe('rec-1|--force-new-cluster\n');

      writeFileSync(join(vm.root, 'mnt/disks/master-pd/var/etcd/force-new-cluster.applied'), 'rec-1');
      const applied = await bash('echo "[$(force_new_cluster_nonce)]"', env);
      expect(applied.stdout).toBe('[]\n');
    } finally {
      md.values.delete('instance/attributes/etcd-force-new-cluster');
    }
    // No key at all (every ordinary boot): nothing.
    const none = await bash('echo "[$(force_new_cluster_nonce)]"', env);
    expect(none.stdout).toBe('[]\n');
  });

  it('a metadata server briefly away is asked again, never taken for "no recovery asked"; one that stays away fails the start-up', async () => {
    const vm = vmDirs({ 'kube-env': kubeEnv({ INITIAL_ETCD_CLUSTER_STATE: 'existing' }) });
    const env = { ...vm.env, VM, IP, HA_METADATA_URL: md.url };
    mkdirSync(join(vm.root, 'mnt/disks/master-pd/var/etcd/data/member/wal'), { recursive: true });
    const key = 'instance/attributes/etcd-force-new-cluster';
    md.set(key, 'rec-2');
    try {
      md.failures.set(key, [503, 500]);
      const forced = await bash('echo "[$(force_new_cluster_nonce)]"', env);
      expect(forced.stdout).toBe('[rec-2]\n');
      md.failures.set(
        key,
        Array.from({ length: 10 }, () => 503),
      );
      const away = await bash('force_new_cluster_nonce; echo "|rc=$?"', env);
      expect(away.code).toBe(1);
      expect(md.status).toBe(`failed: metadata ${key}: HTTP 503 after 10 tries`);
      // The same for a restore: a 503 is not "no restore asked".
      md.failures.set('instance/attributes/etcd-restore-from', [503]);
      md.set('instance/attributes/etcd-restore-from', 'r-1 backups snap.db 17 -');
      expect((await bash('echo "[$(restore_request)]"', env)).stdout).toBe('[r-1 backups snap.db 17 -]\n');
    } finally {
      md.failures.clear();
      md.values.delete(key);
      md.values.delete('instance/attributes/etcd-restore-from');
    }
  });
});

describe('etcd-restore-from (restore from a snapshot in Cloud Storage)', () => {
  const IP = '10.128.0.7';
  const VM = 'kubernetes-master';
  const TOKEN = 'vm-token-for-storage';
  const SNAPSHOT = Buffer.from('pretend etcd snapshot bytes\n'.repeat(100));
  const MD5 = createHash('md5').update(SNAPSHOT).digest('base64');
  const OBJECT = encodeURIComponent('etcd/kubernetes master.db');
  // Cloud Storage stand-in: one object at one generation, readable with the VM's token only.
  const gets: string[] = [];
  let failWith: number[] = [];
  const gcs = createServer((req, res) => {
    gets.push(req.url ?? '');
    const status = failWith.shift();
    if (status) return void res.writeHead(status).end('{"error":{"code":' + status + '}}');
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end();
    if (req.url !== `/storage/v1/b/backups/o/${OBJECT}?alt=media&generation=42`) return void res.writeHead(404).end();
    res.writeHead(200).end(SNAPSHOT);
  });
  let gcsUrl = '';
  beforeAll(async () => {
    gcsUrl = await listen(gcs);
  });
  afterAll(() => new Promise<void>((ok) => gcs.close(() => ok())));

  // etcdctl/etcdutl stand-ins: log their arguments and make the data dir a restore would.
  const fakeRestore = (tool: string) => `#!/bin/bash
echo "${tool} $*" >>"$HA_TEST_STATE/restore.log"
for a in "$@"; do case $a in --data-dir=*) d=\${a#--data-dir=} ;; esac; done
[[ ! -e $d ]] || { echo "Error: data-dir $d exists" >&2; exit 1; }
mkdir -p "$d/member/snap" && cp "$3" "$d/member/snap/db"
`;
  function restoreVm(tools: string[]) {
    const vm = vmDirs({});
    const bin = join(vm.root, 'opt/ha-masters/bin');
    mkdirSync(bin, { recursive: true });
    for (const t of tools) writeFileSync(join(bin, t), fakeRestore(t), { mode: 0o755 });
    md.set('instance/service-accounts/default/token', JSON.stringify({ access_token: TOKEN, expires_in: 3599, token_type: 'Bearer' }));
    md.set('instance/service-accounts/default/email', 'masters@p.iam.gserviceaccount.com');
    const env = { ...vm.env, VM, IP, HA_METADATA_URL: md.url, HA_STORAGE_URL: gcsUrl, HA_BACKOFF_MS: '20', HA_DOWNLOAD_ATTEMPTS: '3' };
    return { vm, env, data: join(vm.root, 'mnt/disks/master-pd/var/etcd/data'), etcd: join(vm.root, 'mnt/disks/master-pd/var/etcd') };
  }
  const request = (md5 = MD5) => `rs-1 backups ${OBJECT} 42 ${md5}`;

  it('downloads that generation with the VM token, checks the MD5, restores beside the old data, records the nonce; a later boot does nothing', async () => {
    const { vm, env, data, etcd } = restoreVm(['etcdctl']);
    mkdirSync(join(data, 'member/wal'), { recursive: true });
    writeFileSync(join(data, 'member/wal/old'), 'the lost cluster');
    md.set('instance/attributes/etcd-restore-from', request());
    failWith = [503]; // a transient failure is retried
    try {
      const r = await bash(
        'RESTORE=$(restore_request); restore_snapshot "$RESTORE"; echo "[$(restore_request)]|$(etcd_initial_flags)"',
        env,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`etcd restored from gs://backups/${OBJECT} generation 42 with etcdctl`);
      expect(r.stdout.trim().split('\n').at(-1)).toBe('[]|');
      expect(r.stdout + r.stderr).not.toContain(TOKEN);
      expect(readFileSync(join(data, 'member/snap/db'))).toEqual(SNAPSHOT);
      expect(readFileSync(join(etcd, 'data.before-restore/member/wal/old'), 'utf8')).toBe('the lost cluster');
      expect(readFileSync(join(etcd, 'restore-from.applied'), 'utf8')).toBe('rs-1');
      expect(existsSync(join(etcd, 'restore.db'))).toBe(false);
      expect(statSync(data).mode & 0o777).toBe(0o700);
      expect(lines(readFileSync(join(vm.state, 'restore.log'), 'utf8'))).toEqual([
        `etcdctl snapshot restore ${etcd}/restore.db --data-dir=${etcd}/data.restoring --name=etcd-${VM} ` +
          `--initial-cluster=etcd-${VM}=https://${IP}:2380 --initial-advertise-peer-urls=https://${IP}:2380`,
      ]);
    } finally {
      md.values.delete('instance/attributes/etcd-restore-from');
    }
  });

  it('with etcdutl (etcd 3.5+): bumps the revisions and marks them compacted', async () => {
    const { vm, env, etcd } = restoreVm(['etcdctl', 'etcdutl']);
    md.set('instance/attributes/etcd-restore-from', request());
    try {
      const r = await bash('restore_snapshot "$(restore_request)"', env);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(lines(readFileSync(join(vm.state, 'restore.log'), 'utf8'))).toEqual([
        `etcdutl snapshot restore ${etcd}/restore.db --data-dir=${etcd}/data.restoring --name=etcd-${VM} ` +
          `--initial-cluster=etcd-${VM}=https://${IP}:2380 --initial-advertise-peer-urls=https://${IP}:2380 --bump-revision=1000000000 --mark-compacted`,
      ]);
    } finally {
      md.values.delete('instance/attributes/etcd-restore-from');
    }
  });

  it('a wrong MD5 or a 403 fails the start-up with what to do, and restores nothing', async () => {
    const { vm, env, data } = restoreVm(['etcdctl']);
    md.set('instance/attributes/etcd-restore-from', request('AAAAAAAAAAAAAAAAAAAAAA=='));
    try {
      const bad = await bash('restore_snapshot "$(restore_request)"', env);
      expect(bad.code).toBe(1);
      expect(md.status).toMatch(
        /^failed: etcd-restore-from: the download's MD5 is .*, Cloud Storage said AAAAAAAAAAAAAAAAAAAAAA==: damaged on the way/,
      );
      failWith = [403];
      md.set('instance/attributes/etcd-restore-from', request());
      const denied = await bash('restore_snapshot "$(restore_request)"', env);
      expect(denied.code).toBe(1);
      expect(md.status).toContain('HTTP 403');
      expect(md.status).toContain('masters@p.iam.gserviceaccount.com needs roles/storage.objectViewer');
      expect(existsSync(data)).toBe(false);
      expect(existsSync(join(vm.state, 'restore.log'))).toBe(false);
      md.set('instance/attributes/etcd-restore-from', 'rs-1 backups obj notanumber x');
      const malformed = await bash('restore_snapshot "$(restore_request)"', env);
      expect(malformed.code).toBe(1);
      expect(md.status).toContain('etcd-restore-from: bad value');
    } finally {
      failWith = [];
      md.values.delete('instance/attributes/etcd-restore-from');
    }
  });
});

describe('control-plane flags', () => {
  const IP = '10.128.0.7';

  it("apiserver_flags: exactly the v1.34 flags of the contract, SERVICE_CLUSTER_IP_RANGE with kube-up's default", async () => {
    const vm = vmDirs({ 'kube-env': kubeEnv() });
    const pki = `${vm.root}/etc/ha-masters/pki`;
    const expected = (range: string): string[] => [
      `--advertise-address=${IP}`,
      '--bind-address=0.0.0.0',
      '--secure-port=443',
      '--etcd-servers=https://127.0.0.1:2379',
      `--etcd-cafile=${pki}/etcd-ca.crt`,
      `--etcd-certfile=${pki}/etcd-client.crt`,
      `--etcd-keyfile=${pki}/etcd-client.key`,
      `--tls-cert-file=${pki}/apiserver.crt`,
      `--tls-private-key-file=${pki}/apiserver.key`,
      `--client-ca-file=${pki}/ca.crt`,
      `--service-account-key-file=${pki}/service-account.key`,
      `--service-account-signing-key-file=${pki}/service-account.key`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-cluster-ip-range=${range}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true',
      '--storage-backend=etcd3',
      '--endpoint-reconciler-type=lease',
    ];
    const r = await bash('apiserver_flags', { ...vm.env, VM: 'm', IP });
    expect(lines(r.stdout)).toEqual(expected('10.0.0.0/16'));
    // Flags removed from kube-apiserver long ago must never come back (ENABLE_ETCD_QUORUM_READ=true here).
    expect(r.stdout).not.toMatch(/--etcd-quorum-read|--insecure-port|--cloud-provider|--cloud-config|--multizone/);
    writeFileSync(join(vm.work, 'kube-env'), kubeEnv({ SERVICE_CLUSTER_IP_RANGE: '10.96.0.0/12' }));
    const custom = await bash('apiserver_flags', { ...vm.env, VM: 'm', IP });
    expect(lines(custom.stdout)).toEqual(expected('10.96.0.0/12'));
  });

  it('controller-manager and scheduler: delegated kubeconfigs, leader election, localhost; the manager signs with the CA', async () => {
    const vm = vmDirs({ 'kube-env': kubeEnv({ INSTANCE_PREFIX: 'blue' }) });
    const etc = `${vm.root}/etc/ha-masters`;
    const common = (c: string): string[] => [
      `--kubeconfig=${etc}/${c}.kubeconfig`,
      `--authentication-kubeconfig=${etc}/${c}.kubeconfig`,
      `--authorization-kubeconfig=${etc}/${c}.kubeconfig`,
      '--leader-elect=true',
      '--bind-address=127.0.0.1',
    ];
    const r = await bash('controller_manager_flags; echo ---; scheduler_flags', { ...vm.env, VM: 'm', IP });
    const [cm, sched] = r.stdout.split('---\n');
    expect(lines(cm!)).toEqual([
      ...common('kube-controller-manager'),
      `--service-account-private-key-file=${etc}/pki/service-account.key`,
      `--root-ca-file=${etc}/pki/ca.crt`,
      `--cluster-signing-cert-file=${etc}/pki/ca.crt`,
      `--cluster-signing-key-file=${etc}/pki/ca.key`,
      '--use-service-account-credentials=true',
      '--cluster-name=blue',
    ]);
    expect(lines(sched!)).toEqual(common('kube-scheduler'));
  });
});

describe('data disk', () => {
  function image(formatted: boolean): string {
    const file = join(freshDir('disk'), 'master-pd.img');
    writeFileSync(file, '');
    truncateSync(file, 32 * 1024 * 1024);
    if (formatted) expect(spawnSync('mkfs.ext4', ['-q', '-F', file]).status).toBe(0);
    return file;
  }
  const uuid = (file: string): string => spawnSync('blkid', ['-p', '-s', 'UUID', '-o', 'value', file], { encoding: 'utf8' }).stdout.trim();

  it('has_filesystem tells a blank disk from a formatted one (blkid on a real image)', async () => {
    const blank = image(false);
    const formatted = image(true);
    const r = await bash(`for d in "${blank}" "${formatted}"; do if has_filesystem "$d"; then echo fs; else echo none; fi; done`);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual(['none', 'fs']);
  });

  it('formats a blank disk (ext4), mounts it at /mnt/disks/master-pd and makes the etcd data dir 0700', async () => {
    const vm = vmDirs();
    const dev = image(false);
    const r = await bash('prepare_disk', { ...vm.env, VM: 'm', HA_DISK_DEV: dev, PATH: `${fakeBin()}:${process.env.PATH}` });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${PREFIX}formatting ${dev} (ext4)`);
    expect(spawnSync('blkid', ['-p', '-s', 'TYPE', '-o', 'value', dev], { encoding: 'utf8' }).stdout.trim()).toBe('ext4');
    expect(readFileSync(join(vm.state, 'mount.log'), 'utf8')).toBe(`-o discard,defaults ${dev} ${vm.root}/mnt/disks/master-pd\n`);
    const data = join(vm.root, 'mnt/disks/master-pd/var/etcd/data');
    expect(statSync(data).mode & 0o777).toBe(0o700);
  });

  it('never formats a disk that holds a filesystem, and does not mount twice', async () => {
    const vm = vmDirs();
    const dev = image(true);
    const before = uuid(dev);
    const env = { ...vm.env, VM: 'm', HA_DISK_DEV: dev, PATH: `${fakeBin()}:${process.env.PATH}` };
    const r = await bash('prepare_disk', env);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('formatting');
    expect(uuid(dev)).toBe(before);
    const again = await bash('prepare_disk', env); // mountpoint now says mounted
    expect(again.code).toBe(0);
    expect(lines(readFileSync(join(vm.state, 'mount.log'), 'utf8'))).toHaveLength(1);
    expect(uuid(dev)).toBe(before);
  });

  it('fails with "data disk not found" when the device never appears', async () => {
    const vm = vmDirs();
    const t0 = Date.now();
    const r = await bash('prepare_disk', {
      ...vm.env,
      VM: 'm',
      HA_DISK_DEV: join(vm.root, 'missing'),
      HA_DISK_WAIT_SECONDS: '1',
      HA_METADATA_URL: md.url,
    });
    expect(r.code).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900); // it waited for the device
    expect(r.stdout).toContain(`${PREFIX}failed: data disk not found\n`);
    expect(md.status).toBe('failed: data disk not found');
  });
});

describe('binaries: download, verify, install', () => {
  const installed = (root: string): string[] => {
    const bin = join(root, 'opt/ha-masters/bin');
    return existsSync(bin) ? readdirSync(bin).sort() : [];
  };

  it('installs verified binaries from upstream-layout archives (sha512 and sha256), and a reboot downloads nothing', async () => {
    const release = publishRelease(art);
    const vm = vmDirs({ release: release.text });
    const env = { ...vm.env, HA_METADATA_URL: md.url };
    const r = await bash('install_binaries', env);
    expect(r.code).toBe(0);
    const bin = join(vm.root, 'opt/ha-masters/bin');
    expect(installed(vm.root)).toEqual([
      '.installed-etcd',
      '.installed-kubernetes-server',
      'etcd',
      'etcdctl',
      'etcdutl',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
    ]);
    for (const b of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
      expect(spawnSync(join(bin, b), { encoding: 'utf8' }).stdout).toBe(`${b} ${K8S_VERSION}\n`);
    }
    expect(spawnSync(join(bin, 'etcd'), { encoding: 'utf8' }).stdout).toBe(`etcd ${ETCD_VERSION}\n`);
    expect(existsSync(join(bin, 'README.md'))).toBe(false);
    expect(readdirSync(join(vm.root, 'var/cache/ha-masters'))).toEqual([]); // archives removed
    expect(art.count(release.kubePath)).toBe(1);
    expect(art.count(release.etcdPath)).toBe(1);

    const reboot = await bash('install_binaries', env);
    expect(reboot.code).toBe(0);
    expect(reboot.stdout).toContain(`${PREFIX}kubernetes-server ${K8S_VERSION} already installed`);
    expect(art.count(release.kubePath)).toBe(1);
    expect(art.count(release.etcdPath)).toBe(1);

    // A binary gone missing: that artifact is downloaded again.
    rmSync(join(bin, 'etcdctl'));
    expect((await bash('install_binaries', env)).code).toBe(0);
    expect(art.count(release.etcdPath)).toBe(2);
    expect(art.count(release.kubePath)).toBe(1);
    expect(existsSync(join(bin, 'etcdctl'))).toBe(true);

    // A new version in the manifest: downloaded and replaced.
    const upgrade = publishRelease(art, { kubeVersion: 'v1.34.3' });
    writeFileSync(join(vm.work, 'release'), upgrade.text);
    expect((await bash('install_binaries', env)).code).toBe(0);
    expect(art.count(upgrade.kubePath)).toBe(1);
    expect(spawnSync(join(bin, 'kube-apiserver'), { encoding: 'utf8' }).stdout).toBe('kube-apiserver v1.34.3\n');
    expect(readFileSync(join(bin, '.installed-kubernetes-server'), 'utf8')).toBe(upgrade.text.split('\n')[1]);
  });

  it('retries a failing download with back-off and installs once the server answers', async () => {
    const release = publishRelease(art, { kubeVersion: 'v1.34.4' });
    art.failFirst.set(release.kubePath, 2);
    const vm = vmDirs({ release: release.text });
    const r = await bash('install_binaries', { ...vm.env, HA_METADATA_URL: md.url, HA_DOWNLOAD_ATTEMPTS: '4', HA_BACKOFF_MS: '100' });
    expect(r.code).toBe(0);
    expect(art.count(release.kubePath)).toBe(3);
    expect(r.stdout).toContain(`${PREFIX}kubernetes-server download failed (attempt 1 of 4), retrying in 100 ms`);
    expect(r.stdout).toContain(`${PREFIX}kubernetes-server download failed (attempt 2 of 4), retrying in 200 ms`);
    expect(installed(vm.root)).toContain('kube-apiserver');
  });

  it('refuses a tampered archive: retried once, failed when the same wrong file comes again, never extracted, "kubernetes-server sha512 mismatch" reported', async () => {
    const release = publishRelease(art, { kubeVersion: 'v1.34.5', tamperKube: true });
    const vm = vmDirs({ release: release.text });
    const before = md.guest.length;
    const r = await bash('install_binaries', { ...vm.env, HA_METADATA_URL: md.url, HA_DOWNLOAD_ATTEMPTS: '3', HA_BACKOFF_MS: '200' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(`${PREFIX}failed: kubernetes-server sha512 mismatch \\(the mirror serves [0-9a-f]{16}\\.\\.\\. every time\\)\n`),
    );
    // The retry tells the action the cause at once; the same wrong file again fails for good.
    expect(md.guest.slice(before)).toEqual([
      'running: installing binaries (kubernetes-server sha512 mismatch, attempt 1 of 3)',
      expect.stringMatching(/^failed: kubernetes-server sha512 mismatch \(the mirror serves [0-9a-f]{16}\.\.\. every time\)$/),
    ]);
    const times = art.hits.get(release.kubePath)!;
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(190);
    // Nothing of it on disk: no binary, no marker, no archive, no extraction directory.
    expect(installed(vm.root)).toEqual([]);
    expect(readdirSync(join(vm.root, 'var/cache/ha-masters'))).toEqual([]);
  });

  it('a download damaged once is fetched again and installed (a wrong digest is retried while it changes)', async () => {
    const release = publishRelease(art, { kubeVersion: 'v1.34.6' });
    art.truncateFirst.add(release.kubePath);
    const vm = vmDirs({ release: release.text });
    const r = await bash('install_binaries', { ...vm.env, HA_METADATA_URL: md.url, HA_DOWNLOAD_ATTEMPTS: '3', HA_BACKOFF_MS: '100' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${PREFIX}kubernetes-server sha512 mismatch (attempt 1 of 3), retrying in 100 ms`);
    expect(art.count(release.kubePath)).toBe(2);
    expect(installed(vm.root)).toContain('kube-apiserver');
  });

  it('fails when the manifest lacks or repeats an artifact', async () => {
    const release = publishRelease(art);
    const vm = vmDirs({
      release: release.text
        .split('\n')
        .filter((l) => !l.startsWith('etcd '))
        .join('\n'),
    });
    const r = await bash('install_binaries', { ...vm.env, HA_METADATA_URL: md.url });
    expect(r.code).toBe(1);
    expect(md.status).toBe('failed: ha-masters-release has no etcd');
    expect(installed(vm.root)).toEqual([]);
    writeFileSync(join(vm.work, 'release'), `${release.text}${release.text.split('\n')[1]}\n`);
    expect((await bash('install_binaries', { ...vm.env, HA_METADATA_URL: md.url })).code).toBe(1);
    expect(md.status).toBe('failed: ha-masters-release repeats kubernetes-server');
    expect(installed(vm.root)).toEqual([]);
  });
});

describe('certificates and kubeconfigs', () => {
  const member = (extra: string[] = []): string => encodeFlatYaml(certsOf(['ETCD_MEMBER_CERT', 'ETCD_MEMBER_KEY', ...extra]));

  it('writes the PEMs decoded, keys 0600, MASTER_CERT without a per-replica cert, and both kubeconfigs', async () => {
    const vm = vmDirs({
      'kube-env': kubeEnv(),
      'kube-master-certs': encodeFlatYaml(certsOf(MASTER_CERT_KEYS)),
      'etcd-member-certs': member(),
    });
    const r = await bash('write_certs', vm.env);
    expect(r.code).toBe(0);
    const pki = join(vm.root, 'etc/ha-masters/pki');
    const expected: Record<string, string> = {
      'etcd-ca.crt': 'ETCD_CA_CERT',
      'etcd-member.crt': 'ETCD_MEMBER_CERT',
      'etcd-member.key': 'ETCD_MEMBER_KEY',
      'etcd-client.crt': 'ETCD_APISERVER_CLIENT_CERT',
      'etcd-client.key': 'ETCD_APISERVER_CLIENT_KEY',
      'ca.crt': 'CA_CERT',
      'ca.key': 'CA_KEY',
      'apiserver.crt': 'MASTER_CERT',
      'apiserver.key': 'MASTER_KEY',
      'service-account.key': 'SERVICE_ACCOUNT_KEY',
      'kube-controller-manager.crt': 'KUBE_CONTROLLER_MANAGER_CERT',
      'kube-controller-manager.key': 'KUBE_CONTROLLER_MANAGER_KEY',
      'kube-scheduler.crt': 'KUBE_SCHEDULER_CERT',
      'kube-scheduler.key': 'KUBE_SCHEDULER_KEY',
    };
    expect(readdirSync(pki).sort()).toEqual(Object.keys(expected).sort());
    for (const [file, key] of Object.entries(expected)) {
      expect(readFileSync(join(pki, file), 'utf8')).toBe(pemOf(key));
      expect(statSync(join(pki, file)).mode & 0o777).toBe(file.endsWith('.key') ? 0o600 : 0o644);
    }
    expect(readdirSync(join(vm.root, 'etc/ha-masters')).sort()).toEqual([
      'kube-controller-manager.kubeconfig',
      'kube-scheduler.kubeconfig',
      'pki',
    ]);
    const kc = readFileSync(join(vm.root, 'etc/ha-masters/kube-scheduler.kubeconfig'), 'utf8');
    expect(kc).toContain('server: https://127.0.0.1:443\n');
    expect(kc).toContain(`certificate-authority: ${pki}/ca.crt\n`);
    expect(kc).toContain(`client-certificate: ${pki}/kube-scheduler.crt\n`);
    expect(kc).toContain(`client-key: ${pki}/kube-scheduler.key\n`);
    expect(kc).toContain('name: system:kube-scheduler\n');
    expect(statSync(join(vm.root, 'etc/ha-masters/kube-scheduler.kubeconfig')).mode & 0o777).toBe(0o600);
  });

  it('prefers the per-replica APISERVER_CERT/KEY from etcd-member-certs', async () => {
    const vm = vmDirs({
      'kube-env': kubeEnv(),
      'kube-master-certs': encodeFlatYaml(certsOf(MASTER_CERT_KEYS)),
      'etcd-member-certs': member(['APISERVER_CERT', 'APISERVER_KEY']),
    });
    expect((await bash('write_certs', vm.env)).code).toBe(0);
    expect(readFileSync(join(vm.root, 'etc/ha-masters/pki/apiserver.crt'), 'utf8')).toBe(pemOf('APISERVER_CERT'));
    expect(readFileSync(join(vm.root, 'etc/ha-masters/pki/apiserver.key'), 'utf8')).toBe(pemOf('APISERVER_KEY'));
  });

  it('fails naming the missing key', async () => {
    const vm = vmDirs({
      'kube-env': kubeEnv(),
      'kube-master-certs': encodeFlatYaml(certsOf(MASTER_CERT_KEYS.filter((k) => k !== 'SERVICE_ACCOUNT_KEY'))),
      'etcd-member-certs': member(),
    });
    const r = await bash('write_certs', { ...vm.env, HA_METADATA_URL: md.url });
    expect(r.code).toBe(1);
    expect(md.status).toBe('failed: kube-master-certs has no SERVICE_ACCOUNT_KEY');
  });
});

describe('private keys in Secret Manager (contract v2: read_keys)', () => {
  const CLUSTER = 'projects/p/secrets/kubernetes-master-cluster-keys/versions/1';
  const REPLICA = 'projects/p/secrets/kubernetes-master-replica-keys/versions/2';
  const EMAIL = '123-compute@developer.gserviceaccount.com';
  const TOKEN_PATH = 'instance/service-accounts/default/token';
  // Real keys and certificates: the boot-disk fallback compares public keys with openssl.
  const pki = makeTestPki('kubernetes-master', '34.1.2.3');
  const member = pki.member('kubernetes-master', '10.128.0.2');
  const other = pki.member('kubernetes-master', '10.128.0.9');
  const clusterCerts = {
    CA_CERT: b64(pki.apiserverCa.cert),
    MASTER_CERT: b64(pki.master.cert),
    ETCD_APISERVER_CLIENT_CERT: b64(pki.etcdClient.cert),
    KUBE_CONTROLLER_MANAGER_CERT: b64(pki.admin.cert),
    KUBE_SCHEDULER_CERT: b64(pki.admin.cert),
  };
  const clusterKeys = {
    CA_KEY: b64(pki.apiserverCa.key),
    MASTER_KEY: b64(pki.master.key),
    ETCD_APISERVER_CLIENT_KEY: b64(pki.etcdClient.key),
    SERVICE_ACCOUNT_KEY: b64(pki.admin.key),
    KUBE_CONTROLLER_MANAGER_KEY: b64(pki.admin.key),
    KUBE_SCHEDULER_KEY: b64(pki.admin.key),
  };
  let sm: FakeSecretManager;
  beforeAll(async () => {
    sm = await new FakeSecretManager().start();
  });
  afterAll(() => sm.stop());

  function keysVm(opts: { memberCert?: string } = {}) {
    sm.payloads.set(CLUSTER, encodeFlatYaml(clusterKeys));
    sm.payloads.set(REPLICA, encodeFlatYaml({ ETCD_MEMBER_KEY: b64(member.key) }));
    md.set(TOKEN_PATH, JSON.stringify({ access_token: sm.token, expires_in: 3599, token_type: 'Bearer' }));
    md.set('instance/service-accounts/default/email', EMAIL);
    const vm = vmDirs({
      'kube-env': kubeEnv({ ETCD_CA_CERT: b64(pki.etcdCa.cert) }),
      'kube-master-certs': encodeFlatYaml({ ...clusterCerts, KEYS_SECRET: CLUSTER }),
      'etcd-member-certs': encodeFlatYaml({ ETCD_MEMBER_CERT: b64(opts.memberCert ?? member.cert), KEYS_SECRET: REPLICA }),
    });
    return { vm, env: { ...vm.env, HA_METADATA_URL: md.url, HA_SECRETMANAGER_URL: sm.url, HA_BACKOFF_MS: '20', HA_SECRET_ATTEMPTS: '3' } };
  }
  const pkiFile = (vm: { root: string }, name: string): string => readFileSync(join(vm.root, 'etc/ha-masters/pki', name), 'utf8');
  const noSecretIn = (r: BashResult): void => {
    for (const secret of [sm.token, pki.apiserverCa.key, member.key, clusterKeys.CA_KEY, clusterKeys.MASTER_KEY]) {
      expect(r.stdout + r.stderr).not.toContain(secret.split('\n')[1] ?? secret);
    }
  };

  it("reads both versions with the token of the VM's service account and writes their keys (0600); no key or token in the output", async () => {
    const { vm, env } = keysVm();
    const before = sm.requests.length;
    const r = await bash('read_keys && write_certs', env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(sm.requests.slice(before)).toEqual([CLUSTER, REPLICA].map((n) => `GET /v1/${n}:access Bearer ${sm.token}`));
    expect(lines(r.stdout)).toEqual([
      `${PREFIX}read the keys of kube-master-certs from ${CLUSTER}`,
      `${PREFIX}read the keys of etcd-member-certs from ${REPLICA}`,
    ]);
    expect(pkiFile(vm, 'ca.key')).toBe(pki.apiserverCa.key);
    expect(pkiFile(vm, 'apiserver.key')).toBe(pki.master.key);
    expect(pkiFile(vm, 'etcd-member.key')).toBe(member.key);
    expect(statSync(join(vm.root, 'etc/ha-masters/pki/service-account.key')).mode & 0o777).toBe(0o600);
    noSecretIn(r);
    // Token, request headers and payloads are gone from the scratch dir.
    expect(readdirSync(vm.work).sort()).toEqual(['etcd-member-certs', 'kube-env', 'kube-master-certs']);
  });

  it('403: fails naming the version, the status and the account that needs the role', async () => {
    const { env } = keysVm();
    sm.payloads.delete(CLUSTER);
    const r = await bash('read_keys', env);
    expect(r.code).toBe(1);
    expect(md.status).toBe(
      `failed: cannot read ${CLUSTER}: HTTP 403 (the VM's service account ${EMAIL} needs roles/secretmanager.secretAccessor on it)`,
    );
    noSecretIn(r);
  });

  it('a VM without a service account (no token): fails saying so', async () => {
    const { env } = keysVm();
    md.values.delete(TOKEN_PATH);
    const r = await bash('read_keys', env);
    expect(r.code).toBe(1);
    expect(md.status).toBe(
      `failed: cannot read ${CLUSTER}: the VM has no service account (the metadata server has no token for it); create the VM with one that has roles/secretmanager.secretAccessor on the secret`,
    );
  });

  it('retries 503 and 429 with back-off, then reads; gives up after HA_SECRET_ATTEMPTS naming the last status', async () => {
    const { env } = keysVm();
    sm.fail.push(503, 429);
    const ok = await bash('read_keys', env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${PREFIX}cannot read ${CLUSTER}: HTTP 503 (attempt 1 of 3), retrying in 20 ms\n`);
    expect(ok.stdout).toContain(`${PREFIX}cannot read ${CLUSTER}: HTTP 429 (attempt 2 of 3), retrying in 40 ms\n`);
    sm.fail.push(503, 503, 503);
    const r = await bash('read_keys', env);
    expect(r.code).toBe(1);
    expect(md.status).toBe(`failed: cannot read ${CLUSTER}: HTTP 503 after 3 tries`);
  });

  it('refuses a payload whose dataCrc32c does not match', async () => {
    const { env } = keysVm();
    sm.badChecksum = true;
    try {
      const r = await bash('read_keys', env);
      expect(r.code).toBe(1);
      expect(md.status).toBe(`failed: cannot read ${CLUSTER}: the payload fails its dataCrc32c check`);
    } finally {
      sm.badChecksum = false;
    }
  });

  it('unreadable but the keys on the boot disk match the certificates in metadata (a reboot): uses them and says so', async () => {
    const { vm, env } = keysVm();
    expect((await bash('read_keys && write_certs', env)).code).toBe(0);
    sm.payloads.clear();
    // The next boot: fresh metadata copies, the keys only on the disk.
    const again = {
      ...env,
      HA_WORK: vmDirs({
        'kube-env': readFileSync(join(vm.work, 'kube-env'), 'utf8'),
        'kube-master-certs': encodeFlatYaml({ ...clusterCerts, KEYS_SECRET: CLUSTER }),
        'etcd-member-certs': encodeFlatYaml({ ETCD_MEMBER_CERT: b64(member.cert), KEYS_SECRET: REPLICA }),
      }).work,
    };
    const r = await bash('CHANGED=(); read_keys && write_certs && echo "changed: ${CHANGED[*]}"', again);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `${PREFIX}cannot read ${CLUSTER}: HTTP 403 (the VM's service account ${EMAIL} needs roles/secretmanager.secretAccessor on it); the keys on the boot disk match the certificates in metadata: using them\n`,
    );
    expect(r.stdout).toContain(`${PREFIX}cannot read ${REPLICA}: HTTP 403`);
    // Nothing rewritten: no unit restarts.
    expect(r.stdout).toContain('changed: \n');
    expect(pkiFile(vm, 'etcd-member.key')).toBe(member.key);
    noSecretIn(r);

    // A member certificate the disk's key does not belong to: the fallback is refused.
    const mismatch = {
      ...env,
      HA_WORK: vmDirs({
        'kube-env': readFileSync(join(vm.work, 'kube-env'), 'utf8'),
        'kube-master-certs': encodeFlatYaml({ ...clusterCerts, KEYS_SECRET: CLUSTER }),
        'etcd-member-certs': encodeFlatYaml({ ETCD_MEMBER_CERT: b64(other.cert), KEYS_SECRET: REPLICA }),
      }).work,
    };
    const refused = await bash('read_keys', mismatch);
    expect(refused.code).toBe(1);
    expect(md.status).toBe(
      `failed: cannot read ${REPLICA}: HTTP 403 (the VM's service account ${EMAIL} needs roles/secretmanager.secretAccessor on it)`,
    );
  });

  it('without KEYS_SECRET the keys are inline (a cluster made before contract v2): nothing is asked', async () => {
    const { vm, env } = keysVm();
    writeFileSync(join(vm.work, 'kube-master-certs'), encodeFlatYaml({ ...clusterCerts, ...clusterKeys }));
    writeFileSync(
      join(vm.work, 'etcd-member-certs'),
      encodeFlatYaml({ ETCD_MEMBER_CERT: b64(member.cert), ETCD_MEMBER_KEY: b64(member.key) }),
    );
    const before = sm.requests.length;
    const r = await bash('read_keys && write_certs', env);
    expect(r.code).toBe(0);
    expect(sm.requests.length).toBe(before);
    expect(pkiFile(vm, 'ca.key')).toBe(pki.apiserverCa.key);
  });

  it('a payload without a key write_certs needs: the failure names the secret too', async () => {
    const { env } = keysVm();
    sm.payloads.set(CLUSTER, encodeFlatYaml({ ...clusterKeys, SERVICE_ACCOUNT_KEY: '' }));
    const r = await bash('read_keys && write_certs', env);
    expect(r.code).toBe(1);
    expect(md.status).toBe(`failed: kube-master-certs has no SERVICE_ACCOUNT_KEY (nor has ${CLUSTER})`);
  });
});

describe('systemd units and the :3990 sidecar', () => {
  it("writes the contract's units: etcd with the persisted initial flags, guarded by the data-disk mount", async () => {
    const vm = vmDirs({ 'kube-env': kubeEnv() });
    const initial = '--initial-cluster=etcd-m=https://10.128.0.7:2380 --initial-cluster-state=new';
    const r = await bash(`write_units '${initial}'`, { ...vm.env, VM: 'm', IP: '10.128.0.7' });
    expect(r.code).toBe(0);
    const units = join(vm.root, 'etc/systemd/system');
    expect(readdirSync(units).sort()).toEqual([
      'ha-etcd.service',
      'ha-kube-apiserver.service',
      'ha-kube-controller-manager.service',
      'ha-kube-scheduler.service',
      'ha-readyz.socket',
      'ha-readyz@.service',
    ]);
    const bin = `${vm.root}/opt/ha-masters/bin`;
    const etcd = readFileSync(join(units, 'ha-etcd.service'), 'utf8');
    expect(etcd).toContain(`ExecStart=${bin}/etcd \\\n  --name=etcd-m \\\n`);
    expect(etcd).toContain('  --peer-client-cert-auth \\\n  $ETCD_INITIAL_FLAGS\n');
    expect(etcd).toContain(`EnvironmentFile=${vm.root}/etc/ha-masters/etcd.env\n`);
    expect(etcd).toContain(`ConditionPathIsMountPoint=${vm.root}/mnt/disks/master-pd\n`);
    expect(etcd).toContain('Restart=always\n');
    expect(etcd).toContain('StartLimitIntervalSec=0\n');
    expect(readFileSync(join(vm.root, 'etc/ha-masters/etcd.env'), 'utf8')).toBe(`ETCD_INITIAL_FLAGS="${initial}"\n`);
    const api = readFileSync(join(units, 'ha-kube-apiserver.service'), 'utf8');
    expect(api).toContain('After=network-online.target ha-etcd.service\n');
    expect(api).toContain(`ExecStart=${bin}/kube-apiserver \\\n  --advertise-address=10.128.0.7 \\\n`);
    expect(readFileSync(join(units, 'ha-kube-scheduler.service'), 'utf8')).toContain(
      'After=network-online.target ha-kube-apiserver.service\n',
    );
    const socket = readFileSync(join(units, 'ha-readyz.socket'), 'utf8');
    expect(socket).toContain('ListenStream=3990\n');
    expect(socket).toContain('Accept=yes\n');
    expect(readFileSync(join(units, 'ha-readyz@.service'), 'utf8')).toContain(`ExecStart=${bin}/ha-readyz\n`);
    expect(statSync(join(bin, 'ha-readyz')).mode & 0o777).toBe(0o755);

    // systemd itself accepts them (when systemd-analyze is here): every directive parses, every binary exists.
    const analyze = spawnSync('systemd-analyze', ['--version']);
    if (analyze.status === 0) {
      for (const b of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'])
        writeFileSync(join(bin, b), '#!/bin/sh\n', { mode: 0o755 });
      const v = spawnSync('systemd-analyze', ['verify', '--man=no', ...readdirSync(units).map((u) => `./${u}`)], {
        cwd: units,
        encoding: 'utf8',
      });
      expect(v.stdout + v.stderr).toBe('');
      expect(v.status).toBe(0);
    }
  });

  async function readyz(upstream: string): Promise<string> {
    const vm = vmDirs();
    const handler = join(vm.root, 'ha-readyz');
    expect((await bash(`readyz_handler >"${handler}" && chmod +x "${handler}"`)).code).toBe(0);
    const lint = spawnSync('shellcheck', ['--severity=style', handler], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    return new Promise((done) => {
      const child = spawn(handler, [], { env: { PATH: process.env.PATH, HA_READYZ_URL: upstream } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', () => done(out));
      child.stdin.on('error', () => undefined);
      child.stdin.end('GET /readyz HTTP/1.1\r\nHost: 10.128.0.7:3990\r\nUser-Agent: GoogleHC/1.0\r\n\r\n');
    });
  }

  it('ha-readyz answers HTTP/1.0 200 "ok" only when the apiserver\'s /readyz says ok, else 503', async () => {
    let answer = { code: 200, body: 'ok' };
    const seen: string[] = [];
    const api = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(answer.code).end(answer.body);
    });
    const base = await listen(api);
    try {
      const ok = await readyz(`${base}/readyz`);
      expect(ok).toBe('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
      answer = { code: 500, body: '[-]etcd failed: reason withheld\nreadyz check failed' };
      expect(await readyz(`${base}/readyz`)).toMatch(/^HTTP\/1\.0 503 Service Unavailable\r\n[\s\S]*\r\n\r\nnot ready$/);
      expect(seen).toEqual(['/readyz', '/readyz']);
    } finally {
      await new Promise((ok) => api.close(ok));
    }
    expect(await readyz(`${base}/readyz`)).toMatch(/^HTTP\/1\.0 503 /); // apiserver down
  });
});

describe('main, end to end (fake systemctl and mount; real metadata, artifact and disk image)', () => {
  const VM = 'kubernetes-master';
  const IP = '10.128.0.2';

  async function machine(): Promise<{
    meta: FakeMetadata;
    env: Record<string, string>;
    vm: ReturnType<typeof vmDirs>;
    release: Release;
    dev: string;
  }> {
    const meta = await new FakeMetadata().start();
    const release = publishRelease(art);
    meta.set('instance/name', VM);
    meta.set('instance/network-interfaces/0/ip', IP);
    meta.set('instance/attributes/kube-env', kubeEnv());
    meta.set('instance/attributes/kube-master-certs', encodeFlatYaml(certsOf(MASTER_CERT_KEYS)));
    meta.set('instance/attributes/ha-masters-release', release.text);
    const vm = vmDirs();
    const dev = join(vm.state, 'disk.img');
    writeFileSync(dev, '');
    truncateSync(dev, 32 * 1024 * 1024);
    const env: Record<string, string> = {
      HA_ROOT: vm.root,
      HA_TEST_STATE: vm.state,
      HA_POLL_SECONDS: '0.05',
      HA_METADATA_URL: meta.url,
      HA_DISK_DEV: dev,
      HA_BACKOFF_MS: '50',
      PATH: `${fakeBin()}:${process.env.PATH}`,
    };
    return { meta, env, vm, release, dev };
  }

  const main = (env: Record<string, string>): Promise<BashResult> => bash('main', env);

  it('first boot: waits for etcd-member-certs, then reports every step and ok; a reboot restarts nothing and downloads nothing; a new cert restarts only its unit', async () => {
    const { meta, env, vm, release } = await machine();
    try {
      // Long-polls end (404) well before the key comes: the script must keep asking.
      meta.maxWaitMs = 100;
      const first = main(env);
      await new Promise((ok) => setTimeout(ok, 1000));
      expect(meta.status).toBe('running: waiting for etcd-member-certs');
      meta.set('instance/attributes/etcd-member-certs', encodeFlatYaml(certsOf(['ETCD_MEMBER_CERT', 'ETCD_MEMBER_KEY'])));
      const r = await first;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      for (const l of lines(r.stdout)) expect(l.startsWith(PREFIX)).toBe(true);
      expect(r.stdout).toContain(
        `${PREFIX}etcd initial flags: --initial-cluster=etcd-${VM}=https://${IP}:2380 --initial-cluster-state=new\n`,
      );
      expect(meta.guest).toEqual([
        'running: reading metadata',
        'running: preparing the data disk',
        'running: installing binaries',
        'running: waiting for etcd-member-certs',
        'running: reading the private keys',
        'running: writing certificates and kubeconfigs',
        "running: choosing etcd's initial cluster",
        'running: writing and starting systemd units',
        'ok',
      ]);
      expect(meta.rejected).toBe(0);
      const polls = meta.requests.filter(
        (q) => q === 'GET /computeMetadata/v1/instance/attributes/etcd-member-certs?wait_for_change=true&timeout_sec=60',
      );
      expect(polls.length).toBeGreaterThanOrEqual(2);
      const all = 'ha-etcd.service ha-kube-apiserver.service ha-kube-controller-manager.service ha-kube-scheduler.service ha-readyz.socket';
      expect(lines(readFileSync(join(vm.state, 'systemctl.log'), 'utf8'))).toEqual([
        'daemon-reload',
        `enable ${all}`,
        `restart --no-block ${all}`,
        `start --no-block ${all}`,
      ]);
      // The metadata copies (secrets) are gone; the disk got a filesystem.
      expect(readdirSync(vm.root).filter((f) => f.startsWith('ha-masters-work'))).toEqual([]);
      expect(existsSync(join(vm.root, 'opt/ha-masters/bin/kube-apiserver'))).toBe(true);

      // Reboot: the disk is unmounted, etcd has written data, nothing else changed.
      rmSync(join(vm.state, 'mounted'));
      rmSync(join(vm.state, 'systemctl.log'));
      mkdirSync(join(vm.root, 'mnt/disks/master-pd/var/etcd/data/member/snap'), { recursive: true });
      const envBefore = readFileSync(join(vm.root, 'etc/ha-masters/etcd.env'), 'utf8');
      const meta2 = meta.guest.length;
      const reboot = await main(env);
      expect(reboot.code).toBe(0);
      expect(reboot.stdout).not.toContain('formatting');
      expect(reboot.stdout).toContain(`${PREFIX}etcd initial flags: ${envBefore.slice('ETCD_INITIAL_FLAGS="'.length, -2)}\n`);
      expect(art.count(release.kubePath)).toBe(1);
      expect(meta.guest.at(-1)).toBe('ok');
      expect(meta.guest.length - meta2).toBe(9);
      expect(readFileSync(join(vm.root, 'etc/ha-masters/etcd.env'), 'utf8')).toBe(envBefore);
      expect(lines(readFileSync(join(vm.state, 'systemctl.log'), 'utf8'))).toEqual([
        'daemon-reload',
        `enable ${all}`,
        `start --no-block ${all}`,
      ]);

      // A rotated serving cert: only kube-apiserver restarts.
      rmSync(join(vm.state, 'systemctl.log'));
      meta.set(
        'instance/attributes/etcd-member-certs',
        encodeFlatYaml(certsOf(['ETCD_MEMBER_CERT', 'ETCD_MEMBER_KEY', 'APISERVER_CERT', 'APISERVER_KEY'])),
      );
      expect((await main(env)).code).toBe(0);
      expect(lines(readFileSync(join(vm.state, 'systemctl.log'), 'utf8'))).toContain('restart --no-block ha-kube-apiserver.service');
    } finally {
      await meta.stop();
    }
  });

  it('reports a missing metadata key, and turns any unexpected error into "failed: <step>: ..." (trap ERR)', async () => {
    const { meta, env } = await machine();
    try {
      meta.values.delete('instance/attributes/kube-env');
      const r = await main(env);
      expect(r.code).toBe(1);
      expect(meta.status).toBe('failed: metadata instance/attributes/kube-env not set');

      meta.set('instance/attributes/kube-env', kubeEnv());
      meta.set('instance/attributes/etcd-member-certs', encodeFlatYaml(certsOf(['ETCD_MEMBER_CERT', 'ETCD_MEMBER_KEY'])));
      const broken = await main({ ...env, HA_TEST_SYSTEMCTL_FAIL: '1' });
      expect(broken.code).toBe(1);
      expect(meta.status).toMatch(/^failed: units: line \d+: systemctl daemon-reload$/);
      expect(broken.stdout).toContain(`${PREFIX}failed: units: line`);
    } finally {
      await meta.stop();
    }
  });

  it('the metadata stand-in enforces Metadata-Flavor (so the checks above mean something)', async () => {
    md.set('instance/name', 'x');
    expect((await fetch(`${md.url}/instance/name`)).status).toBe(403);
    expect((await fetch(`${md.url}/instance/name`, { headers: { 'Metadata-Flavor': 'Google' } })).status).toBe(200);
  });
});
