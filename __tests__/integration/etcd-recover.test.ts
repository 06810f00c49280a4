// Quorum recovery through the engine against the emulator with real etcd: two of three members are
// lost for good, so etcd has no quorum; `recover` snapshots the survivor that holds the most, deletes
// the other replicas, restarts the survivor as a one-member cluster from its own data
// (etcd-force-new-cluster, docs/vm-contract.md), and adds replicas back to three. Every key written
// before the loss reads back; a second run writes nothing.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { clusterHealth } from '../../src/report/health.ts';
import { M } from '../support/cluster-builder.ts';
import { B, C, D, newRequest } from '../support/engine-intents.ts';
import { startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';
import { memberClient } from '../support/member-client.ts';

const intent = newRequest;

let world: EngineWorld;
const clients: Etcd3[] = [];
let snapshots: string;
beforeAll(async () => {
  world = await startEngineWorld({ vmRuntime: 'process' });
  snapshots = mkdtempSync(join(tmpdir(), 'ha-recover-'));
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await world?.stop();
  rmSync(snapshots, { recursive: true, force: true });
}, 60_000);

const clientOf = (vmName: string): Promise<Etcd3> => memberClient(world, vmName, clients);

test('two of three members lost: recover rebuilds etcd from the survivor, keeps its data, and is back at three', async () => {
  await world.run(intent({ operation: 'up', zone: B }));
  const three = await world.run(intent({ operation: 'up', zone: B, replicas: 3, zones: [B, C, D] }));
  const writer = await clientOf(M);
  for (let i = 0; i < 20; i++) await writer.put(`/registry/test/key-${i}`).value(`value-${i}`);
  const lost = three.state.replicas.filter((r) => r.name !== M);
  for (const r of lost) await world.admin('kill-etcd', { zone: r.zone, instance: r.name, keepDown: true });

  const status = await world.run(intent({ operation: 'status' }));
  expect(status.state.etcd.reachable).toBe(false);

  const recover = intent({ operation: 'recover' });
  const report = await world.run(recover, { snapshotDir: snapshots });
  const kinds = report.steps.map((s) => s.step.kind);
  expect(kinds.slice(0, 4)).toEqual(['writeRecovery', 'deleteReplica', 'deleteReplica', 'forceNewCluster']);
  expect(kinds.filter((k) => k === 'createReplica')).toHaveLength(2);
  expect(kinds.at(-1)).toBe('writeRecovery');
  expect(report.snapshot?.path && existsSync(report.snapshot.path)).toBe(true);
  expect(report.state.replicas).toHaveLength(3);
  expect(report.state.replicas.map((r) => r.name)).toContain(M);
  for (const r of lost) expect(report.state.replicas.map((x) => x.name)).not.toContain(r.name);
  expect(clusterHealth(report.state)).toEqual({ healthy: true, problems: [] });
  expect(report.state.address?.labels['ha-masters-recovery']).toBeUndefined();

  // Every key written before the loss, through a member that did not exist then.
  const newcomer = report.state.replicas.find((r) => r.name !== M)!;
  const reader = await clientOf(newcomer.name);
  for (let i = 0; i < 20; i++) expect(await reader.get(`/registry/test/key-${i}`).string()).toBe(`value-${i}`);

  await world.resetRequests();
  const again = await world.run(recover, { snapshotDir: snapshots });
  expect(again.changed).toBe(false);
  expect(await world.writes()).toEqual([]);
}, 300_000);
