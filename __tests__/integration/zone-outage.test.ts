// Findings 7 and 11 (issue 10) through the engine against the emulator with real etcd: a replace
// while the replica's zone is DOWN, and the next zone out of capacity. The successor goes to the
// one zone of the region that can take it, in one run; the count of replicas is back to three.
import type { Intent } from '../../src/model.ts';
import { renderSummary } from '../../src/report/summary.ts';
import { intent as baseIntent } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const intent = (over: Partial<Intent>) => baseIntent({ project: PROJECT, ...over });

let world: EngineWorld;
const names: Record<string, string> = {};

beforeAll(async () => {
  // Placement is the same on any VM runtime: processes keep this test short.
  world = await startEngineWorld({ vmRuntime: 'process' });
  const report = await world.run(intent({ zone: B, replicas: 3, requestId: 'make-3' }));
  for (const r of report.state.replicas) names[r.zone] = r.name;
  expect(Object.keys(names).sort()).toEqual([B, C, D]);
}, 240_000);
afterAll(async () => {
  await world?.stop();
}, 60_000);

test('replace during a zone outage, with the next zone out of capacity: the successor goes to the zone that can take it', async () => {
  await world.admin('zone-down', { zone: B });
  // The zone the planner would pick next (fewest replicas, then name order) has no capacity once.
  await world.admin('operation-error', {
    operationType: 'insert',
    target: `zones/${C}/instances`,
    code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
    count: 1,
  });
  const report = await world.run(intent({ operation: 'replace', replicaName: names[B], requestId: 'replace-b' }));

  const running = report.state.replicas.filter((r) => r.status === 'RUNNING');
  expect(running).toHaveLength(3);
  expect(report.state.replicas.map((r) => r.name)).not.toContain(names[B]);
  const successor = report.state.replicas.find((r) => r.name !== names[C] && r.name !== names[D])!;
  expect(successor.zone).toBe(D);
  expect(report.state.etcd.members.filter((m) => !m.isLearner && m.healthy)).toHaveLength(3);
  // The failed insert in C is not a step of the run; the log says what happened.
  expect(report.steps.filter((s) => s.step.kind === 'createReplica')).toMatchObject([{ step: { zone: D } }]);
  expect(world.logs.join('\n')).toContain(`planning again without ${C}`);
  expect(renderSummary(report)).toContain(`Replica replaced: \`${successor.name}\``);

  // A re-run of the same request has nothing left to do.
  const again = await world.run(intent({ operation: 'replace', replicaName: names[B], requestId: 'replace-b' }));
  expect(again.changed).toBe(false);
}, 300_000);
