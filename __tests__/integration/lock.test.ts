// One change to a cluster at a time, against the emulator: a run that would write waits for, or
// gives up on, another run's lease; an expired lease or one of the same request is taken over;
// two runs started together both finish, one after the other.
import type { Intent } from '../../src/model.ts';
import { LOCK_LABEL, LockBusyError, decodeLock, encodeLock } from '../../src/engine/lock.ts';
import { intent as baseIntent } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';

const B = 'europe-west1-b', C = 'europe-west1-c', D = 'europe-west1-d';
const REGION = 'europe-west1';
const intent = (over: Partial<Intent>) => baseIntent({ project: PROJECT, requestId: `req${Math.random().toString(16).slice(2, 10)}`, ...over });

let world: EngineWorld;
beforeAll(async () => {
  world = await startEngineWorld({ lockWaitMs: 1500 });
  await world.run(intent({ zone: B }));
}, 120_000);
afterAll(async () => { await world?.stop(); }, 60_000);

async function setLock(value: string | undefined) {
  const a = (await world.compute.getAddress(REGION, 'kubernetes-master-ip'))!;
  const labels = { ...a.labels };
  if (value === undefined) delete labels[LOCK_LABEL]; else labels[LOCK_LABEL] = value;
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
  expect((err as Error).message).toMatch(/another run \(request other-run\) is changing kubernetes-master .* Nothing was changed by this run\./);
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

test("a re-run of the request that holds the lease (its run died) goes on at once", async () => {
  const resumed = intent({ operation: 'down', deleteNodes: false, zone: C });
  await setLock(encodeLock({ request: resumed.requestId, expiresAt: Date.now() + 600_000 }));
  const report = await world.run(resumed);
  expect(report.state.replicas).toHaveLength(1);
  expect(await lockLabel()).toBeUndefined();
}, 120_000);

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
