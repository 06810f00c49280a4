// One change to a cluster at a time, against the emulator: a run that would write waits for, or
// gives up on, another run's lease (within its own timeout); an expired lease, one of the same
// request or one whose request the journal records as done is taken over; every run of the
// holding request frees it; request ids with `_` or of the longest allowed length work, longer
// ones are refused before any write; two runs started together both finish, one after the other.
import type { Intent } from '../../src/model.ts';
import { clusterNames } from '../../src/model.ts';
import { LOCK_LABEL, LockBusyError, decodeLock, encodeLock } from '../../src/engine/lock.ts';
import { journalLabel } from '../../src/plan/journal.ts';
import { RefusedError } from '../../src/errors.ts';
import { REQUEST_ID_MAX_LENGTH } from '../../src/request-id.ts';
import { intent as baseIntent } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const REGION = 'europe-west1';
const intent = (over: Partial<Intent>) =>
  baseIntent({ project: PROJECT, requestId: `req${Math.random().toString(16).slice(2, 10)}`, ...over });

let world: EngineWorld;
beforeAll(async () => {
  // GCE's operations take 20 ms here (the emulator's default: 100); the one test that needs them slow sets that itself.
  world = await startEngineWorld({ lockWaitMs: 1500, vmRuntime: 'process', reach: 'iap', operationLatencyMs: 20 });
  await world.run(intent({ zone: B }));
}, 120_000);
afterAll(async () => {
  await world?.stop();
}, 60_000);

async function setLock(value: string | undefined) {
  const a = (await world.compute.getAddress(REGION, 'kubernetes-master-ip'))!;
  const labels = { ...a.labels };
  if (value === undefined) delete labels[LOCK_LABEL];
  else labels[LOCK_LABEL] = value;
  await world.compute.setAddressLabels(REGION, a.name, labels, a.labelFingerprint);
}
async function lockLabel() {
  return (await world.compute.getAddress(REGION, 'kubernetes-master-ip'))!.labels[LOCK_LABEL];
}

test('a run that would write gives up on a live lease of another run, says so, and writes nothing', async () => {
  await setLock(encodeLock({ request: 'other-run', expiresAt: Date.now() + 600_000 }));
  await world.resetRequests();
  const err = await world.run(intent({ zone: C, replicate: true })).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LockBusyError);
  expect((err as Error).message).toMatch(
    /another run \(request other-run\) is changing kubernetes-master .* Nothing was changed by this run\./,
  );
  expect(await world.writes()).toEqual([]);
  // Reading never needs the lock.
  const status = await world.run(intent({ operation: 'status' }));
  expect(status.state.replicas).toHaveLength(1);
}, 60_000);

test('an expired lease is taken over, and the run leaves no lease behind', async () => {
  await setLock(encodeLock({ request: 'dead-run', expiresAt: Date.now() - 1000 }));
  const report = await world.run(intent({ zone: C, replicate: true }));
  expect(report.state.replicas).toHaveLength(2);
  expect(await lockLabel()).toBeUndefined();
}, 120_000);

test('a re-run of the request that holds the lease (its run died) goes on at once', async () => {
  const resumed = intent({ operation: 'down', deleteNodes: false, zone: C });
  await setLock(encodeLock({ request: resumed.requestId, expiresAt: Date.now() + 600_000 }));
  const report = await world.run(resumed);
  expect(report.state.replicas).toHaveLength(1);
  expect(await lockLabel()).toBeUndefined();
}, 120_000);

test("waiting for a lease ends with the run's timeout, and says whose lease it is and until when", async () => {
  const until = Math.floor((Date.now() + 600_000) / 1000) * 1000;
  await setLock(encodeLock({ request: 'long-run', expiresAt: until }));
  await world.resetRequests();
  // lock-wait alone would wait 10 minutes (the test's own timeout fails that).
  const impatient = world.withLimits({ lockWaitMs: 600_000, runTimeoutMs: 4_000 });
  const err = await impatient.run(intent({ zone: C, replicate: true })).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LockBusyError);
  const until8601 = new Date(until).toISOString();
  expect((err as Error).message).toContain(
    `another run (request long-run) is changing kubernetes-master and holds its lock until ${until8601}`,
  );
  expect((err as Error).message).toContain("as long as this run's timeout (4 s) allows");
  expect(world.logs).toContainEqual(
    expect.stringContaining(`waiting for run long-run, which holds the lock on kubernetes-master until ${until8601}`),
  );
  expect(await world.writes()).toEqual([]);
  await setLock(undefined);
}, 60_000);

test('a live lease of a request with `_` in its id is waited for, not overwritten', async () => {
  await setLock(encodeLock({ request: 'other_run_1', expiresAt: Date.now() + 600_000 }));
  await world.resetRequests();
  const err = await world.run(intent({ zone: C, replicate: true })).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LockBusyError);
  expect((err as Error).message).toContain('another run (request other_run_1)');
  expect(await world.writes()).toEqual([]);
  await setLock(undefined);
}, 60_000);

