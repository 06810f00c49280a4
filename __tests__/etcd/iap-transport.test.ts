// The action's IAP transport (src/iap, src/reach.ts) against the emulator's relay and a master
// replica's real etcd (process runtime): the etcd admin observes and snapshots through IAP with a
// token that Google's ADC library finds, a snapshot survives forced relay reconnects byte for
// byte, and a refused tunnel is told apart: no permission ends the run, a closed port does not.
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { admin, computeClients, type Compute } from '../emulator/support/compute.ts';
import { setIapRule, singleMaster } from '../support/iap-world.ts';
import type { TestPki } from '../support/runtime-certs.ts';
import { waitFor } from '../support/runtime-vms.ts';
import { createComputeApi, type ComputeApiHandle } from '../../src/gce/client.ts';
import { createEtcdAdmin } from '../../src/etcd/admin.ts';
import { DirectTransport } from '../../src/etcd/transport.ts';
import { createReach, type Reach } from '../../src/reach.ts';
import { IapError } from '../../src/iap/errors.ts';
import { connect, createServer } from 'node:net';
import type { EtcdAdmin } from '../../src/etcd/types.ts';

const project = 'iap-transport';
const zone = 'europe-west1-b';
const RULE = 'kubernetes-master-iap';

let dir: string;
let emu: RunningEmulator;
let gce: Compute;
let compute: ComputeApiHandle;
let pki: TestPki;
let clientUrl: string;
let ip: string;
const logs: string[] = [];

const tls = () => ({ ca: pki.etcdCa.cert, cert: pki.etcdClient.cert, key: pki.etcdClient.key });
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function iapReach(): Reach {
  return createReach({
    kind: 'iap',
    compute,
    master: 'kubernetes-master',
    network: 'default',
    iapFirewall: RULE,
    iapEndpoint: emu.iapRelayUrl,
    iapCa: readFileSync(emu.iapCaFile, 'utf8'),
    mask: () => {},
    log: (l) => logs.push(l),
  });
}

async function withIap<T>(body: (reach: Reach, etcd: EtcdAdmin) => Promise<T>): Promise<T> {
  const reach = iapReach();
  const etcd = createEtcdAdmin(tls(), reach.transport, { log: (l) => logs.push(l) });
  try {
    return await body(reach, etcd);
  } finally {
    await etcd.close();
    await reach.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iap-transport-'));
  emu = await startEmulator({
    port: 0,
    stateDir: join(dir, 'state'),
    vmRuntime: 'process',
    defaultOperationLatencyMs: 20,
    etcdBinary: '/usr/bin/etcd',
    log: () => {},
  });
  // Application Default Credentials find the emulator as this runner's metadata server.
  process.env.GCE_METADATA_HOST = `${emu.host}:${emu.port}`;
  gce = computeClients(emu.port);
  compute = createComputeApi({ project, endpoint: emu.url });
  ({ ip, pki } = await singleMaster(gce, project, zone, 'kubernetes-master'));
  clientUrl = `https://${ip}:2379`;
  await setIapRule(gce, project, RULE, ['2379', '443']);
  const direct = createEtcdAdmin(tls(), new DirectTransport());
  try {
    await waitFor('etcd', 30_000, async () => ((await direct.observe([clientUrl])).reachable ? true : undefined), 300);
  } finally {
    await direct.close();
  }
}, 60_000);

afterAll(async () => {
  delete process.env.GCE_METADATA_HOST;
  await compute?.close();
  await gce?.close();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await admin(emu.url, 'clear-faults', {});
});

test('the etcd admin observes the member through IAP, with a token from Application Default Credentials', async () => {
  const before = (await admin(emu.url, 'iap')).sessions.opened;
  await withIap(async (reach, etcd) => {
    await reach.preflight();
    const view = await etcd.observe([clientUrl]);
    expect(view.reachable).toBe(true);
    expect(view.members.map((m) => [m.name, m.healthy])).toEqual([['etcd-kubernetes-master', true]]);
    expect(await reach.problem()).toBeUndefined();
  });
  expect((await admin(emu.url, 'iap')).sessions.opened).toBeGreaterThan(before);
});

