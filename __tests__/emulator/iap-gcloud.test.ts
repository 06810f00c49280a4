// gcloud's own IAP client (`gcloud compute start-iap-tunnel`, which nobody here wrote) against the
// emulator's relay: etcdctl (Debian's etcd-client) reaches a master replica's etcd through it,
// also across a 4004 drop that gcloud resumes; gcloud's words for a missing firewall rule (4003),
// a missing permission (403) and a missing instance (404). Last, on a Debian VM, IAP's
// connections come from 35.235.240.1 through the VPC.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { admin, computeClients, type Compute } from './support/compute.ts';
import { singleMaster, runnerToken, setIapRule } from '../support/iap-world.ts';
import type { TestPki } from '../support/runtime-certs.ts';
import { waitFor } from '../support/runtime-vms.ts';
import { debianInstanceBody, debianTest, hostLeftovers, startDebianEmulator, waitUntil } from '../support/debian-vms.ts';
import { hostNamesFor } from '../../emulator/vm/names.ts';

// gcloud and etcdctl ship with these machines (google-cloud-cli, etcd-client); where one is
// missing, say so loudly and skip rather than fail.
const have = (cmd: string, arg: string): boolean => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
const haveTools = have('gcloud', '--version') && have('/usr/bin/etcdctl', 'version');
if (!haveTools) console.warn('gcloud or /usr/bin/etcdctl is missing: the gcloud IAP tests are SKIPPED on this machine');
const toolsTest = haveTools ? test : test.skip;

const project = 'p';
const zone = 'us-central1-a';
const MASTER = 'kubernetes-master';

let dir: string;
let emu: RunningEmulator;
let gce: Compute;
let pki: TestPki;
const gclouds = new Set<ChildProcess>();

/** gcloud's environment: a private config dir, the relay's CA, a token from the emulator. */
async function gcloudEnv(e: RunningEmulator, home: string): Promise<NodeJS.ProcessEnv> {
  const tokenFile = join(home, 'token');
  writeFileSync(tokenFile, await runnerToken(e), { mode: 0o600 });
  return {
    PATH: process.env.PATH,
    HOME: home,
    CLOUDSDK_CONFIG: join(home, 'gcloud'),
    CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
    CLOUDSDK_CORE_PROJECT: project,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: `${e.url}/compute/v1/`,
    CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE: e.iapCaFile,
    CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
  };
}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: Buffer,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input) child.stdin?.end(input);
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

const tunnelArgs = (e: RunningEmulator, instance: string, port: number, localPort: number, z = zone): string[] => [
  'compute',
  'start-iap-tunnel',
  instance,
  String(port),
  `--local-host-port=localhost:${localPort}`,
  '--zone',
  z,
  `--iap-tunnel-url-override=${e.iapRelayUrl}`,
  '--project',
  project,
];

/** Starts `gcloud compute start-iap-tunnel` and resolves once it listens (after its own test connection). */
async function startTunnel(
  e: RunningEmulator,
  env: NodeJS.ProcessEnv,
  instance: string,
  port: number,
  z = zone,
): Promise<{ localPort: number; child: ChildProcess }> {
  const localPort = await freePort();
  // Unbuffered: gcloud says "Listening on port" on its stdout, which is a pipe here.
  const child = spawn('gcloud', tunnelArgs(e, instance, port, localPort, z), {
    env: { ...env, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gclouds.add(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gcloud did not listen within 60 s: ${output}`)), 60_000);
    const check = (): void => {
      if (!output.includes(`Listening on port [${localPort}]`)) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gcloud exited ${code}: ${output}`));
    });
  });
  return { localPort, child };
}

async function stopTunnel(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
  gclouds.delete(child);
}

beforeAll(async () => {
  if (!haveTools) return;
  dir = mkdtempSync(join(tmpdir(), 'emu-iap-gcloud-'));
  emu = await startEmulator({
    port: 0,
    stateDir: join(dir, 'state'),
    vmRuntime: 'process',
    defaultOperationLatencyMs: 20,
    leaseRenewIntervalMs: 1000,
    etcdBinary: '/usr/bin/etcd',
    log: () => {},
  });
  gce = computeClients(emu.port);
  ({ pki } = await singleMaster(gce, project, zone, MASTER));
  for (const [name, pem] of [
    ['ca.crt', pki.etcdCa.cert],
    ['client.crt', pki.etcdClient.cert],
    ['client.key', pki.etcdClient.key],
  ] as const) {
    writeFileSync(join(dir, name), pem, { mode: 0o600 });
  }
}, 60_000);