test('a lease whose request the journal records as done is taken over at once, says so, and an id with `_` frees its own lease', async () => {
  // The run of finished-run died after its journal's done mark, before it dropped its lease.
  const names = clusterNames('kubernetes');
  const [doneKey, doneValue] = journalLabel(names, { request: 'finished-run', replica: names.master, phase: 'done', zone: B });
  const a = (await world.compute.getAddress(REGION, names.address))!;
  await world.compute.setAddressLabels(
    REGION,
    a.name,
    { ...a.labels, [doneKey]: doneValue, [LOCK_LABEL]: encodeLock({ request: 'finished-run', expiresAt: Date.now() + 600_000 }) },
    a.labelFingerprint,
  );
  const report = await world.run(intent({ requestId: 'taker_with_underscores', zone: C, replicate: true }));
  expect(report.state.replicas).toHaveLength(2);
  expect(world.logs).toContainEqual(
    expect.stringContaining(
      'taking over the lock on kubernetes-master from request finished-run: the journal records that request as done',
    ),
  );
  expect(await lockLabel()).toBeUndefined();
  await world.run(intent({ operation: 'down', deleteNodes: false, zone: C }));
}, 180_000);

test('a re-run of a finished request that has nothing to do, or that fails, frees the lease its dead run left', async () => {
  // finished-run is done in the journal (previous test); its dead run's lease is back.
  await setLock(encodeLock({ request: 'finished-run', expiresAt: Date.now() + 600_000 }));
  const rerun = await world.run(intent({ requestId: 'finished-run', zone: B, replicate: true }));
  expect(rerun.changed).toBe(false);
  expect(await lockLabel()).toBeUndefined();
  // A run that is refused frees the lease of its request as well.
  await setLock(encodeLock({ request: 'refused-run', expiresAt: Date.now() + 600_000 }));
  const refused = await world
    .run(intent({ requestId: 'refused-run', operation: 'down', deleteNodes: false, replicaName: 'kubernetes-master-zzz' }))
    .catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(RefusedError);
  expect(await lockLabel()).toBeUndefined();
}, 60_000);

test('a request id of the longest allowed length works end to end; one longer is refused before any write', async () => {
  await world.resetRequests();
  const tooLong = await world
    .run(intent({ requestId: 'x'.repeat(REQUEST_ID_MAX_LENGTH + 1), zone: C, replicate: true }))
    .catch((e: unknown) => e);
  expect(tooLong).toBeInstanceOf(RefusedError);
  expect((tooLong as Error).message).toMatch(
    new RegExp(`Nothing was changed\\. Fix: use 1-${REQUEST_ID_MAX_LENGTH} lowercase letters, digits, dashes or underscores as request-id`),
  );
  expect(await world.writes()).toEqual([]);
  const longest = intent({ requestId: `long_${'y'.repeat(REQUEST_ID_MAX_LENGTH - 5)}`, zone: C, replicate: true });
  const added = await world.run(longest);
  expect(added.state.replicas).toHaveLength(2);
  expect(await lockLabel()).toBeUndefined();
  expect((await world.run(longest)).changed).toBe(false);
  await world.run(intent({ operation: 'down', deleteNodes: false, zone: C }));
}, 180_000);

test('two runs whose request ids hold `_`, started together while VM inserts take 3 s, take turns and leave no lease', async () => {
  const tag = Math.random().toString(16).slice(2, 8);
  const [first, second] = [`race_one_${tag}`, `race_two_${tag}`];
  const logsBefore = world.logs.length;
  await world.admin('latency', { operationType: 'insert', ms: 3000 });
  try {
    const patient = world.withLimits({ lockWaitMs: 240_000 });
    const [a, b] = await Promise.all([
      patient.run(intent({ requestId: first, zone: C, replicate: true })),
      patient.run(intent({ requestId: second, zone: D, replicate: true })),
    ]);
    expect([a.changed, b.changed]).toEqual([true, true]);
  } finally {
    await world.admin('latency', { operationType: 'insert', ms: 20 });
  }
  const waits = world.logs
    .slice(logsBefore)
    .filter((l) => l.startsWith(`waiting for run ${first},`) || l.startsWith(`waiting for run ${second},`));
  expect(waits.length).toBeGreaterThan(0);
  expect(await lockLabel()).toBeUndefined();
  await world.run(intent({ operation: 'down', deleteNodes: false, zone: C }));
  await world.run(intent({ operation: 'down', deleteNodes: false, zone: D }));
}, 300_000);

test('two runs started together both finish, one after the other', async () => {
  const slow = await startEngineWorldLike();
  const [a, b] = await Promise.all([slow.run(intent({ zone: C, replicate: true })), slow.run(intent({ zone: D, replicate: true }))]);
  const final = await slow.run(intent({ operation: 'status' }));
  expect(final.state.replicas.map((r) => r.zone).sort()).toEqual([B, C, D]);
  expect(final.state.etcd.members.filter((m) => !m.isLearner && m.healthy)).toHaveLength(3);
  expect([a.changed, b.changed]).toEqual([true, true]);
  expect(slow.logs.some((l) => l.startsWith('waiting for run '))).toBe(true);
  expect(decodeLock(await lockLabel())).toBeUndefined();
}, 300_000);

/** The same emulator, but runs that wait long enough for each other. */
async function startEngineWorldLike() {
  return world.withLimits({ lockWaitMs: 240_000 });
}
