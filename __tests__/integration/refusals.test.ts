// Every refusal of the engine, against the emulator with real etcd: each says what is wrong and how
// to fix it, says nothing was changed, and the emulator confirms that no write was made.
import type { Intent } from '../../src/model.ts';
import { RefusedError } from '../../src/errors.ts';
import { intent as baseIntent } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const intent = (over: Partial<Intent>) =>
  baseIntent({ project: PROJECT, requestId: `req-${Math.random().toString(16).slice(2, 10)}`, ...over });

let world: EngineWorld;
const names: Record<string, string> = {};

beforeAll(async () => {
  world = await startEngineWorld({ vmRuntime: 'process', reach: 'iap', operationLatencyMs: 20 });
  const report = await world.run(intent({ zone: B, replicas: 3 }));
  for (const r of report.state.replicas) names[r.zone] = r.name;
}, 240_000);
afterAll(async () => {
  await world?.stop();
}, 60_000);

async function refusedWithoutWrites(i: Intent): Promise<RefusedError> {
  await world.resetRequests();
  const err = await world.run(i).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RefusedError);
  expect((err as RefusedError).nothingChanged).toBe(true);
  expect((err as RefusedError).message).toContain('Nothing was changed.');
  expect(await world.writes()).toEqual([]);
  return err as RefusedError;
}

test('an unknown zone', async () => {
  const err = await refusedWithoutWrites(intent({ zone: 'europe-west1-z', replicate: true }));
  expect(err.problem).toBe('zone europe-west1-z does not exist in project ha-test');
}, 60_000);

test('a replica name that is not in the cluster', async () => {
  const err = await refusedWithoutWrites(intent({ operation: 'down', deleteNodes: false, replicaName: 'kubernetes-master-fff' }));
  expect(err.problem).toContain('replica kubernetes-master-fff of kubernetes-master was not found');
  expect(err.fix).toContain(names[B]);
}, 60_000);

test('a replica name outside gce-zone', async () => {
  const err = await refusedWithoutWrites(intent({ operation: 'down', deleteNodes: false, replicaName: names[C], zone: D }));
  expect(err.problem).toBe(`replica ${names[C]} is in zone ${C}, not in gce-zone ${D}`);
}, 60_000);

test('with one replica down, removing a healthy one is refused with the numbers; adding is refused too', async () => {
  await world.admin('kill-etcd', { zone: D, instance: names[D], keepDown: true });
  const err = await refusedWithoutWrites(intent({ operation: 'down', deleteNodes: false, replicaName: names[C] }));
  expect(err.problem).toContain('leaves 2 voting members with 1 healthy; quorum needs 2');
  const add = await refusedWithoutWrites(intent({ zone: C, replicate: true }));
  expect(add.problem).toContain(`${names[D]} (its etcd member does not answer)`);
  expect(add.fix).toContain(`operation: replace, replica-name: ${names[D]}`);
}, 120_000);

test('the dead replica itself can be removed; then an empty zone and the last replica are refused', async () => {
  const report = await world.run(intent({ operation: 'down', deleteNodes: false, replicaName: names[D] }));
  expect(report.state.replicas.map((r) => r.name).sort()).toEqual([names[B], names[C]].sort());
  expect(report.state.etcd.members.every((m) => m.healthy)).toBe(true);
  // A zone with no replica left: an error, never a guess at another zone.
  const none = await refusedWithoutWrites(intent({ operation: 'down', deleteNodes: false, zone: D }));
  expect(none.problem).toBe(`no replica of kubernetes-master in zone ${D}`);
  await world.run(intent({ operation: 'down', deleteNodes: false, replicaName: names[C] }));
  const err = await refusedWithoutWrites(intent({ operation: 'down', deleteNodes: false, zone: B }));
  expect(err.problem).toBe(`${names[B]} is the last replica of kubernetes-master`);
  expect(err.fix).toContain('delete-nodes: true');
}, 240_000);

test('IAP without permission (HTTP 403 on every tunnel): refused with the role to grant', async () => {
  if (world.reach !== 'iap') return void console.warn('skipped: this world does not reach its VMs through IAP');
  await world.admin('iap-fault', { refuse: 403, persistent: true });
  try {
    const err = await refusedWithoutWrites(intent({ zone: C, replicate: true }));
    expect(err.problem).toContain('lacks the permission iap.tunnelInstances.accessViaIAP in project ha-test');
    expect(err.fix).toContain('roles/iap.tunnelResourceAccessor');
  } finally {
    await world.admin('clear-faults', {});
  }
  // Once the permission is there, the same transport gets through: the refusal was not remembered.
  const report = await world.run(intent({ operation: 'status' }));
  expect(report.state.etcd.reachable).toBe(true);
}, 60_000);

test("IAP kept out by a deny rule that outranks the cluster's IAP rule: refused with the rule named", async () => {
  if (world.reach !== 'iap') return void console.warn('skipped: this world does not reach its VMs through IAP');
  const rules = `${world.url}/compute/v1/projects/${PROJECT}/global/firewalls`;
  const deny = {
    name: 'deny-iap-to-masters',
    network: 'global/networks/default',
    priority: 900,
    sourceRanges: ['35.235.240.0/20'],
    denied: [{ IPProtocol: 'tcp', ports: ['2379', '443'] }],
  };
  expect((await fetch(rules, { method: 'POST', body: JSON.stringify(deny) })).status).toBe(200);
  try {
    for (let i = 0; i < 100 && (await fetch(`${rules}/${deny.name}`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    const err = await refusedWithoutWrites(intent({ zone: C, replicate: true }));
    expect(err.problem).toMatch(
      /^IAP cannot reach kubernetes-master\S* on tcp (2379|443): the firewall rule deny-iap-to-masters \(priority 900\) denies IAP's range 35\.235\.240\.0\/20 and outranks kubernetes-master-iap \(priority 1000\)/,
    );
    expect(err.fix).toContain('give kubernetes-master-iap a smaller priority number than 900');
  } finally {
    await fetch(`${rules}/${deny.name}`, { method: 'DELETE' });
    for (let i = 0; i < 100 && (await fetch(`${rules}/${deny.name}`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 100));
  }
}, 90_000);
