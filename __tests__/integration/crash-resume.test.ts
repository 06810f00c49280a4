// A run may die after any write (runner cancelled, VM preempted, network gone). For the two richest
// flows, 1 -> 2 replicas (lock, VM, certificate, learner, promotion, pool, IP move, forwarding
// rule, journal, unlock) and removing the etcd leader (lock, journal, pool, leader move, member,
// VM, journal, unlock), stop the run right after its k-th write, for every k: the next run with
// the same inputs must finish the job, end in the same shape, and a run after that must write
// nothing.
// The writes are real (emulator + etcd); only the process death is simulated, by throwing after
// the write has returned. The Debian VM is not what this is about: the VMs are the emulator's
// process runtime, reached through its IAP relay as on a GitHub-hosted runner. The values of k are
// shared out between LANES clusters, each in a project of its own on the one emulator, which run
// side by side (etcd's own wait before a membership change, 5 s, is most of each round).
import type { Intent } from '../../src/model.ts';
import { clusterNames } from '../../src/model.ts';
import type { EngineDeps } from '../../src/engine/deps.ts';
import { SimulatedCrash, crashAfterWrite, intercepted } from '../support/crash.ts';
import { laneRequest } from '../support/engine-intents.ts';
import { LOCK_LABEL, decodeLock } from '../../src/engine/lock.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';
import { everyK } from '../support/crash-lanes.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c';
const LANES = 4;
const intentIn = laneRequest;

/**
 * Deps of a process that is killed right after its journal records `request` as done (its last
 * step): from then on every call fails, so nothing after it, the lock's release included, happens.
 */
function killedAfterDoneMark(request: string) {
  let dead = false;
  const die = () => Promise.reject(new SimulatedCrash(`simulated kill after request ${request} was marked done`));
  return (deps: EngineDeps): EngineDeps => ({
    ...deps,
    compute: intercepted(deps.compute, (name, args, invoke) => {
      if (name.endsWith('Link')) return invoke(); // computes a URL, calls nothing
      if (dead) return die();
      return (invoke() as Promise<unknown>).then((result) => {
        const labels = name === 'setAddressLabels' ? (args[2] as Record<string, string>) : undefined;
        if (labels?.[`hm-${request}`]?.startsWith('done_')) dead = true;
        return dead ? die() : result;
      });
    }),
  });
}

let world: EngineWorld;
const lanes: EngineWorld[] = [];

beforeAll(async () => {
  // GCE's operations take 20 ms here instead of the emulator's 100: nothing below looks at one under way.
  world = await startEngineWorld({ vmRuntime: 'process', reach: 'iap', operationLatencyMs: 20 });
  for (let i = 0; i < LANES; i++) lanes.push(await world.inProject(`${PROJECT}-lane${i}`, i === 0 ? 'kubernetes' : `lane${i}`));
  await Promise.all(lanes.map((lane) => lane.run(intentIn(lane, { zone: B }))));
}, 120_000);
afterAll(async () => {
  for (const lane of lanes) await lane.stop();
  await world?.stop();
}, 60_000);

test('1 -> 2 survives a crash after every single write', async () => {
  // Count the writes of an uninterrupted run first, then undo it.
  const [first] = lanes as [EngineWorld];
  const seen: string[] = [];
  await first.runWith(intentIn(first, { zone: C, replicate: true }), crashAfterWrite(Number.MAX_SAFE_INTEGER, seen));
  const writes = seen.length;
  expect(writes).toBeGreaterThanOrEqual(9);
  await first.run(intentIn(first, { operation: 'down', deleteNodes: false, zone: C }));

  await everyK(lanes, writes, async (lane, k) => {
    const add = intentIn(lane, { zone: C, replicate: true });
    const trace: string[] = [];
    const outcome = await lane.runWith(add, crashAfterWrite(k, trace)).then(
      () => 'finished',
      (e: unknown) => (e as Error).cause,
    );
    // The last write is the lock's release, which swallows errors (the lease expires anyway): a
    // crash right after it is a finished run.
    if (k < writes) expect(outcome).toBeInstanceOf(SimulatedCrash);
    const resumed = await lane.run(add);
    expect(resumed.state.replicas).toHaveLength(2);
    expect(resumed.state.forwardingRule).toBeDefined();
    expect(resumed.state.replicas.every((r) => r.inTargetPool && r.externalIp)).toBe(true);
    expect(resumed.state.etcd.members.filter((m) => !m.isLearner && m.healthy)).toHaveLength(2);
    await lane.resetRequests();
    const again = await lane.run(add);
    expect({ k, after: trace[k - 1], changed: again.changed }).toEqual({ k, after: trace[k - 1], changed: false });
    expect(await lane.writes()).toEqual([]);
    // Back to one replica for the next k.
    await lane.run(intentIn(lane, { operation: 'down', deleteNodes: false, zone: C }));
  });
}, 900_000);

