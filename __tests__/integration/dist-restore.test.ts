// Issue 12's restore from a snapshot when every member is gone, through the bundled action against
// the emulator with real etcd (process VMs): a scale-out writes its snapshot straight to Cloud Storage
// (etcd-snapshot-dir: gs://...), a key is written after it, and every master VM is deleted. recover
// then refuses without restore-from, refuses a snapshot that is not there without writing anything,
// shows its plan in a dry run, and with restore-from naming the scale-out's snapshot brings the
// cluster back at three: the keys from before the snapshot read back, the later one does not.
import type { Etcd3 } from 'etcd3';
import { bundleAgainstEmulator } from '../support/run-bundle.ts';
import type { BundleRun } from '../support/run-bundle.ts';
import { bundleEtcdClient } from '../support/bundle-etcd.ts';
import { createBucket } from '../support/storage-upload.ts';
import { readdirSync } from 'node:fs';

const PROJECT = 'restore';
const B = 'europe-west1-b';
const M = 'kubernetes-master';
const action = bundleAgainstEmulator(PROJECT);
const clients: Etcd3[] = [];
afterAll(() => clients.forEach((c) => c.close()));

const errorsOf = (r: BundleRun): string =>
  r.stdout
    .split('\n')
    .filter((l) => l.startsWith('::error'))
    .join('\n');
const client = async (vm: string): Promise<Etcd3> => {
  const c = await bundleEtcdClient(action.emulator(), PROJECT, vm);
  clients.push(c);
  return c;
};
const RECOVER = { operation: 'recover', 'gce-zone': B, confirm: M, 'storage-endpoint': '' };

test('every VM gone: recover restores the snapshot from Cloud Storage and is back at three', async () => {
  const first = await action.run({ operation: 'up', 'gce-zone': B });
  expect([first.code, errorsOf(first)]).toEqual([0, '']);
  const writer = await client(M);
  for (let i = 0; i < 10; i++) await writer.put(`/registry/test/key-${i}`).value(`value-${i}`);
  const url = action.emulator().url;
  await createBucket(url, PROJECT, 'ha-backups');
  const three = await action.run({ operation: 'up', replicas: '3', 'etcd-snapshot-dir': 'gs://ha-backups/etcd', 'storage-endpoint': url });
  expect([three.code, errorsOf(three)]).toEqual([0, '']);
  const snapshot = three.outputs['etcd-snapshot']!;
  expect(snapshot).toMatch(/^gs:\/\/ha-backups\/etcd\/kubernetes-master-\d{8}T\d{6}Z\.db$/);
  // Only in the bucket: the runner's copy (it holds every secret) is gone.
  expect(readdirSync(action.dir()).filter((f) => f.startsWith('ha-masters-snapshot-'))).toEqual([]);
  await writer.put('/registry/test/after-snapshot').value('lost');
  for (const vm of await action.instances()) {
    expect((await fetch(`${url}/compute/v1/projects/${PROJECT}/zones/${vm.zone}/instances/${vm.name}`, { method: 'DELETE' })).ok).toBe(
      true,
    );
  }
  for (let i = 0; i < 100 && (await action.instances()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  const recover = { ...RECOVER, 'storage-endpoint': url };

  const mark = await action.requestCount();
  const noSnapshot = await action.run({ ...recover, 'etcd-snapshot-dir': `${action.dir()}/snapshots` });
  expect(noSnapshot.code).toBe(1);
  expect(errorsOf(noSnapshot)).toMatch(/no etcd member of kubernetes-master answers.*set restore-from: gs:\/\/<bucket>\/<snapshot.db>/);
  const missing = await action.run({ ...recover, 'restore-from': 'gs://ha-backups/etcd/nope.db' });
  expect(missing.code).toBe(1);
  expect(errorsOf(missing)).toMatch(
    /Cloud Storage refused to read the metadata of gs:\/\/ha-backups\/etcd\/nope.db \(HTTP 404: No such object: ha-backups\/etcd\/nope.db\); check the bucket and object name/,
  );
  const dry = await action.run({ ...recover, 'restore-from': snapshot, replicas: '3', 'dry-run': 'true' });
  expect([dry.code, errorsOf(dry)]).toEqual([0, '']);
  expect(dry.stdout).toContain(`set etcd-restore-from on kubernetes-master in europe-west1-b (${snapshot}, generation `);
  expect(await action.writesSince(mark)).toEqual([]);

  const r = await action.run({ ...recover, 'restore-from': snapshot, replicas: '3' });
  expect([r.code, errorsOf(r)]).toEqual([0, '']);
  expect(r.stdout).toMatch(new RegExp(`restore-from ${snapshot.replace(/[.]/g, '\\.')}: generation \\d+, \\d+ bytes`));
  expect(r.outputs.healthy).toBe('true');
  expect((await action.instances()).map((v) => v.name)).toHaveLength(3);
  const newcomer = (await action.instances()).find((v) => v.name !== M)!.name;
  const reader = await client(newcomer);
  for (let i = 0; i < 10; i++) expect(await reader.get(`/registry/test/key-${i}`).string()).toBe(`value-${i}`);
  expect(await reader.get('/registry/test/after-snapshot').string()).toBeNull();

  const again = await action.run({ ...recover, 'restore-from': snapshot, replicas: '3' });
  expect([again.code, again.outputs.changed]).toEqual([0, 'false']);
}, 420_000);
