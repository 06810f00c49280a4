// A run may die after any write (runner cancelled, VM preempted, network gone). For the two richest
// flows, 1 -> 2 replicas (lock, VM, certificate, learner, promotion, pool, IP move, forwarding
// rule, journal, unlock) and removing the etcd leader (lock, journal, pool, leader move, member,
// VM, journal, unlock), stop the run right after its k-th write, for every k: the next run with
// the same inputs must finish the job, end in the same shape, and a run after that must write
// nothing.
// The writes are real (emulator + etcd); only the process death is simulated, by throwing after
// the write has returned.
import type { Intent } from '../../src/model.ts';
import type { EngineDeps } from '../../src/engine/deps.ts';
import type { ComputeApi } from '../../src/gce/types.ts';
import type { EtcdAdmin } from '../../src/etcd/types.ts';
import { intent as baseIntent } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';

const B = 'europe-west1-b', C = 'europe-west1-c';
const intent = (over: Partial<Intent>) => baseIntent({ project: PROJECT, requestId: `req-${Math.random().toString(16).slice(2, 10)}`, ...over });

class SimulatedCrash extends Error {}

const WRITE = /^(insert|delete|set|add|remove)/;
const ETCD_WRITES = new Set(['addLearner', 'promote', 'moveLeader', 'removeMember']);

/** Deps whose k-th write (GCE or etcd membership) succeeds and then the "process dies". */
function crashAfterWrite(k: number, seen: string[]) {
  let count = 0;
  const after = <T>(name: string, p: Promise<T>): Promise<T> =>
    p.then((v) => {
      count++;
      seen.push(name);
      if (count === k) throw new SimulatedCrash(`simulated crash after write ${k} (${name})`);
      return v;
    });
  return (deps: EngineDeps): EngineDeps => ({
    ...deps,
    compute: new Proxy(deps.compute, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const name = String(prop);
        if (!WRITE.test(name)) return (value as (...a: unknown[]) => unknown).bind(target);
        return (...args: unknown[]) => after(name, (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      },
    }) as ComputeApi,
    etcd: (tls) => {
      const admin = deps.etcd(tls);
      return new Proxy(admin, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (typeof value !== 'function') return value;
          const name = String(prop);
          if (!ETCD_WRITES.has(name)) return (value as (...a: unknown[]) => unknown).bind(target);
          return (...args: unknown[]) => after(`etcd.${name}`, (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        },
      }) as EtcdAdmin;
    },
  });
}

let world: EngineWorld;

beforeAll(async () => {
  world = await startEngineWorld();
  await world.run(intent({ zone: B }));
}, 120_000);
afterAll(async () => { await world?.stop(); }, 60_000);

test('1 -> 2 survives a crash after every single write', async () => {
  // Count the writes of an uninterrupted run first, then undo it.
  const seen: string[] = [];
  const plain = intent({ zone: C, replicate: true });
  await world.runWith(plain, crashAfterWrite(Number.MAX_SAFE_INTEGER, seen));
  const writes = seen.length;
  expect(writes).toBeGreaterThanOrEqual(9);
  await world.run(intent({ operation: 'down', deleteNodes: false, zone: C }));

  for (let k = 1; k <= writes; k++) {
    const add = intent({ zone: C, replicate: true });
    const trace: string[] = [];
    const outcome = await world.runWith(add, crashAfterWrite(k, trace)).then(() => 'finished', (e: unknown) => (e as Error).cause);
    // The last write is the lock's release, which swallows errors (the lease expires anyway): a
    // crash right after it is a finished run.
    if (k < writes) expect(outcome).toBeInstanceOf(SimulatedCrash);
    const resumed = await world.run(add);
    expect(resumed.state.replicas).toHaveLength(2);
    expect(resumed.state.forwardingRule).toBeDefined();
    expect(resumed.state.replicas.every((r) => r.inTargetPool && r.externalIp)).toBe(true);
    expect(resumed.state.etcd.members.filter((m) => !m.isLearner && m.healthy)).toHaveLength(2);
    await world.resetRequests();
    const again = await world.run(add);
    expect({ k, after: trace[k - 1], changed: again.changed }).toEqual({ k, after: trace[k - 1], changed: false });
    expect(await world.writes()).toEqual([]);
    // Back to one replica for the next k.
    await world.run(intent({ operation: 'down', deleteNodes: false, zone: C }));
  }
}, 900_000);

test('removing the etcd leader (3 -> 2) survives a crash after every single write', async () => {
  await world.run(intent({ replicas: 3 }));
  const leaderVm = async () => {
    const s = (await world.run(intent({ operation: 'status' }))).state;
    const leader = s.etcd.members.find((m) => m.isLeader)!;
    return s.replicas.find((r) => `etcd-${r.name}` === leader.name)!;
  };
  // Count the writes of an uninterrupted removal first, then put a replica back.
  let victim = await leaderVm();
  const seen: string[] = [];
  await world.runWith(intent({ operation: 'down', deleteNodes: false, replicaName: victim.name }), crashAfterWrite(Number.MAX_SAFE_INTEGER, seen));
  expect(seen).toEqual(expect.arrayContaining(['etcd.moveLeader', 'etcd.removeMember', 'deleteInstance']));
  const writes = seen.length;
  await world.run(intent({ zone: victim.zone, replicate: true }));

  for (let k = 1; k <= writes; k++) {
    victim = await leaderVm();
    const remove = intent({ operation: 'down', deleteNodes: false, replicaName: victim.name });
    const trace: string[] = [];
    const outcome = await world.runWith(remove, crashAfterWrite(k, trace)).then(() => 'finished', (e: unknown) => (e as Error).cause);
    if (k < writes) expect(outcome).toBeInstanceOf(SimulatedCrash);
    const resumed = await world.run(remove);
    expect(resumed.state.replicas.map((r) => r.name)).not.toContain(victim.name);
    expect(resumed.state.replicas).toHaveLength(2);
    expect(resumed.state.etcd.members.filter((m) => !m.isLearner && m.healthy)).toHaveLength(2);
    expect(resumed.state.replicas.every((r) => r.inTargetPool)).toBe(true);
    await world.resetRequests();
    const again = await world.run(remove);
    expect({ k, after: trace[k - 1], changed: again.changed }).toEqual({ k, after: trace[k - 1], changed: false });
    expect(await world.writes()).toEqual([]);
    await world.run(intent({ zone: victim.zone, replicate: true }));
  }
}, 1_200_000);