test('a kill after the last step, before the lock is released: a re-run frees the lock, and another request takes it over at once', async () => {
  const [lane] = lanes as [EngineWorld];
  const intent = (over: Partial<Intent>) => intentIn(lane, over);
  const lockHolder = async () =>
    decodeLock((await lane.compute.getAddress('europe-west1', clusterNames(lane.instancePrefix).address))!.labels[LOCK_LABEL])?.request;
  const impatient = lane.withLimits({ lockWaitMs: 1000 });
  const add = intent({ zone: C, replicate: true });
  expect(
    await lane.runWith(add, killedAfterDoneMark(add.requestId)).then(
      () => 'finished',
      (e: unknown) => (e as Error).cause,
    ),
  ).toBeInstanceOf(SimulatedCrash);
  expect(await lockHolder()).toBe(add.requestId);
  // The re-run of the same request has nothing left to do, and frees the lock.
  const rerun = await impatient.run(add);
  expect(rerun.changed).toBe(false);
  expect(await lockHolder()).toBeUndefined();
  // A removal killed the same way: the next request does not wait for the lock it left.
  const remove = intent({ operation: 'down', deleteNodes: false, zone: C });
  expect(
    await lane.runWith(remove, killedAfterDoneMark(remove.requestId)).then(
      () => 'finished',
      (e: unknown) => (e as Error).cause,
    ),
  ).toBeInstanceOf(SimulatedCrash);
  expect(await lockHolder()).toBe(remove.requestId);
  const next = await impatient.run(intent({ zone: C, replicate: true }));
  expect(next.state.replicas).toHaveLength(2);
  expect(lane.logs).toContainEqual(expect.stringContaining(`from request ${remove.requestId}: the journal records that request as done`));
  expect(await lockHolder()).toBeUndefined();
  await lane.run(intent({ operation: 'down', deleteNodes: false, zone: C }));
}, 600_000);

test('removing the etcd leader (3 -> 2) survives a crash after every single write', async () => {
  await Promise.all(lanes.map((lane) => lane.run(intentIn(lane, { replicas: 3 }))));
  const leaderVm = async (lane: EngineWorld) => {
    const s = (await lane.run(intentIn(lane, { operation: 'status' }))).state;
    const leader = s.etcd.members.find((m) => m.isLeader)!;
    return s.replicas.find((r) => `etcd-${r.name}` === leader.name)!;
  };
  // Count the writes of an uninterrupted removal first, then put a replica back.
  const [first] = lanes as [EngineWorld];
  const measured = await leaderVm(first);
  const seen: string[] = [];
  await first.runWith(
    intentIn(first, { operation: 'down', deleteNodes: false, replicaName: measured.name }),
    crashAfterWrite(Number.MAX_SAFE_INTEGER, seen),
  );
  expect(seen).toEqual(expect.arrayContaining(['etcd.moveLeader', 'etcd.removeMember', 'deleteInstance']));
  const writes = seen.length;
  await first.run(intentIn(first, { zone: measured.zone, replicate: true }));

  await everyK(lanes, writes, async (lane, k) => {
    const victim = await leaderVm(lane);
    const remove = intentIn(lane, { operation: 'down', deleteNodes: false, replicaName: victim.name });
    const trace: string[] = [];
    const outcome = await lane.runWith(remove, crashAfterWrite(k, trace)).then(
      () => 'finished',
      (e: unknown) => (e as Error).cause,
    );
    if (k < writes) expect(outcome).toBeInstanceOf(SimulatedCrash);
    const resumed = await lane.run(remove);
    expect(resumed.state.replicas.map((r) => r.name)).not.toContain(victim.name);
    expect(resumed.state.replicas).toHaveLength(2);
    expect(resumed.state.etcd.members.filter((m) => !m.isLearner && m.healthy)).toHaveLength(2);
    expect(resumed.state.replicas.every((r) => r.inTargetPool)).toBe(true);
    await lane.resetRequests();
    const again = await lane.run(remove);
    expect({ k, after: trace[k - 1], changed: again.changed }).toEqual({ k, after: trace[k - 1], changed: false });
    expect(await lane.writes()).toEqual([]);
    await lane.run(intentIn(lane, { zone: victim.zone, replicate: true }));
  });
}, 1_200_000);
