// The emulator with its process VM runtime (world-debian.test.ts is the same world on Debian VMs),
// driven only through the Compute API (official client): three master-replica instances form one
// healthy etcd cluster, a forwarding rule on the static IP forwards to the pool's healthy members,
// a zone going down stops its VM's processes, and stop() leaves no process behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { admin, computeClients, type Compute } from './support/compute.ts';
import { makeTestPki, type TestPki } from '../support/runtime-certs.ts';
import { insertMasterReplica } from '../support/master-replica.ts';
import { addLearner, adminClient, httpsGet, processAlive, promote, waitFor } from '../support/runtime-vms.ts';

const project = 'world';
const region = 'europe-west1';
const MASTER = 'kubernetes-master';
const replicas = [
  { name: MASTER, zone: 'europe-west1-b' },
  { name: `${MASTER}-1a2`, zone: 'europe-west1-c' },
  { name: `${MASTER}-3f4`, zone: 'europe-west1-d' },
];

let dir: string;
let emu: RunningEmulator;
let gce: Compute;
let pki: TestPki;
let staticIp: string;
const clients: Etcd3[] = [];
const ips: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-world-'));
  emu = await startEmulator({
    port: 0,
    stateDir: dir,
    defaultOperationLatencyMs: 50,
    lbProgrammingDelayMs: 200,
    leaseRenewIntervalMs: 1000,
    etcdBinary: '/usr/bin/etcd',
    vmRuntime: 'process',
    log: () => {},
  });
  gce = computeClients(emu.port);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await gce?.close();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Insert a replica, then set its member certificate once its internal IP is known (as the action does). */
async function createReplica(i: number): Promise<string> {
  const { name, zone } = replicas[i]!;
  const ip = await insertMasterReplica(gce, {
    project,
    zone,
    name,
    pki,
    staticIp,
    master: MASTER,
    state: i === 0 ? 'new' : 'existing',
    initialCluster: replicas.slice(0, i + 1).map((r) => r.name),
    tags: [MASTER],
    labels: { 'ha-masters-cluster': MASTER, 'ha-masters-role': 'master' },
  });
  expect(ip).toMatch(new RegExp(`^127\\.${emu.ctx.meta.value.octet}\\.1\\.\\d+$`));
  ips[name] = ip;
  return ip;
}

test('three master replicas form one etcd cluster; the forwarding rule forwards; zone down/up; no leaks', async () => {
  await gce.finish(await gce.addresses.insert({ project, region, addressResource: { name: `${MASTER}-ip` } }), project);
  staticIp = (await gce.addresses.get({ project, region, address: `${MASTER}-ip` }))[0].address as string;
  pki = makeTestPki(MASTER, staticIp);

  const ipA = await createReplica(0);
  const first = adminClient(pki, [ipA]);
  clients.push(first);
  await waitFor('etcd on the first replica', 20_000, async () => (await first.put('probe').value('1').exec()) && true);
  for (const i of [1, 2]) {
    const ip = await createReplica(i);
    const id = await addLearner(first, `https://${ip}:2380`);
    await promote(first, id);
  }
  const members = await waitFor('three started voters', 30_000, async () => {
    const list = await first.cluster.memberList({}, { deadline: Date.now() + 2000 });
    return list.members.filter((m) => m.name && !m.isLearner).length === 3 ? list.members : undefined;
  });
  expect(members.map((m) => m.name).sort()).toEqual(replicas.map((r) => `etcd-${r.name}`).sort());
  const all = adminClient(pki, Object.values(ips));
  clients.push(all);
  await all.put('greeting').value('hello').exec();
  const third = adminClient(pki, [ips[replicas[2]!.name]!]);
  clients.push(third);
  expect(await third.get('greeting').string()).toBe('hello');

  // Load balancer: legacy health check on 3990, pool of the three, rule on the static IP.
  const hc = await fetch(`${emu.url}/compute/v1/projects/${project}/global/httpHealthChecks`, {
    method: 'POST',
    body: JSON.stringify({ name: `${MASTER}-hc`, port: 3990, requestPath: '/readyz', checkIntervalSec: 1, timeoutSec: 1 }),
  });
  expect(hc.status).toBe(200);
  await waitFor(
    'health check',
    5000,
    async () => (await fetch(`${emu.url}/compute/v1/projects/${project}/global/httpHealthChecks/${MASTER}-hc`)).status === 200 || undefined,
  );
  await gce.finish(
    await gce.targetPools.insert({
      project,
      region,
      targetPoolResource: {
        name: MASTER,
        healthChecks: [`global/httpHealthChecks/${MASTER}-hc`],
        instances: replicas.map((r) => `projects/${project}/zones/${r.zone}/instances/${r.name}`),
      },
    }),
    project,
  );
  await gce.finish(
    await gce.forwardingRules.insert({
      project,
      region,
      forwardingRuleResource: {
        name: MASTER,
        IPAddress: `${MASTER}-ip`,
        IPProtocol: 'TCP',
        portRange: '443-443',
        target: `regions/${region}/targetPools/${MASTER}`,
      },
    }),
    project,
  );
  const viaLb = await waitFor(
    'apiserver through the forwarding rule',
    30_000,
    async () => {
      const res = await httpsGet(staticIp, 443, '/readyz', pki.apiserverCa.cert);
      return res.status === 200 ? res : undefined;
    },
    300,
  );
  expect(viaLb.status).toBe(200);
  const health = await waitFor(
    'pool healthy',
    20_000,
    async () => {
      const states = await Promise.all(
        replicas.map(
          async (r) =>
            (
              await gce.targetPools.getHealth({
                project,
                region,
                targetPool: MASTER,
                instanceReferenceResource: { instance: `projects/${project}/zones/${r.zone}/instances/${r.name}` },
              })
            )[0].healthStatus?.[0]?.healthState,
        ),
      );
      return states.every((s) => s === 'HEALTHY') ? states : undefined;
    },
    500,
  );
  expect(health).toEqual(['HEALTHY', 'HEALTHY', 'HEALTHY']);

  // Zone down: the VM there is TERMINATED and its processes die; the cluster keeps quorum.
  const pidsBefore = emu.runtime.pids();
  await admin(emu.url, 'zone-down', { zone: replicas[2]!.zone });
  await emu.settled();
  expect((await gce.instances.get({ project, zone: replicas[2]!.zone, instance: replicas[2]!.name }))[0].status).toBe('TERMINATED');
  await waitFor('fewer processes', 10_000, async () => emu.runtime.pids().length < pidsBefore.length || undefined);
  // (A client of the two survivors: etcd3 picks hosts at random and this one does not retry.)
  const survivors = adminClient(
    pki,
    replicas.slice(0, 2).map((r) => ips[r.name]!),
  );
  clients.push(survivors);
  await survivors.put('during-outage').value('ok').exec();
  await admin(emu.url, 'zone-up', { zone: replicas[2]!.zone });
  await waitFor(
    'the third replica serves again',
    30_000,
    async () => (await third.get('during-outage').string()) === 'ok' || undefined,
    300,
  );

  const pids = emu.runtime.pids();
  expect(pids.length).toBeGreaterThanOrEqual(3);
  await emu.stop();
  expect(pids.some(processAlive)).toBe(false);
}, 150_000);
