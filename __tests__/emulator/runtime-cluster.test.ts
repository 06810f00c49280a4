// Three master-replica VMs form one etcd cluster over mTLS the way the action grows it: the first
// VM starts a new cluster, the others join as `existing` after being added as learners.
import { rmSync } from 'node:fs';
import type { Etcd3 } from 'etcd3';
import { createVmRuntime } from '../../emulator/runtime/index.ts';
import type { VmRuntimeDetails } from '../../emulator/runtime/index.ts';
import type { RuntimeInstance } from '../../emulator/runtime/types.ts';
import { makeTestPki, masterMetadata, memberCertsMetadata, randomLoopbackBase } from '../support/runtime-certs.ts';
import type { TestPki } from '../support/runtime-certs.ts';
import {
  addLearner,
  adminClient,
  instance,
  processAlive,
  promote,
  runtimeOptions,
  sleep,
  tcpConnectResult,
  tempStateDir,
  waitFor,
} from '../support/runtime-vms.ts';

const ZONE = 'europe-west1-b';
const MASTER = 'kubernetes-master';
const base = randomLoopbackBase();
const STATIC_IP = `${base}.200`;
const ips = { a: `${base}.11`, b: `${base}.12`, c: `${base}.13` };
const names = { a: MASTER, b: `${MASTER}-1a2`, c: `${MASTER}-3f4` };

let stateDir: string;
let pki: TestPki;
let runtime: VmRuntimeDetails;
const clients: Etcd3[] = [];
let logLines: string[] = [];

function replica(which: 'a' | 'b' | 'c', state: 'new' | 'existing', seeds: string[], withCerts = true): RuntimeInstance {
  const name = names[which];
  const ip = ips[which];
  return instance(stateDir, ZONE, name, ip, {
    ...masterMetadata({ pki, master: MASTER, staticIp: STATIC_IP, state, initialCluster: [...seeds, name] }),
    ...(withCerts ? memberCertsMetadata(pki.member(name, ip)) : {}),
  });
}

beforeAll(() => {
  stateDir = tempStateDir('runtime-cluster');
  pki = makeTestPki(MASTER, STATIC_IP);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

test('three replicas (one new, two joining as existing) form one cluster with quorum; stop() leaves nothing', async () => {
  const opts = runtimeOptions(stateDir);
  logLines = opts.lines;
  runtime = createVmRuntime(opts);

  // The first VM waits for its member certificate before etcd starts.
  await runtime.apply({ instances: [replica('a', 'new', [], false)], forwardingRules: [], firewalls: [] });
  await sleep(700);
  expect(runtime.pids()).toEqual([]);
  expect(logLines).toEqual([`${ZONE}/${names.a}: etcd waits for the etcd-member-certs metadata`]);

  const a = replica('a', 'new', []);
  await runtime.apply({ instances: [a], forwardingRules: [], firewalls: [] });
  const admin = adminClient(pki, [ips.a]);
  clients.push(admin);
  await waitFor('etcd on A', 15_000, async () => (await admin.put('probe').value('1').exec()) && true);
  expect(runtime.pids()).toHaveLength(1);

  // B is created first (it waits for its member), then the action adds it as a learner.
  const b = replica('b', 'existing', [names.a]);
  await runtime.apply({ instances: [a, b], forwardingRules: [], firewalls: [] });
  const bId = await addLearner(admin, `https://${ips.b}:2380`);
  await promote(admin, bId);

  const c = replica('c', 'existing', [names.a, names.b]);
  await runtime.apply({ instances: [a, b, c], forwardingRules: [], firewalls: [] });
  const cId = await addLearner(admin, `https://${ips.c}:2380`);
  await promote(admin, cId);

  const all = adminClient(pki, [ips.a, ips.b, ips.c]);
  clients.push(all);
  const members = await waitFor('three started voters', 20_000, async () => {
    const list = await admin.cluster.memberList({}, { deadline: Date.now() + 2000 });
    const started = list.members.filter((m) => m.name && !m.isLearner);
    return started.length === 3 ? list.members : undefined;
  });
  expect(members.map((m) => m.name).sort()).toEqual([`etcd-${names.a}`, `etcd-${names.b}`, `etcd-${names.c}`].sort());
  expect(members.every((m) => !m.isLearner)).toBe(true);
  expect(members.map((m) => m.clientURLs[0]).sort()).toEqual([ips.a, ips.b, ips.c].map((ip) => `https://${ip}:2379`).sort());

  // Quorum: a write through C is read back through B.
  const onC = adminClient(pki, [ips.c]);
  const onB = adminClient(pki, [ips.b]);
  clients.push(onC, onB);
  await onC.put('greeting').value('hello').exec();
  expect(await onB.get('greeting').string()).toBe('hello');

  // Certificates are written private to the VM's directory.
  const { statSync } = await import('node:fs');
  expect(statSync(`${stateDir}/vms/${ZONE}/${names.b}/etcd-member.key`).mode & 0o777).toBe(0o600);

  // The action removes C: its etcd exits and keeps failing on restart, with one log line, no more.
  const cId2 = members.find((m) => m.name === `etcd-${names.c}`)!.ID;
  await waitFor('C removed', 15_000, async () => (await admin.cluster.memberRemove({ ID: cId2 }, { deadline: Date.now() + 3000 })) && true);
  await sleep(4000);
  const aboutC = logLines.filter((l) => l.startsWith(`${ZONE}/${names.c}: etcd exited`));
  expect(aboutC).toEqual([
    `${ZONE}/${names.c}: etcd exited (code 0); restarting with back-off (log: ${stateDir}/vms/${ZONE}/${names.c}/etcd.log)`,
  ]);
  await onB.put('after-remove').value('ok').exec();
  expect(await admin.get('after-remove').string()).toBe('ok');
  expect((await admin.cluster.memberList({}, { deadline: Date.now() + 2000 })).members).toHaveLength(2);

  const pids = runtime.pids();
  expect(pids.every(processAlive)).toBe(true);

  await runtime.stop();
  expect(pids.some(processAlive)).toBe(false);
  expect(runtime.pids()).toEqual([]);
  for (const ip of Object.values(ips)) {
    expect(await tcpConnectResult(ip, 2379)).toBe('ECONNREFUSED');
    expect(await tcpConnectResult(ip, 443)).toBe('ECONNREFUSED');
    expect(await tcpConnectResult(ip, 3990)).toBe('ECONNREFUSED');
  }
}, 60_000);
