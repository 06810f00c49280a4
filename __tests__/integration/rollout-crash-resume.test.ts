// A rollout may die after any write too. Replacing the one replica that differs from the machine
// type the run names (lock, the cluster's keys shared, the successor's VM in the victim's zone, its
// secret, certificate, learner, promotion, pool, journal; then the victim's journal, pool, member,
// VM, secret, journal; unlock): stop the run right after its k-th write (Compute, etcd membership
// and Secret Manager), for every k; the next run of the same request must finish the job (three
// healthy voters, all of the named machine type, one per zone, the outdated one gone), and a run
// after that must write nothing.
// Before each k an ordinary replace makes one replica e2-standard-4 on a cluster of e2-standard-2,
// so that the rollout back to e2-standard-2 is exactly one round. Process VMs keep it quick; the
// writes are real. The values of k are shared out between LANES clusters, each in a project of its
// own on the one emulator, which run side by side (etcd's own wait before a membership change is
// most of each round).
import type { Intent, Replica } from '../../src/model.ts';
import { clusterHealth } from '../../src/report/health.ts';
import { SimulatedCrash, crashAfterWrite } from '../support/crash.ts';
import { B, C, D, laneRequest } from '../support/engine-intents.ts';
import type { EngineWorld } from '../support/engine-world.ts';
import { everyK, threeReplicaLanes } from '../support/crash-lanes.ts';

const LANES = 4;
const OLD = 'e2-standard-4',
  NAMED = 'e2-standard-2';

const lanes = threeReplicaLanes(LANES);

/** The rollout under test: every replica to e2-standard-2 (a request id of its own each call). */
const rollout = (lane: EngineWorld): Intent => laneRequest(lane, { operation: 'rollout', machineType: NAMED, shapeNamed: ['machineType'] });

/** Replaces one replica that is not etcd's leader (in a zone that turns with `k`) by one of e2-standard-4: the one the rollout must replace. */
async function outdateOne(lane: EngineWorld, k: number): Promise<Replica> {
  const s = (await lane.run(laneRequest(lane, { operation: 'status' }))).state;
  const leader = s.etcd.members.find((m) => m.isLeader)?.name;
  const others = s.replicas.filter((r) => `etcd-${r.name}` !== leader).sort((a, b) => a.zone.localeCompare(b.zone));
  const victim = others[k % others.length]!;
  const replaced = await lane.run(
    laneRequest(lane, { operation: 'replace', replicaName: victim.name, machineType: OLD, shapeNamed: ['machineType'] }),
  );
  const outdated = replaced.state.replicas.filter((r) => r.machineType === OLD);
  expect(outdated.map((r) => r.zone)).toEqual([victim.zone]);
  expect(replaced.state.replicas.map((r) => r.machineType).sort()).toEqual([NAMED, NAMED, OLD]);
  return outdated[0]!;
}

/** The zone and machine type of each replica, by zone. */
const shapeOf = (state: { replicas: Replica[] }) =>
  [...state.replicas].sort((a, b) => a.zone.localeCompare(b.zone)).map((r) => ({ zone: r.zone, machineType: r.machineType }));

test('a rollout round survives a crash after every single write', async () => {
  // Count the writes of an uninterrupted round first.
  const [first] = lanes as [EngineWorld];
  const measured = await outdateOne(first, 0);
  const seen: string[] = [];
  const counted = await first.runWith(rollout(first), crashAfterWrite(Number.MAX_SAFE_INTEGER, seen, { keys: true }));
  expect(clusterHealth(counted.state).healthy).toBe(true);
  expect(counted.state.replicas.map((r) => r.name)).not.toContain(measured.name);
  expect(shapeOf(counted.state)).toEqual([B, C, D].map((zone) => ({ zone, machineType: NAMED })));
  expect(seen).toEqual(
    expect.arrayContaining([
      'insertInstance',
      'keys.saveReplica',
      'etcd.addLearner',
      'etcd.promote',
      'etcd.removeMember',
      'deleteInstance',
      'keys.deleteSecret',
    ]),
  );
  // One round: one successor made, one replica gone.
  expect(seen.filter((w) => w === 'insertInstance')).toHaveLength(1);
  expect(seen.filter((w) => w === 'deleteInstance')).toHaveLength(1);
  const writes = seen.length;

  await everyK(lanes, writes, async (lane, k) => {
    const outdated = await outdateOne(lane, k);
    const run = rollout(lane);
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
    expect(resumed.state.replicas.map((r) => r.name)).not.toContain(outdated.name);
    expect({ k, shape: shapeOf(resumed.state) }).toEqual({ k, shape: [B, C, D].map((zone) => ({ zone, machineType: NAMED })) });
    expect(resumed.state.etcd.members.filter((m) => !m.isLearner && m.healthy)).toHaveLength(3);
    await lane.resetRequests();
    const again = await lane.run(run);
    expect({ k, after: trace[k - 1], changed: again.changed }).toEqual({ k, after: trace[k - 1], changed: false });
    expect(await lane.writes()).toEqual([]);
  });
}, 900_000);
