// A repair may die after any write too. Replacing a dead replica (lock, journal, pool, member, VM,
// its secret, journal, the successor's VM, secret, certificate, learner, promotion, pool, journal,
// unlock): stop the run right after its k-th write (Compute, etcd membership and Secret Manager),
// for every k; the next run of the same request must finish the job (three healthy voters, the dead
// one gone), and a run after that must write nothing. Process VMs keep it quick; the writes are real.
import type { Intent, RepairPolicy } from '../../src/model.ts';
import { clusterHealth } from '../../src/report/health.ts';
import { intent as baseIntent, M } from '../support/cluster-builder.ts';
import { SimulatedCrash, crashAfterWrite } from '../support/crash.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const POLICY: RepairPolicy = { maxRetries: 100, retryPeriodMs: 0, minHealthyPeriodMs: 0, zonePolicy: 'same', learnerGraceMs: 600_000 };
const intent = (over: Partial<Intent>) =>
  baseIntent({ project: PROJECT, requestId: `req-${Math.random().toString(16).slice(2, 10)}`, ...over });
const repair = () => intent({ operation: 'repair', repair: POLICY });

let world: EngineWorld;
beforeAll(async () => {
  world = await startEngineWorld({ vmRuntime: 'process' });
  await world.run(intent({ zone: B }));
  await world.run(intent({ replicas: 3, zones: [B, C, D] }));
}, 120_000);
afterAll(async () => {
  await world?.stop();
}, 60_000);

/** Stops the etcd of the replica in zone D (never the first master): a dead member for repair. */
async function killOne(): Promise<string> {
  const s = (await world.run(intent({ operation: 'status' }))).state;
  const victim = s.replicas.find((r) => r.zone === D && r.name !== M)!;
  await world.admin('kill-etcd', { zone: D, instance: victim.name, keepDown: true });
  return victim.name;
}

test('repairing a dead replica survives a crash after every single write', async () => {
  // Count the writes of an uninterrupted repair first.
  await killOne();
  const seen: string[] = [];
  const counted = await world.runWith(repair(), crashAfterWrite(Number.MAX_SAFE_INTEGER, seen, { keys: true }));
  expect(clusterHealth(counted.state).healthy).toBe(true);
  expect(seen).toEqual(
    expect.arrayContaining([
      'etcd.removeMember',
      'deleteInstance',
      'keys.deleteSecret',
      'insertInstance',
      'keys.saveReplica',
      'etcd.addLearner',
      'etcd.promote',
    ]),
  );
  const writes = seen.length;

  for (let k = 1; k <= writes; k++) {
    const dead = await killOne();
    const run = repair();
    const trace: string[] = [];
    const outcome = await world.runWith(run, crashAfterWrite(k, trace, { keys: true })).then(
      () => 'finished',
      (e: unknown) => (e as Error).cause,
    );
    // The last write is the lock's release, which swallows errors: a crash after it is a finished run.
    if (k < writes) expect(outcome).toBeInstanceOf(SimulatedCrash);
    const resumed = await world.run(run);
    expect({ k, after: trace[k - 1], healthy: clusterHealth(resumed.state).healthy }).toEqual({ k, after: trace[k - 1], healthy: true });
    expect(resumed.state.replicas.map((r) => r.name)).not.toContain(dead);
    expect(resumed.state.replicas.map((r) => r.zone).sort()).toEqual([B, C, D]);
    await world.resetRequests();
    const again = await world.run(run);
    expect({ k, changed: again.changed }).toEqual({ k, changed: false });
    expect(await world.writes()).toEqual([]);
  }
}, 900_000);
