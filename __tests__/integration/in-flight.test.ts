// Finding 3 (issue 10) through the engine against the emulator with real etcd: VM creation takes
// seconds, as on GCE. A run that starts while another run's replica is still PROVISIONING/STAGING
// waits for that run's lock instead of refusing, and never advises replacing the replica being added.
import type { Intent } from '../../src/model.ts';
import { intent as baseIntent } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';

const B = 'europe-west1-b';
const intent = (over: Partial<Intent>) => baseIntent({ project: PROJECT, ...over });

let world: EngineWorld;
beforeAll(async () => {
  world = await startEngineWorld({ vmRuntime: 'process' });
  await world.run(intent({ zone: B, requestId: 'first-master' }));
}, 120_000);
afterAll(async () => {
  await world?.stop();
}, 60_000);

/** Resolves once a VM made by `request` is visible while it is still being created. */
async function seenBeingCreated(request: string): Promise<string> {
  for (;;) {
    const vms = await world.compute.listInstances('kubernetes-master');
    const vm = vms.find((v) => v.labels['ha-masters-request'] === request);
    if (vm && (vm.status === 'PROVISIONING' || vm.status === 'STAGING')) return vm.status;
    if (vm) throw new Error(`${vm.name} was already ${vm.status} when first seen: the insert latency is too short for this test`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a run that sees a replica another run is creating waits for that run, then finishes its own request', async () => {
  await world.admin('latency', { operationType: 'insert', ms: 3000 });
  try {
    const first = world.run(intent({ replicas: 3, requestId: 'scale-a' }));
    const status = await seenBeingCreated('scale-a-n2');
    expect(['PROVISIONING', 'STAGING']).toContain(status);
    const logsBefore = world.logs.length;
    const second = await world.run(intent({ replicas: 3, requestId: 'scale-b' }));
    const a = await first;
    expect(a.state.replicas).toHaveLength(3);
    // The second run waited for the first one's lock, then found its request already met.
    expect(second.state.replicas.filter((r) => r.status === 'RUNNING')).toHaveLength(3);
    expect(second.steps.map((s) => s.step.kind)).not.toContain('createReplica');
    const secondLogs = world.logs.slice(logsBefore).join('\n');
    expect(secondLogs).toContain('holds the lock');
    expect(secondLogs).not.toMatch(/replace the unhealthy replica/);
  } finally {
    await world.admin('latency', { operationType: 'insert', ms: 100 });
  }
}, 240_000);
