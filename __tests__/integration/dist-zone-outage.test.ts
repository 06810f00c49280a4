// Issue 10, findings 11 and 7, through the bundled action against the emulator: a zone out of
// capacity while scaling up with no zone given, then a `replace` of a replica whose zone is DOWN.
// One cluster; the tests run in order.
import { bundleAgainstEmulator } from '../support/run-bundle.ts';

const PROJECT = 'zone-outage';
const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const action = bundleAgainstEmulator(PROJECT);

beforeAll(async () => {
  const first = await action.run({ operation: 'up', 'gce-zone': B, 'request-id': 'first-master' });
  expect(first.code).toBe(0);
}, 120_000);

test('finding 11: replicas: 3 with no zone, one zone out of capacity: the replicas go to the other zones, in one run', async () => {
  // Before the fix, the insert in the zone the planner picked (fewest replicas, then name order:
  // europe-west1-c) failed with ZONE_RESOURCE_POOL_EXHAUSTED, the run failed, and every re-run
  // tried the same full zone again.
  await action.admin('operation-error', {
    operationType: 'insert',
    target: `zones/${C}/instances`,
    code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
    count: 20,
  });
  const scaled = await action.run({ operation: 'up', replicas: '3', 'request-id': 'scale-to-3' });
  await action.admin('clear-faults', {});
  expect(scaled.stdout).not.toMatch(/::error::/);
  expect(scaled.code).toBe(0);
  expect(scaled.outputs['replica-count']).toBe('3');
  expect(scaled.stdout).toContain(`planning again without ${C}`);
  const vms = await action.instances();
  expect(vms.filter((v) => v.status === 'RUNNING')).toHaveLength(3);
  expect(vms.map((v) => v.zone)).not.toContain(C);
  expect(new Set(vms.map((v) => v.zone))).toEqual(new Set([B, D]));
}, 180_000);

test('finding 7: replace of a replica whose zone is DOWN: the successor goes to another zone, 3 replicas, the summary says so, a re-run writes nothing', async () => {
  // Before the fix, replace deleted the replica and then failed to create its successor in the same
  // zone, DOWN: 2 replicas left (no failure tolerated), every re-run failed the same way, and the
  // failed run's summary said "Replica replaced".
  // (Three replicas first when this test runs alone.)
  if ((await action.instances()).length < 3)
    expect((await action.run({ operation: 'up', replicas: '3', 'request-id': 'make-3' })).code).toBe(0);
  const vms = await action.instances();
  const zoneOf = (z: string) => vms.filter((v) => v.zone === z);
  // The zone with one replica of the three goes DOWN (the other two keep etcd's quorum).
  const downZone = zoneOf(B).length === 1 ? B : D;
  const broken = zoneOf(downZone)[0]!;
  await action.admin('zone-down', { zone: downZone });
  try {
    const inputs = { operation: 'replace', 'replica-name': broken.name, 'request-id': 'replace-in-down-zone' };
    const replaced = await action.run(inputs);
    expect(replaced.stdout).not.toMatch(/::error::/);
    expect(replaced.code).toBe(0);
    expect(replaced.outputs['replica-count']).toBe('3');
    const after = await action.instances();
    expect(after.map((v) => v.name)).not.toContain(broken.name);
    expect(after.filter((v) => v.status === 'RUNNING')).toHaveLength(3);
    const successor = after.find((v) => !vms.some((o) => o.name === v.name))!;
    // The zone with fewest replicas among the region's UP zones (then name order).
    const fewest = [B, C, D].filter((z) => z !== downZone).sort((x, y) => zoneOf(x).length - zoneOf(y).length || x.localeCompare(y))[0];
    expect(successor.zone).toBe(fewest);
    expect(replaced.summary).toContain(`Replica replaced: \`${successor.name}\``);
    expect(replaced.summary).toContain(`\`${downZone}\` (zone DOWN)`);

    // A re-run of the same request has nothing left to do.
    const mark = await action.requestCount();
    const again = await action.run(inputs);
    expect(again.code).toBe(0);
    expect(again.outputs['changed']).toBe('false');
    expect(await action.writesSince(mark)).toEqual([]);
  } finally {
    await action.admin('zone-up', { zone: downZone });
  }
}, 180_000);
