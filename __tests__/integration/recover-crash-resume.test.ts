// A quorum recovery may die between its own writes. Three points matter most: right after the
// recovery record (nothing else done yet), right after the survivor's etcd-force-new-cluster key (the
// lost replica deleted, the survivor not yet reset), and right after the record moves on once etcd
// serves again (before any replica is added back). Stop the run there; the next run of the same
// request must finish the recovery (healthy voters, the survivor's data) and a run after that must
// write nothing. Two voters with one lost keep each round short; the adding back is the ordinary add
// path, crash-tested write by write in crash-resume.test.ts. Process VMs; the writes are real.
import type { Etcd3 } from 'etcd3';
import { clusterHealth } from '../../src/report/health.ts';
import { M } from '../support/cluster-builder.ts';
import { B, C, newRequest } from '../support/engine-intents.ts';
import { SimulatedCrash, crashAfterWrite } from '../support/crash.ts';
import { startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';
import { memberClient } from '../support/member-client.ts';

const intent = newRequest;

let world: EngineWorld;
const clients: Etcd3[] = [];
beforeAll(async () => {
  world = await startEngineWorld({ vmRuntime: 'process' });
  await world.run(intent({ zone: B }));
  await world.run(intent({ replicas: 2, zones: [B, C], allowEvenReplicas: true }));
}, 120_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await world?.stop();
}, 60_000);

/** Writes a marker through the first master, then loses the other member for good: one voter of two, no quorum. */
async function loseQuorum(marker: string): Promise<void> {
  await (await memberClient(world, M, clients)).put('/registry/test/marker').value(marker);
  const s = (await world.run(intent({ operation: 'status' }))).state;
  for (const r of s.replicas.filter((x) => x.name !== M)) {
    await world.admin('kill-etcd', { zone: r.zone, instance: r.name, keepDown: true });
  }
}

test('recovering quorum survives a crash after the record, the survivor key and the record moving on', async () => {
  await loseQuorum('counted');
  const seen: string[] = [];
  const counted = await world.runWith(intent({ operation: 'recover' }), crashAfterWrite(Number.MAX_SAFE_INTEGER, seen, { keys: true }));
  expect(clusterHealth(counted.state).healthy).toBe(true);
  // The lock comes first; the record is the next address label write.
  const record = seen.indexOf('setAddressLabels', seen.indexOf('setAddressLabels') + 1);
  const forced = seen.indexOf('setInstanceMetadata');
  const phaseF = seen.indexOf('setAddressLabels', forced);
  const points = [record, forced, phaseF].map((i) => i + 1);
  expect({ seen, sorted: points.every((k, i) => k > 0 && (i === 0 || k > points[i - 1]!)) }).toEqual({ seen, sorted: true });

  for (const k of points) {
    const marker = `crash-after-${k}`;
    await loseQuorum(marker);
    const run = intent({ operation: 'recover' });
    const trace: string[] = [];
    const outcome = await world.runWith(run, crashAfterWrite(k, trace, { keys: true })).then(
      () => 'finished',
      (e: unknown) => (e as Error).cause,
    );
    expect({ k, crashed: outcome instanceof SimulatedCrash }).toEqual({ k, crashed: true });
    const resumed = await world.run(run);
    expect({ k, after: trace[k - 1], healthy: clusterHealth(resumed.state).healthy }).toEqual({ k, after: trace[k - 1], healthy: true });
    expect(resumed.state.replicas).toHaveLength(2);
    expect(resumed.state.address?.labels['ha-masters-recovery']).toBeUndefined();
    const reader = await memberClient(world, resumed.state.replicas.find((r) => r.name !== M)!.name, clients);
    expect({ k, marker: await reader.get('/registry/test/marker').string() }).toEqual({ k, marker });
    await world.resetRequests();
    const again = await world.run(run);
    expect({ k, changed: again.changed }).toEqual({ k, changed: false });
    expect(await world.writes()).toEqual([]);
  }
}, 1_200_000);