afterAll(async () => {
  for (const child of [...gclouds]) await stopTunnel(child);
  await gce?.close();
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

toolsTest(
  "etcdctl reaches the VM's etcd through gcloud's tunnel, also across a 4004 drop gcloud resumes; without the firewall rule, 4003",
  async () => {
    const env = await gcloudEnv(emu, dir);
    const refused = await run('gcloud', tunnelArgs(emu, MASTER, 2379, await freePort()), env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("Error while connecting [4003: 'failed to connect to backend']. (Failed to connect to port 2379)");

    await setIapRule(gce, project, 'allow-iap-etcd', ['2379']);
    const { localPort, child } = await startTunnel(emu, env, MASTER, 2379);
    const etcdctl = (args: string[], input?: Buffer) =>
      run(
        '/usr/bin/etcdctl',
        [
          `--endpoints=https://127.0.0.1:${localPort}`,
          `--cacert=${join(dir, 'ca.crt')}`,
          `--cert=${join(dir, 'client.crt')}`,
          `--key=${join(dir, 'client.key')}`,
          '--command-timeout=20s',
          ...args,
        ],
        { ...env, ETCDCTL_API: '3' },
        input,
      );
    await waitFor(
      'etcd through the tunnel',
      30_000,
      async () => ((await etcdctl(['endpoint', 'health'])).code === 0 ? true : undefined),
      500,
    );
    expect((await etcdctl(['put', 'greeting', 'hello'])).stdout.trim()).toBe('OK');
    expect((await etcdctl(['get', 'greeting', '--print-value-only'])).stdout.trim()).toBe('hello');

    // 600 KB up and back, with the relay dropping gcloud's WebSocket half-way: gcloud reconnects.
    const before = await admin(emu.url, 'iap');
    await admin(emu.url, 'iap-fault', { dropAfterBytes: 300_000 });
    const value = randomBytes(300 * 1024).toString('base64');
    const put = await etcdctl(['put', 'blob'], Buffer.from(value));
    expect([put.code, put.stdout.trim(), put.stderr]).toEqual([0, 'OK', '']);
    const got = await etcdctl(['get', 'blob', '--print-value-only']);
    expect(got.stdout.replace(/\n$/, '')).toBe(value);
    const after = await admin(emu.url, 'iap');
    expect(after.faults.drop).toBeNull();
    // The drop and nothing else: gcloud resumed the session (an unknown sid or a bad ack would show).
    expect(after.closed).toEqual({ 4003: 1, 4004: 1 });
    expect(after.handshakes.reconnect - before.handshakes.reconnect).toBeGreaterThanOrEqual(1);
    expect(after.bytes.toVm - before.bytes.toVm).toBeGreaterThan(value.length);
    await stopTunnel(child);
  },
  120_000,
);

toolsTest(
  "gcloud's words for a missing IAP permission (403) and an instance that does not exist (404)",
  async () => {
    const env = await gcloudEnv(emu, dir);
    await admin(emu.url, 'iap-fault', { refuse: 403 });
    const denied = await run('gcloud', tunnelArgs(emu, MASTER, 2379, await freePort()), env);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/Error while connecting \[Handshake status 403 Forbidden.*\]\. \(May be due to missing permissions\)/s);

    // After a failed connect gcloud looks the instance up through the Compute API, and says so.
    const ghost = await run('gcloud', tunnelArgs(emu, 'ghost', 2379, await freePort()), env);
    expect(ghost.code).not.toBe(0);
    expect(ghost.stderr).toContain(`The resource 'projects/${project}/zones/${zone}/instances/ghost' was not found`);
    expect((await admin(emu.url, 'iap')).refused).toMatchObject({ 403: 1, 404: 1 });
  },
  120_000,
);

// A Debian VM whose listener answers a request with the address the connection came from.
const WHO_IS_CALLING = `#!/bin/bash
/opt/ha-emulator/node -e "require('net').createServer((s) => s.once('data', () => s.end(s.remoteAddress + '\\n'))).listen(8080)" &
echo "listening on 8080"
`;

debianTest(
  "on a Debian VM the relay's connection comes from 35.235.240.1 through the VPC, allowed by the rule for IAP's range",
  async () => {
    if (!haveTools) return;
    const home = mkdtempSync(join(tmpdir(), 'emu-iap-debian-'));
    const debian = await startDebianEmulator();
    const dgce = computeClients(debian.port);
    try {
      const env = await gcloudEnv(debian, home);
      const z = 'europe-west1-b';
      await dgce.finish(
        await dgce.instances.insert({
          project,
          zone: z,
          instanceResource: debianInstanceBody('iap-vm', z, { 'startup-script': WHO_IS_CALLING }),
        }),
        project,
      );
      await waitUntil('the listener', 90_000, async () => {
        const [out] = await dgce.instances.getSerialPortOutput({ project, zone: z, instance: 'iap-vm' });
        return out.contents?.includes('listening on 8080') ? true : undefined;
      });
      const refused = await run('gcloud', tunnelArgs(debian, 'iap-vm', 8080, await freePort(), z), env);
      expect(refused.stderr).toContain('4003');

      await setIapRule(dgce, project, 'allow-iap', ['8080', '8081']);
      await debian.settled();
      // Allowed, but nothing listens there: the VM refuses, the relay says 4003.
      expect((await run('gcloud', tunnelArgs(debian, 'iap-vm', 8081, await freePort(), z), env)).stderr).toContain(
        "[4003: 'failed to connect to backend']",
      );
      const { localPort, child } = await startTunnel(debian, env, 'iap-vm', 8080, z);
      const answer = await new Promise<string>((resolve, reject) => {
        let text = '';
        const s = connect(localPort, '127.0.0.1', () => s.write('who?\n'));
        s.on('data', (d: Buffer) => (text += d.toString()));
        s.on('close', () => resolve(text.trim()));
        s.on('error', reject);
      });
      expect(answer).toMatch(/^(::ffff:)?35\.235\.240\.1$/); // node on the VM listens on ::
      await stopTunnel(child);
    } finally {
      await dgce.close();
      await debian.stop();
      expect(hostLeftovers(hostNamesFor(debian.stateDir).prefix, debian.stateDir)).toEqual([]);
      rmSync(debian.stateDir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  },
  180_000,
);
