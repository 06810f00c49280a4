// A quorum recovery may die between its own writes. Three points matter most: right after the
// recovery record (nothing else done yet), right after the survivor's etcd-force-new-cluster key (the
// lost replica deleted, the survivor not yet reset), and right after the record moves on once etcd
// serves again (before any replica is added back). Stop the run there; the next run of the same
// request must finish the recovery (healthy voters, the survivor's data) and a run after that must
// write nothing. Two voters with one lost keep each round short; the adding back is the ordinary add
// path, crash-tested write by write in crash-resume.test.ts. Process VMs; the writes are real. The
// three points run side by side, each on a cluster in a project of its own on the one emulator.
import type { Etcd3 } from 'etcd3';
import { clusterNames } from '../../src/model.ts';
import { clusterHealth } from '../../src/report/health.ts';
import { SimulatedCrash, crashAfterWrite } from '../support/crash.ts';
import { B, C, laneRequest } from '../support/engine-intents.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';
import { memberClient } from '../support/member-client.ts';

const POINTS = 3;
const intentIn = laneRequest;
const masterOf = (lane: EngineWorld): string => clusterNames(lane.instancePrefix).master;

let world: EngineWorld;
const lanes: EngineWorld[] = [];
const clients: Etcd3[] = [];
beforeAll(async () => {
  world = await startEngineWorld({ vmRuntime: 'process' });
  for (let i = 0; i < POINTS; i++) lanes.push(await world.inProject(`${PROJECT}-rec${i}`, i === 0 ? 'kubernetes' : `rec${i}`));
  await Promise.all(
    lanes.map(async (lane) => {
      await lane.run(intentIn(lane, { zone: B }));
      await lane.run(intentIn(lane, { replicas: 2, zones: [B, C], allowEvenReplicas: true }));
    }),
  );
}, 180_000);
afterAll(async () => {
  for (const c of clients) c.close();
  for (const lane of lanes) await lane.stop();
  await world?.stop();
}, 60_000);

/** Writes a marker through the lane's first master, then loses the other member for good: one voter of two, no quorum. */
async function loseQuorum(lane: EngineWorld, marker: string): Promise<void> {
  await (await memberClient(lane, masterOf(lane), clients)).put('/registry/test/marker').value(marker);
  const s = (await lane.run(intentIn(lane, { operation: 'status' }))).state;
  for (const r of s.replicas.filter((x) => x.name !== masterOf(lane))) {
    await world.admin('kill-etcd', { zone: r.zone, instance: r.name, keepDown: true });
  }
}

/** One round: the recovery stops right after its k-th write, the same request finishes it, another run writes nothing. */
async function crashAndResume(lane: EngineWorld, k: number): Promise<void> {
  const marker = `crash-after-${k}`;
  await loseQuorum(lane, marker);
  const run = intentIn(lane, { operation: 'recover' });
  const trace: string[] = [];
  const outcome = await lane.runWith(run, crashAfterWrite(k, trace, { keys: true })).then(
    () => 'finished',
    (e: unknown) => (e as Error).cause,
  );
  expect({ k, crashed: outcome instanceof SimulatedCrash }).toEqual({ k, crashed: true });
  const resumed = await lane.run(run);
  expect({ k, after: trace[k - 1], healthy: clusterHealth(resumed.state).healthy }).toEqual({ k, after: trace[k - 1], healthy: true });
  expect(resumed.state.replicas).toHaveLength(2);
  expect(resumed.state.address?.labels['ha-masters-recovery']).toBeUndefined();
  const reader = await memberClient(lane, resumed.state.replicas.find((r) => r.name !== masterOf(lane))!.name, clients);
  expect({ k, marker: await reader.get('/registry/test/marker').string() }).toEqual({ k, marker });
  await lane.resetRequests();
  const again = await lane.run(run);
  expect({ k, changed: again.changed }).toEqual({ k, changed: false });
  expect(await lane.writes()).toEqual([]);
}

test('recovering quorum survives a crash after the record, the survivor key and the record moving on', async () => {
  const first = lanes[0]!;
  await loseQuorum(first, 'counted');
  const seen: string[] = [];
  const counted = await first.runWith(
    intentIn(first, { operation: 'recover' }),
    crashAfterWrite(Number.MAX_SAFE_INTEGER, seen, { keys: true }),
  );
  expect(clusterHealth(counted.state).healthy).toBe(true);
  // The lock comes first; the record is the next address label write.
  const record = seen.indexOf('setAddressLabels', seen.indexOf('setAddressLabels') + 1);
  const forced = seen.indexOf('setInstanceMetadata');
  const phaseF = seen.indexOf('setAddressLabels', forced);
  const points = [record, forced, phaseF].map((i) => i + 1);
  expect({ seen, sorted: points.every((k, i) => k > 0 && (i === 0 || k > points[i - 1]!)) }).toEqual({ seen, sorted: true });
  await Promise.all(points.map((k, i) => crashAndResume(lanes[i]!, k)));
}, 600_000);
