// `timeout` bounds the wait for a new replica too: a run whose replica never gets ready ends at its
// own deadline with a message that says so, not after the (longer) ready limit. Before, a run that
// added replicas could overrun its timeout by the whole ready wait.
import type { Intent } from '../../src/model.ts';
import type { ReadyzResult } from '../../src/kube/apiserver.ts';
import { intent as baseIntent, M } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c';
const intent = (over: Partial<Intent>) =>
  baseIntent({ project: PROJECT, requestId: `req-${Math.random().toString(16).slice(2, 10)}`, ...over });

let world: EngineWorld;
beforeAll(async () => {
  world = await startEngineWorld({ vmRuntime: 'process' });
}, 60_000);
afterAll(async () => {
  await world?.stop();
}, 60_000);

test('a new replica that never gets ready ends the run at its timeout, not at the ready limit', async () => {
  await world.run(intent({ operation: 'up', zone: B }));
  const firstIp = (await world.compute.listInstances(M)).find((vm) => vm.name === M)!.internalIp!;
  const notReady: ReadyzResult = { ready: false, error: 'held back by the test' };
  const run = world.runWith(intent({ operation: 'up', zone: C, replicate: true }), (d) => ({
    ...d,
    // The run's timeout is far shorter than the ready limit; only the first master's apiserver answers.
    limits: { ...d.limits, runTimeoutMs: 15_000, readyTimeoutMs: 3_600_000 },
    probeReadyz: (url, ca, ms, tls) => (url.includes(`//${firstIp}:`) ? d.probeReadyz(url, ca, ms, tls) : Promise.resolve(notReady)),
  }));
  await expect(run).rejects.toThrow(/did not become ready before the run's timeout \(15 s\).*Re-run with the same inputs/);
}, 120_000);
