// A teardown needs no etcd: when the way to the replicas cannot work (IAP without permission, a
// firewall that keeps the relay out), `down` with delete-nodes still plans (dry run) and deletes the
// whole cluster, while every other operation stops before it plans around unreachable members. The
// janitor's teardowns depend on this. Process VMs, the engine's real dependencies, and a reach that
// reports a problem.
import type { EngineDeps } from '../../src/engine/deps.ts';
import { planEngine, runEngine } from '../../src/engine/run.ts';
import type { Intent } from '../../src/model.ts';
import { intent as baseIntent } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';

const B = 'europe-west1-b';
const intent = (over: Partial<Intent>) =>
  baseIntent({ project: PROJECT, requestId: `req-${Math.random().toString(16).slice(2, 10)}`, ...over });
const REACH_PROBLEM = { problem: 'IAP refused a tunnel: the identity lacks iap.tunnelInstances.accessViaIAP', fix: 'grant it' };

let world: EngineWorld;
let unreachable: EngineDeps;
beforeAll(async () => {
  world = await startEngineWorld({ vmRuntime: 'process' });
  // The world's own dependencies, with a way to the replicas that cannot work.
  await world.runWith(intent({ zone: B }), (deps) => {
    unreachable = { ...deps, reachProblem: async () => REACH_PROBLEM };
    return deps;
  });
}, 120_000);
afterAll(async () => {
  await world?.stop();
}, 60_000);

test('a dry-run teardown plans the deletion; a dry run of anything else refuses with the reach problem', async () => {
  const teardown = await planEngine(intent({ operation: 'down', deleteNodes: true }), unreachable);
  expect(teardown.plan?.refused).toBe(false);
  expect(teardown.plan?.steps.map((s) => s.step.kind)).toContain('deleteReplica');
  await expect(planEngine(intent({ operation: 'up', replicas: 3 }), unreachable)).rejects.toThrow(REACH_PROBLEM.problem);
  await expect(runEngine(intent({ operation: 'up', replicas: 3 }), unreachable)).rejects.toThrow(REACH_PROBLEM.problem);
});

test('the teardown itself deletes everything', async () => {
  const report = await runEngine(intent({ operation: 'down', deleteNodes: true }), unreachable);
  expect(report.state.replicas).toEqual([]);
  expect(report.state.address).toBeUndefined();
  expect((await world.run(intent({ operation: 'status' }))).state.replicas).toEqual([]);
});