test('a snapshot through IAP is byte-identical to a direct one, though the relay drops the WebSocket three times', async () => {
  const filler = new Etcd3({
    hosts: clientUrl,
    credentials: {
      rootCertificate: Buffer.from(pki.etcdCa.cert),
      certChain: Buffer.from(pki.etcdClient.cert),
      privateKey: Buffer.from(pki.etcdClient.key),
    },
  });
  try {
    for (let i = 0; i < 6; i++)
      await filler
        .put(`blob-${i}`)
        .value(randomBytes(1024 * 1024))
        .exec();
  } finally {
    filler.close();
  }
  // etcd commits its backend in batches, so the file grows for a moment after the last write:
  // direct snapshots until two in a row are the same bytes, then the one through IAP.
  const direct = createEtcdAdmin(tls(), new DirectTransport());
  let first = await direct.snapshot([clientUrl], join(dir, 'direct.db'));
  try {
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const again = await direct.snapshot([clientUrl], join(dir, 'direct.db'));
      if (again.sha256 === first.sha256) break;
      first = again;
    }
  } finally {
    await direct.close();
  }
  const closedBefore = (await admin(emu.url, 'iap')).closed['4004'] ?? 0;
  await admin(emu.url, 'iap-fault', { dropAfterBytes: 1_500_000, times: 3 });
  const second = await withIap((_reach, etcd) => etcd.snapshot([clientUrl], join(dir, 'iap.db')));
  expect(second.bytes).toBe(first.bytes);
  expect(first.bytes).toBeGreaterThan(6 * 1024 * 1024);
  expect(sha256(second.path)).toBe(sha256(first.path));
  expect(second.sha256).toBe(first.sha256);
  expect(((await admin(emu.url, 'iap')).closed['4004'] ?? 0) - closedBefore).toBe(3);
  expect(logs.filter((l) => /resumed/.test(l)).length).toBeGreaterThanOrEqual(3);
}, 60_000);

// IAP says "no permission" in its handshake (HTTP 403) or, once it has checked IAM, by closing (4033).
test.each([
  [403, 'HTTP 403'],
  [4033, 'close 4033'],
])('no permission (%s): the member is unreachable and the transport names the fix', async (refuse, said) => {
  await admin(emu.url, 'iap-fault', { refuse, persistent: true });
  await withIap(async (reach, etcd) => {
    expect((await etcd.observe([clientUrl])).reachable).toBe(false);
    const problem = await reach.problem();
    expect(problem?.problem).toContain(said);
    expect(problem?.problem).toContain('iap.tunnelInstances.accessViaIAP');
    expect(problem?.fix).toContain('roles/iap.tunnelResourceAccessor');
  });
});

test('a closed port or a missing firewall rule (close 4003) is not a run-ending problem: the member is just unreachable', async () => {
  await setIapRule(gce, project, RULE);
  try {
    await withIap(async (reach, etcd) => {
      expect((await etcd.observe([clientUrl])).reachable).toBe(false);
      expect(await reach.problem()).toBeUndefined();
    });
    expect(logs.some((l) => l.includes('close 4003') && l.includes('35.235.240.0/20'))).toBe(true);
  } finally {
    await setIapRule(gce, project, RULE, ['2379', '443']);
  }
  await withIap(async (_reach, etcd) => expect((await etcd.observe([clientUrl])).reachable).toBe(true));
});

