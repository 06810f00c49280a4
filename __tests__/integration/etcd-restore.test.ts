// Disaster recovery with no etcd member left, through the engine on Debian VMs (the real start-up
// script) with real etcd: a snapshot is taken and put into the emulator's Cloud Storage, more is
// written after it, then every master VM is deleted. `recover` with `restore-from` makes a new master
// with the cluster's own CAs and keys (from Secret Manager) that downloads that version of the
// snapshot, checks it and restores it, then adds replicas back to three. The keys written before the
// snapshot read back; the one written after it does not.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { writeSnapshot } from '../../src/etcd/snapshot.ts';
import { clusterHealth } from '../../src/report/health.ts';
import { createStorage } from '../../src/storage/client.ts';
import { adcTokenSource } from '../../src/auth/adc.ts';
import { M } from '../support/cluster-builder.ts';
import { B, C, D, newRequest } from '../support/engine-intents.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';
import { memberClient } from '../support/member-client.ts';
import { uploadObject } from '../support/storage-upload.ts';

const intent = newRequest;

let world: EngineWorld;
const clients: Etcd3[] = [];
let dir: string;
beforeAll(async () => {
  world = await startEngineWorld({ vmRuntime: 'debian' });
  dir = mkdtempSync(join(tmpdir(), 'ha-restore-'));
}, 120_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await world?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const clientOf = (vmName: string): Promise<Etcd3> => memberClient(world, vmName, clients);

test('every master VM gone: recover with restore-from restores the snapshot onto a new master and is back at three', async () => {
  const three = await world.run(intent({ operation: 'up', zone: B, replicas: 3, zones: [B, C, D] }));
  expect(three.state.replicas).toHaveLength(3);
  const writer = await clientOf(M);
  for (let i = 0; i < 20; i++) await writer.put(`/registry/test/key-${i}`).value(`value-${i}`);
  const file = join(dir, 'snap.db');
  await writeSnapshot(writer, M, file, 30_000);
  const uploaded = await uploadObject(world.url, PROJECT, 'ha-backups', 'etcd/kubernetes-master.db', file);
  await writer.put('/registry/test/after-snapshot').value('lost');
  const before = (await world.secrets()).secrets;
  for (const r of three.state.replicas) await world.compute.deleteInstance(r.zone, r.name);

  // Without a snapshot, recover refuses and names restore-from.
  const source = await createStorage({ endpoint: world.url, token: adcTokenSource(() => {}) }).objectInfo({
    bucket: 'ha-backups',
    object: 'etcd/kubernetes-master.db',
  });
  expect(source.generation).toBe(uploaded.generation);
  expect(source.md5Hash).toBe(uploaded.md5Hash);
  // With no VM left, gce-zone tells where the cluster's region (its address) is, and where the new master goes.
  await expect(world.run(intent({ operation: 'recover', zone: B }))).rejects.toThrow(/restore-from: gs:\/\//);

  const recover = intent({ operation: 'recover', zone: B, replicas: 3, restore: source });
  await world.resetRequests();
  const report = await world.run(recover);
  // The keys' newest versions are read once for the run, though several passes see no VM.
  const log = (await world.admin('requests')) as { requests: { method: string; path: string }[] };
  expect(log.requests.filter((r) => r.path.endsWith('/versions/latest:access')).map((r) => r.path.split('/')[5])).toEqual(
    expect.arrayContaining(['kubernetes-master-cluster-keys', 'kubernetes-master-etcd-ca-key']),
  );
  expect(log.requests.filter((r) => r.path.endsWith('/versions/latest:access'))).toHaveLength(2);
  const kinds = report.steps.map((s) => s.step.kind);
  expect(kinds.slice(0, 3)).toEqual(['writeRecovery', 'deleteForwardingRule', 'createReplica']);
  expect(kinds).toContain('restoreSnapshot');
  expect(kinds.filter((k) => k === 'createReplica')).toHaveLength(3);
  expect(kinds.at(-1)).toBe('writeRecovery');
  expect(report.state.replicas).toHaveLength(3);
  expect(clusterHealth(report.state)).toEqual({ healthy: true, problems: [] });
  expect(report.state.address?.labels['ha-masters-recovery']).toBeUndefined();
  expect(report.state.forwardingRule).toBeDefined();

  // The new masters carry the cluster's own CAs and keys (from Secret Manager): nodes and tokens stay valid.
  const after = (await world.secrets()).secrets;
  expect(after.apiCa).toEqual(before.apiCa);
  expect(after.etcdCa.cert).toBe(before.etcdCa.cert);
  expect(after.serviceAccountKey).toBe(before.serviceAccountKey);
  // The snapshot's keys, read through a replica that joined after the restore; not what came after it.
  const newcomer = report.state.replicas.find((r) => r.name !== M)!;
  const reader = await clientOf(newcomer.name);
  for (let i = 0; i < 20; i++) expect(await reader.get(`/registry/test/key-${i}`).string()).toBe(`value-${i}`);
  expect(await reader.get('/registry/test/after-snapshot').string()).toBeNull();
  const serial = (await (await fetch(`${world.url}/compute/v1/projects/${PROJECT}/zones/${B}/instances/${M}/serialPort`)).json()) as {
    contents: string;
  };
  expect(serial.contents).toMatch(/etcd restored from gs:\/\/ha-backups\/etcd%2Fkubernetes-master.db generation \d+ with etcdctl/);

  await world.resetRequests();
  const again = await world.run(recover);
  expect(again.changed).toBe(false);
  expect(await world.writes()).toEqual([]);
}, 600_000);
