// The emulator's IAP TCP-forwarding relay on the process runtime, through its public doors: tokens
// from the runner's metadata endpoint (also as Google's ADC library finds them), the wss relay
// with a minimal client of the relay protocol (support/iap-test-client.ts), firewall rules and
// instances through the Compute API, faults through the admin API. What a VM serves: a test echo
// server on an instance's internal IP, and a master replica's real etcd.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { GoogleAuth } from 'google-auth-library';
import { createNullRuntime, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { admin, computeClients, type Compute } from './support/compute.ts';
import { TestTunnel, TunnelRefused, type Refusal, type TunnelTarget } from '../support/iap-test-client.ts';
import { singleMaster, runnerToken, setIapRule } from '../support/iap-world.ts';
import { processAlive, waitFor } from '../support/runtime-vms.ts';

const project = 'iap';
const zone = 'europe-west1-b';
const ECHO_PORT = 7000;

let dir: string;
let emu: RunningEmulator;
let gce: Compute;
let token: string;
let echoIp: string;
let echo: Server;
const echoConnections = new Set<Socket>();

const target = (over: Partial<TunnelTarget> = {}): TunnelTarget => ({
  relayUrl: emu.iapRelayUrl,
  ca: readFileSync(emu.iapCaFile, 'utf8'),
  token,
  project,
  zone,
  instance: 'echo-vm',
  port: ECHO_PORT,
  ...over,
});

/** How the relay refused a tunnel (it must refuse). */
async function refusal(t: TunnelTarget): Promise<Refusal> {
  try {
    const tunnel = await TestTunnel.open(t);
    tunnel.close();
  } catch (e) {
    if (e instanceof TunnelRefused) return e.refusal;
    throw e;
  }
  throw new Error('the relay opened the tunnel');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-iap-'));
  emu = await startEmulator({
    port: 0,
    stateDir: dir,
    vmRuntime: 'process',
    defaultOperationLatencyMs: 20,
    leaseRenewIntervalMs: 1000,
    etcdBinary: '/usr/bin/etcd',
    log: () => {},
  });
  gce = computeClients(emu.port);
  token = await runnerToken(emu);
  await gce.finish(
    await gce.instances.insert({
      project,
      zone,
      instanceResource: {
        name: 'echo-vm',
        machineType: `zones/${zone}/machineTypes/e2-small`,
        disks: [
          { boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' } },
        ],
        networkInterfaces: [{ network: 'global/networks/default' }],
      },
    }),
    project,
  );
  echoIp = (await gce.instances.get({ project, zone, instance: 'echo-vm' }))[0].networkInterfaces?.[0]?.networkIP as string;
  // What the VM serves: an echo on its internal (loopback) address, as a process on the VM would.
  echo = createServer((s) => {
    echoConnections.add(s);
    s.on('close', () => echoConnections.delete(s));
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(ECHO_PORT, echoIp, () => resolve()));
});

afterAll(async () => {
  await gce?.close();
  await emu?.stop();
  echo?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("runner metadata: 403 without Metadata-Flavor; Google's ADC library finds the service account, its token and project", async () => {
  const bare = await fetch(`${emu.url}/computeMetadata/v1/instance/service-accounts/default/token`);
  expect(bare.status).toBe(403);
  expect(bare.headers.get('metadata-flavor')).toBe('Google');
  const detect = await fetch(`${emu.url}/computeMetadata/v1/instance`, { headers: { 'Metadata-Flavor': 'Google' } });
  expect([detect.status, detect.headers.get('metadata-flavor')]).toEqual([200, 'Google']);

  // As the action runs: ADC with GCE_METADATA_HOST pointing here, no key file, no gcloud config.
  const saved = { ...process.env };
  const emptyConfig = mkdtempSync(join(tmpdir(), 'emu-iap-adc-'));
  try {
    for (const k of ['GOOGLE_APPLICATION_CREDENTIALS', 'GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT', 'GCE_METADATA_IP']) delete process.env[k];
    process.env.GCE_METADATA_HOST = `127.0.0.1:${emu.port}`;
    process.env.CLOUDSDK_CONFIG = emptyConfig;
    const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    const adcToken = await auth.getAccessToken();
    expect(emu.ctx.runner.tokens.check(adcToken ?? undefined)).toBe('valid');
    expect(await auth.getProjectId()).toBe('emulator-project');
    expect((await auth.getCredentials()).client_email).toBe('ha-masters-runner@emulator-project.iam.gserviceaccount.com');
  } finally {
    process.env = saved;
    rmSync(emptyConfig, { recursive: true, force: true });
  }
}, 60_000);

test('handshakes without a token, with one the emulator did not issue, or an expired one: 401; no such instance: 404', async () => {
  expect(await refusal(target({ token: '' }))).toMatchObject({ status: 401 });
  expect(await refusal(target({ token: 'ya29.not-from-this-emulator' }))).toMatchObject({ status: 401 });
  expect(await refusal(target({ token: emu.ctx.runner.tokens.issue(-1).access_token }))).toEqual({
    status: 401,
    body: 'the access token has expired',
  });
  expect(await refusal(target({ instance: 'ghost' }))).toEqual({
    status: 404,
    body: `instance projects/${project}/zones/${zone}/instances/ghost not found`,
  });
  expect(await refusal(target({ zone: 'us-east1-b' }))).toMatchObject({ status: 404 });
});

test("no firewall rule lets IAP's range in: close 4003 at once; the rule inserted through the Compute API opens the tunnel", async () => {
  const started = Date.now();
  expect(await refusal(target())).toEqual({ closeCode: 4003, reason: 'failed to connect to backend' });
  expect(Date.now() - started).toBeLessThan(1500);
  expect(echoConnections.size).toBe(0); // refused before dialling

  await setIapRule(gce, project, 'allow-iap', [String(ECHO_PORT), '2379']);
  const tunnel = await TestTunnel.open(target());
  tunnel.write(Buffer.from('ping'));
  expect((await tunnel.read(4)).toString()).toBe('ping');
  tunnel.close();

  // A deny of higher priority wins; a port the rule allows but nothing listens on: 4003 too.
  await gce.finish(
    await gce.firewalls.insert({
      project,
      firewallResource: {
        name: 'deny-echo',
        network: 'global/networks/default',
        priority: 900,
        sourceRanges: ['0.0.0.0/0'],
        denied: [{ IPProtocol: 'tcp', ports: [String(ECHO_PORT)] }],
      },
    }),
    project,
  );
  expect(await refusal(target())).toMatchObject({ closeCode: 4003 });
  await setIapRule(gce, project, 'deny-echo');
  expect(await refusal(target({ port: 2379 }))).toMatchObject({ closeCode: 4003 });
  const stats = await admin(emu.url, 'iap');
  expect(stats.closed['4003']).toBe(3);
  expect(stats.refused['401']).toBe(3);
});

test('4 MiB each way, byte-exact, through three 4004 drops and a WebSocket that breaks', async () => {
  const data = randomBytes(4 * 1024 * 1024);
  const before = await admin(emu.url, 'iap');
  // Counted: bytes that cross a live WebSocket (at least the 4 MiB the client sends), so 3 drops come.
  await admin(emu.url, 'iap-fault', { dropAfterBytes: 600_000, times: 3 });
  const tunnel = await TestTunnel.open(target());
  tunnel.write(data.subarray(0, data.length / 2));
  await tunnel.read(data.length / 4);
  await tunnel.dropWebSocket(); // no close frame: the relay keeps the session for a reconnect
  tunnel.write(data.subarray(data.length / 2));
  const back = await tunnel.read(data.length);
  expect(back.length).toBe(data.length);
  expect(back.equals(data)).toBe(true);
  expect(tunnel.closeCodes.filter((c) => c === 4004)).toHaveLength(3);
  expect(tunnel.closeCodes).toContain(1006);
  expect(tunnel.webSockets).toBe(5);
  // The relay's frames fill a TLS record each (16 KiB: 4 bytes of WebSocket header, 6 of tag and length).
  expect(tunnel.largestData + 4 + 6).toBe(16384);

  const after = await admin(emu.url, 'iap');
  expect(after.handshakes.reconnect - before.handshakes.reconnect).toBe(4);
  expect(after.closed['4004']).toBe(3);
  expect(after.bytes.toVm - before.bytes.toVm).toBe(data.length);
  expect(after.bytes.toClient - before.bytes.toClient).toBe(data.length);
  expect(after.faults.drop).toBeNull();
  expect(after.tunnels).toEqual([
    expect.objectContaining({
      instance: `${project}/${zone}/echo-vm`,
      port: ECHO_PORT,
      connected: true,
      webSockets: 5,
      bytesFromClient: data.length,
    }),
  ]);
  tunnel.close();
  await waitFor('the tunnel to end', 5000, async () => ((await admin(emu.url, 'iap')).sessions.open === 0 ? true : undefined));
  expect(echoConnections.size).toBe(0);
}, 60_000);

test('a reconnect with an unknown session id is closed with 4001', async () => {
  const q = new URLSearchParams({ sid: 'no-such-session', ack: '0', newWebsocket: 'True', zone });
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(`${emu.iapRelayUrl}/v4/reconnect?${q}`, ['relay.tunnel.cloudproxy.app'], {
    ca: readFileSync(emu.iapCaFile),
    headers: { Authorization: `Bearer ${token}` },
  });
  const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
  expect(code).toBe(4001);
});

test('faults: 403 for the next handshake only, every one while persistent, and a close code (4033)', async () => {
  await admin(emu.url, 'iap-fault', { refuse: 403 });
  expect(await refusal(target())).toEqual({ status: 403, body: 'permission iap.tunnelInstances.accessViaIAP denied (an injected fault)' });
  (await TestTunnel.open(target())).close();

  await admin(emu.url, 'iap-fault', { refuse: 403, persistent: true });
  expect(await refusal(target())).toMatchObject({ status: 403 });
  expect(await refusal(target())).toMatchObject({ status: 403 });
  await admin(emu.url, 'clear-faults', {});
  (await TestTunnel.open(target())).close();

  await admin(emu.url, 'iap-fault', { refuse: 4033 });
  expect(await refusal(target())).toEqual({ closeCode: 4033, reason: 'not authorized' });
  await expect(admin(emu.url, 'iap-fault', { refuse: 200 })).rejects.toThrow(/400/);
  await expect(admin(emu.url, 'iap-fault', { dropAfterBytes: 1, refuse: 403 })).rejects.toThrow(/exactly one/);
});

test("a master replica's etcd through the tunnel: 3 MiB written and read back while the relay drops the WebSocket", async () => {
  const { ip, pki } = await singleMaster(gce, project, zone, 'kubernetes-master');
  expect(ip).toMatch(/^127\./);
  // The local end of the tunnel, as gcloud's listener is one: each connection gets its own tunnel.
  const tunnels: TestTunnel[] = [];
  const local = createServer((socket) => {
    socket.pause();
    TestTunnel.open(target({ instance: 'kubernetes-master', port: 2379 })).then(
      (t) => {
        tunnels.push(t);
        t.pipe(socket);
        socket.resume();
      },
      () => socket.destroy(),
    );
  });
  await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', () => resolve()));
  const etcd = new Etcd3({
    hosts: `https://127.0.0.1:${(local.address() as { port: number }).port}`,
    credentials: {
      rootCertificate: Buffer.from(pki.etcdCa.cert),
      certChain: Buffer.from(pki.etcdClient.cert),
      privateKey: Buffer.from(pki.etcdClient.key),
    },
  });
  try {
    await waitFor('etcd through the tunnel', 30_000, async () => ((await etcd.put('probe').value('1').exec()) ? true : undefined), 500);
    const values = [randomBytes(1024 * 1024), randomBytes(1024 * 1024), randomBytes(1024 * 1024)];
    await admin(emu.url, 'iap-fault', { dropAfterBytes: 1_000_000, times: 2 });
    for (const [i, v] of values.entries()) await etcd.put(`blob-${i}`).value(v).exec();
    for (const [i, v] of values.entries()) expect((await etcd.get(`blob-${i}`).buffer())?.equals(v)).toBe(true);
    expect((await admin(emu.url, 'iap')).faults.drop).toBeNull();
    expect(tunnels.flatMap((t) => t.closeCodes).filter((c) => c === 4004)).toHaveLength(2);
  } finally {
    etcd.close();
    local.close();
    for (const t of tunnels) t.close();
  }
}, 90_000);

test('stop() ends every tunnel and closes the relay; no VM process is left', async () => {
  const tunnel = await TestTunnel.open(target());
  tunnel.write(Buffer.from('still here'));
  await tunnel.read(10);
  const relayPort = Number(new URL(emu.iapRelayUrl.replace('wss:', 'https:')).port);
  const pids = emu.runtime.pids();
  await emu.stop();
  expect(await tunnel.closed()).toMatchObject({ closeCode: expect.any(Number) });
  await waitFor('the echo connection to close', 5000, async () => (echoConnections.size === 0 ? true : undefined));
  const refused = await new Promise<string>((resolve) => {
    const s = connect(relayPort, '127.0.0.1');
    s.on('connect', () => resolve('connected'));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  expect(refused).toBe('ECONNREFUSED');
  expect(pids.some(processAlive)).toBe(false);
});

test("a restart on the same state dir keeps the relay's CA, and the tokens issued before stay good", async () => {
  const ca = readFileSync(emu.iapCaFile, 'utf8');
  const again = await startEmulator({ port: 0, stateDir: dir, runtime: createNullRuntime(), log: () => {} });
  try {
    expect(again.iapCaFile).toBe(emu.iapCaFile);
    expect(readFileSync(again.iapCaFile, 'utf8')).toBe(ca);
    expect(again.iapRelayUrl).not.toBe(emu.iapRelayUrl); // a free port each time
    expect(again.ctx.runner.tokens.check(token)).toBe('valid');
    // The old token, the stored firewall rule, and the echo still listening on echo-vm's address.
    const tunnel = await TestTunnel.open({ ...target(), relayUrl: again.iapRelayUrl, ca });
    tunnel.write(Buffer.from('again'));
    expect((await tunnel.read(5)).toString()).toBe('again');
    tunnel.close();
  } finally {
    await again.stop();
  }
});