test('a deny rule that outranks the IAP rule: run-ending, and the message names the rule and the fix; gone once the rule is', async () => {
  const DENY = 'deny-iap-to-etcd';
  await gce.finish(
    await gce.firewalls.insert({
      project,
      firewallResource: {
        name: DENY,
        network: 'global/networks/default',
        priority: 900,
        sourceRanges: ['35.235.240.0/20'],
        denied: [{ IPProtocol: 'tcp', ports: ['2379'] }],
      },
    }),
    project,
  );
  try {
    await withIap(async (reach, etcd) => {
      expect((await etcd.observe([clientUrl])).reachable).toBe(false);
      const problem = await reach.problem();
      expect(problem?.problem).toContain(
        `IAP cannot reach kubernetes-master on tcp 2379: the firewall rule ${DENY} (priority 900) denies IAP's range 35.235.240.0/20 and outranks ${RULE} (priority 1000)`,
      );
      expect(problem?.fix).toContain(`give ${RULE} a smaller priority number than 900`);
      // A VM the run no longer lists (deleted since) says nothing about the firewall.
      reach.learn([]);
      expect(await reach.problem()).toBeUndefined();
    });
  } finally {
    await setIapRule(gce, project, DENY);
  }
  await withIap(async (reach, etcd) => {
    expect((await etcd.observe([clientUrl])).reachable).toBe(true);
    expect(await reach.problem()).toBeUndefined();
  });
});

test('without Application Default Credentials the preflight fails before anything is dialled, and says how to authenticate', async () => {
  const saved = { ...process.env };
  // No key file, no gcloud ADC file, no metadata server: what a job that skipped the auth step has.
  delete process.env.GCE_METADATA_HOST;
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  process.env.CLOUDSDK_CONFIG = join(dir, 'no-gcloud-config');
  process.env.METADATA_SERVER_DETECTION = 'none';
  const before = (await admin(emu.url, 'iap')).handshakes.connect;
  const reach = createReach({
    kind: 'iap',
    compute,
    master: 'kubernetes-master',
    network: 'default',
    iapFirewall: RULE,
    iapEndpoint: emu.iapRelayUrl,
    mask: () => {},
    log: () => {},
  });
  try {
    const err = await reach.preflight().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IapError);
    expect((err as IapError).problem).toContain('no access token for IAP from Application Default Credentials');
    expect((err as IapError).fix).toContain('google-github-actions/auth');
  } finally {
    await reach.close();
    process.env = saved;
  }
  expect((await admin(emu.url, 'iap')).handshakes.connect).toBe(before);
});

test('a VM that writes and then closes at once: every byte reaches the client, though the client reads late', async () => {
  const payload = randomBytes(8 * 1024 * 1024);
  const server = createServer((socket) => socket.end(payload));
  await new Promise<void>((resolve) => server.listen(7001, ip, () => resolve()));
  await setIapRule(gce, project, 'bulk-iap', ['7001']);
  try {
    await withIap(async (reach) => {
      const local = new URL(await reach.transport.dialUrl(`http://${ip}:7001`));
      const client = connect({ host: local.hostname, port: Number(local.port) });
      client.pause();
      // Reading starts only after the VM has closed its end (and the relay its WebSocket).
      await new Promise((r) => setTimeout(r, 1500));
      const chunks: Buffer[] = [];
      client.on('data', (c: Buffer) => chunks.push(c));
      client.resume();
      await new Promise((resolve) => client.once('close', resolve));
      expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    });
  } finally {
    await setIapRule(gce, project, 'bulk-iap');
    server.close();
  }
}, 30_000);

test("the run's own instance list tells the transport which VM owns an IP: no list call of its own, and a reused IP follows its new VM", async () => {
  const [vm] = await compute.listInstances('kubernetes-master');
  await withIap(async (reach, etcd) => {
    // As if the IP had since passed to another VM: the tunnel goes there (and finds no such instance).
    reach.learn([{ ...vm!, name: 'kubernetes-master-abc' }]);
    await admin(emu.url, 'reset-requests', {});
    expect((await etcd.observe([clientUrl])).reachable).toBe(false);
    reach.learn([vm!]);
    await etcd.close();
    const again = createEtcdAdmin(tls(), reach.transport);
    try {
      expect((await again.observe([clientUrl])).reachable).toBe(true);
    } finally {
      await again.close();
    }
    const lists = ((await admin(emu.url, 'requests')).requests as { path: string }[]).filter((r) =>
      r.path.includes('/aggregated/instances'),
    );
    expect(lists).toEqual([]);
  });
});
