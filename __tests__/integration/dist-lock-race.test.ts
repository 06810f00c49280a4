// Issue 10, findings 3, 4 and 5, through the bundled action against the emulator: runs that meet
// each other while VM operations take seconds, as on GCE, and request ids at the edges of what the
// input check allows. One cluster; the tests run in order.
import { bundleAgainstEmulator, type BundleVm } from '../support/run-bundle.ts';

const PROJECT = 'lock-race';
const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const action = bundleAgainstEmulator(PROJECT);

/** Resolves once a VM made by a step of `request` is seen while it is still being created. */
async function seenBeingCreated(request: string): Promise<BundleVm> {
  for (let i = 0; i < 1200; i++) {
    const vm = (await action.instances()).find((v) => v.labels?.['ha-masters-request']?.startsWith(`${request}-`));
    if (vm && (vm.status === 'PROVISIONING' || vm.status === 'STAGING')) return vm;
    if (vm) throw new Error(`${vm.name} was already ${vm.status} when first seen: the insert latency is too short for this test`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no VM of ${request} within 60 s`);
}

beforeAll(async () => {
  const first = await action.run({ operation: 'up', 'gce-zone': B, 'request-id': 'first-master' });
  expect(first.code).toBe(0);
}, 120_000);

test("finding 3: a run started while another run's replica is PROVISIONING waits for that run's lock, then finds its request met", async () => {
  // Before the fix, with 3 s VM inserts, the second run failed at once with "not every replica is
  // healthy: <the replica being added> ... Fix: replace the unhealthy replica first" (3 runs of 3),
  // advice that would have replaced a healthy replica; its request was lost.
  await action.admin('latency', { operationType: 'insert', ms: 3000 });
  try {
    const first = action.run({ operation: 'up', replicas: '3', 'request-id': 'scale-a' });
    const vm = await seenBeingCreated('scale-a');
    const second = await action.run({ operation: 'up', replicas: '3', 'request-id': 'scale-b' });
    const a = await first;
    expect(a.stdout).not.toMatch(/::error::/);
    expect(a.code).toBe(0);
    expect(a.outputs['replica-count']).toBe('3');
    expect(second.stdout).not.toMatch(/::error::/);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/waiting for run scale-a, which holds the lock on kubernetes-master until /);
    expect(second.stdout).not.toMatch(/replace the unhealthy replica|not every replica is healthy/i);
    expect(second.stdout).not.toContain(`replace ${vm.name}`);
    expect(second.outputs['replica-count']).toBe('3');
    expect(second.outputs['changed']).toBe('false');
    expect((await action.instances()).filter((v) => v.status === 'RUNNING')).toHaveLength(3);
    expect((await action.addressLabels())['ha-masters-lock']).toBeUndefined();
  } finally {
    await action.admin('latency', { operationType: 'insert', ms: 100 });
  }
}, 240_000);

test('finding 4: two runs whose request ids hold `_`, started together while VM deletes take 3 s, take turns and leave no lock', async () => {
  // Before the fix, `_` passed the input check but the lock could not read such a label back: two
  // such runs wrote at the same time without waiting (3 rounds of 3), and left the label behind.
  await action.admin('latency', { operationType: 'delete', ms: 3000 });
  try {
    const [one, two] = await Promise.all([
      action.run({ operation: 'down', 'delete-nodes': 'false', 'gce-zone': C, 'request-id': 'race_one_c' }),
      action.run({ operation: 'down', 'delete-nodes': 'false', 'gce-zone': D, 'request-id': 'race_two_d' }),
    ]);
    for (const r of [one, two]) {
      expect(r.stdout).not.toMatch(/::error::/);
      expect(r.code).toBe(0);
      expect(r.outputs['changed']).toBe('true');
    }
    // One of them met the other's lock and waited for it.
    expect(`${one.stdout}\n${two.stdout}`).toMatch(/waiting for run race_(one_c|two_d), which holds the lock/);
    expect([one.outputs['replica-count'], two.outputs['replica-count']].sort()).toEqual(['1', '2']);
  } finally {
    await action.admin('latency', { operationType: 'delete', ms: 100 });
  }
  const labels = await action.addressLabels();
  expect(labels['ha-masters-lock']).toBeUndefined();
  expect(labels['ha-masters-lock-run']).toBeUndefined();
  expect((await action.instances()).map((v) => v.name)).toHaveLength(1);
}, 180_000);

test('finding 5: a 52-character request id works end to end; a 53-character one is refused before any write', async () => {
  // Before the fix, ids up to 63 characters passed the input check; from about 53 the lock's label
  // value (`<id>_<expiry>`) was too long, the first write failed, and the message said a re-run
  // would continue, which could not help.
  let mark = await action.requestCount();
  const tooLong = await action.run({
    operation: 'up',
    'replicate-existing-master': 'true',
    'gce-zone': C,
    'request-id': `long-${'x'.repeat(48)}`,
  });
  expect(tooLong.code).toBe(1);
  expect(tooLong.stdout).toMatch(
    /::error::.*nothing was changed.*request-id: "long-x{48}" cannot be a GCE label value with the lock's expiry after it/,
  );
  expect(tooLong.stdout).toMatch(/Fix: use 1-52 lowercase letters, digits, dashes or underscores/);
  expect(await action.writesSince(mark)).toEqual([]);

  const longest = { operation: 'up', 'replicate-existing-master': 'true', 'gce-zone': C, 'request-id': `long_${'y'.repeat(47)}` };
  expect(longest['request-id']).toHaveLength(52);
  const added = await action.run(longest);
  expect(added.stdout).not.toMatch(/::error::/);
  expect(added.code).toBe(0);
  expect(added.outputs['replica-count']).toBe('2');
  expect((await action.addressLabels())['ha-masters-lock']).toBeUndefined();
  // Its journal entry reads back: the re-run has nothing to do and writes nothing.
  mark = await action.requestCount();
  const again = await action.run(longest);
  expect(again.code).toBe(0);
  expect(again.outputs['changed']).toBe('false');
  expect(await action.writesSince(mark)).toEqual([]);
}, 120_000);
