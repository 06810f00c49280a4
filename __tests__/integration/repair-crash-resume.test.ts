// A repair may die after any write too. Replacing a dead replica (lock, journal, pool, member, VM,
// its secret, journal, the cluster's keys shared, the successor's VM, its secret, certificate,
// learner, promotion, pool, journal, unlock): stop the run right after its k-th write (Compute,
// etcd membership and Secret Manager), for every k; the next run of the same request must finish
// the job (three healthy voters, one per zone, the dead one gone), and a run after that must write
// nothing.
// Before each k the etcd of the replica in zone D (never the first master) is stopped for good, so
// that the repair is exactly one replacement. Process VMs keep it quick; the writes are real. The
// values of k are shared out between LANES clusters, each in a project of its own on the one
// emulator, which run side by side (etcd's own wait before a membership change is most of each k).
import type { Intent, RepairPolicy } from '../../src/model.ts';
import { clusterNames } from '../../src/model.ts';
import { clusterHealth } from '../../src/report/health.ts';
import { SimulatedCrash, crashAfterWrite } from '../support/crash.ts';
import { B, C, D, laneRequest } from '../support/engine-intents.ts';
import type { EngineWorld } from '../support/engine-world.ts';
import { everyK, threeReplicaLanes } from '../support/crash-lanes.ts';

const LANES = 4;
const POLICY: RepairPolicy = { maxRetries: 100, retryPeriodMs: 0, minHealthyPeriodMs: 0, zonePolicy: 'same', learnerGraceMs: 600_000 };

const lanes = threeReplicaLanes(LANES);

/** The repair under test (a request id of its own each call). */
const repair = (lane: EngineWorld): Intent => laneRequest(lane, { operation: 'repair', repair: POLICY });

/** Stops the etcd of the lane's replica in zone D (never the first master): a dead member for repair. */
async function killOne(lane: EngineWorld): Promise<string> {
  const s = (await lane.run(laneRequest(lane, { operation: 'status' }))).state;
  const victim = s.replicas.find((r) => r.zone === D && r.name !== clusterNames(lane.instancePrefix).master)!;
  await lane.admin('kill-etcd', { project: lane.project, zone: D, instance: victim.name, keepDown: true });
  return victim.name;
}

test('repairing a dead replica survives a crash after every single write', async () => {
  // Count the writes of an uninterrupted repair first.
  const [first] = lanes as [EngineWorld];
  const measured = await killOne(first);
  const seen: string[] = [];
  const counted = await first.runWith(repair(first), crashAfterWrite(Number.MAX_SAFE_INTEGER, seen, { keys: true }));
  expect(clusterHealth(counted.state).healthy).toBe(true);
  expect(counted.state.replicas.map((r) => r.name)).not.toContain(measured);
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

  const checked: number[] = [];
  await everyK(lanes, writes, async (lane, k) => {
    const dead = await killOne(lane);
    const run = repair(lane);
    const trace: string[] = [];
    const outcome = await lane.runWith(run, crashAfterWrite(k, trace, { keys: true })).then(
      () => 'finished',
      (e: unknown) => (e as Error).cause,
    );
    // The last write is the lock's release, which swallows errors: a crash after it is a finished run.
    if (k < writes)
      expect({ k, after: trace[k - 1], crashed: outcome instanceof SimulatedCrash }).toEqual({ k, after: trace[k - 1], crashed: true });
    const resumed = await lane.run(run);
    expect({ k, after: trace[k - 1], healthy: clusterHealth(resumed.state).healthy }).toEqual({ k, after: trace[k - 1], healthy: true });
    expect(resumed.state.replicas.map((r) => r.name)).not.toContain(dead);
    expect({ k, zones: resumed.state.replicas.map((r) => r.zone).sort() }).toEqual({ k, zones: [B, C, D] });
    await lane.resetRequests();
    const again = await lane.run(run);
    expect({ k, after: trace[k - 1], changed: again.changed }).toEqual({ k, after: trace[k - 1], changed: false });
    expect(await lane.writes()).toEqual([]);
    checked.push(k);
  });
  expect(checked.sort((a, b) => a - b)).toEqual(Array.from({ length: writes }, (_, i) => i + 1));
}, 900_000);
