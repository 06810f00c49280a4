// `operation: snapshot` through the bundled action, against the emulator with real etcd: the scheduled
// backup. It needs etcd-snapshot-dir; it streams the most advanced member's snapshot into a bucket
// (or a directory) and writes nothing to the cluster; with etcd-snapshot-keep it deletes this
// cluster's older snapshots beyond the newest N and leaves every other object alone.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBucket, uploadObject } from '../support/storage-upload.ts';
import { bundleAgainstEmulator } from '../support/run-bundle.ts';

const PROJECT = 'snapshot-world';
const B = 'europe-west1-b';
const BUCKET = 'ha-backups';
const action = bundleAgainstEmulator(PROJECT);

/** The object names under `prefix`, as the runner's identity lists them. */
async function objectNames(prefix: string): Promise<string[]> {
  const token = (await (
    await fetch(`${action.emulator().url}/computeMetadata/v1/instance/service-accounts/default/token`, {
      headers: { 'Metadata-Flavor': 'Google' },
    })
  ).json()) as { access_token: string };
  const res = await fetch(`${action.emulator().url}/storage/v1/b/${BUCKET}/o?prefix=${encodeURIComponent(prefix)}`, {
    headers: { authorization: `Bearer ${token.access_token}` },
  });
  expect(res.status).toBe(200);
  return (((await res.json()) as { items?: { name: string }[] }).items ?? []).map((o) => o.name).sort();
}

const computeWrites = (writes: string[]) => writes.filter((w) => w.includes('/compute/v1/'));

test('without etcd-snapshot-dir: refused before any call', async () => {
  const mark = await action.requestCount();
  const r = await action.run({ operation: 'snapshot', 'gce-zone': B });
  const { requests } = (await action.admin('requests')) as { requests: { path: string }[] };
  expect(requests.slice(mark).filter((q) => !q.path.startsWith('/_emulator'))).toEqual([]);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(
    /::error::.*etcd-snapshot-dir: operation snapshot writes an etcd snapshot there, and it is empty\. Fix: set etcd-snapshot-dir to a bucket prefix/,
  );
});

test('snapshots into a bucket, writing nothing to the cluster; etcd-snapshot-keep keeps the newest two of this cluster only', async () => {
  const up = await action.run({ operation: 'up', 'gce-zone': B });
  expect(up.code).toBe(0);
  const url = action.emulator().url;
  await createBucket(url, PROJECT, BUCKET);
  // Objects the pruning must not touch: a user's file, and another cluster's snapshot under the same prefix.
  const file = join(action.dir(), 'other.db');
  writeFileSync(file, 'not a snapshot of this cluster');
  await uploadObject(url, PROJECT, BUCKET, 'etcd/notes.db', file);
  await uploadObject(url, PROJECT, BUCKET, 'etcd/kubernetes-master-x-master-20260101T000000Z.db', file);
  await uploadObject(url, PROJECT, BUCKET, 'etcd/kubernetes-master-20200101T000000Z.db', file);

  const mark = await action.requestCount();
  const taken: string[] = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 1100)); // names have second precision
    const r = await action.run({
      operation: 'snapshot',
      'gce-zone': B,
      'etcd-snapshot-dir': `gs://${BUCKET}/etcd/`,
      'etcd-snapshot-keep': '2',
      'storage-endpoint': url,
    });
    expect(r.stdout).not.toMatch(/::(error|warning)::/);
    expect(r.code).toBe(0);
    expect(r.outputs.changed).toBe('false');
    expect(r.outputs['etcd-snapshot']).toMatch(new RegExp(`^gs://${BUCKET}/etcd/kubernetes-master-\\d{8}T\\d{6}Z\\.db$`));
    expect(r.summary).toContain(
      `A snapshot only reads the cluster: nothing was changed; the snapshot is \`${r.outputs['etcd-snapshot']}\`.`,
    );
    expect(r.summary).toContain(`restore with \`operation: recover\` and \`restore-from: ${r.outputs['etcd-snapshot']}\``);
    taken.push(r.outputs['etcd-snapshot']!);
  }
  expect(new Set(taken).size).toBe(3);
  expect(computeWrites(await action.writesSince(mark))).toEqual([]);
  // The 2020 one and the first of the three went; the other cluster's and the user's file stayed.
  const newest = taken.slice(1).map((u) => u.slice(`gs://${BUCKET}/`.length));
  expect(await objectNames('etcd/')).toEqual(['etcd/kubernetes-master-x-master-20260101T000000Z.db', 'etcd/notes.db', ...newest].sort());
}, 240_000);

test('snapshots into a directory, where etcd-snapshot-keep: 1 leaves the newest and every other file', async () => {
  const dir = join(action.dir(), 'backups');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'README'), 'keep me');
  const paths: string[] = [];
  for (let i = 0; i < 2; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 1100));
    const r = await action.run({ operation: 'snapshot', 'gce-zone': B, 'etcd-snapshot-dir': dir, 'etcd-snapshot-keep': '1' });
    expect(r.code).toBe(0);
    paths.push(r.outputs['etcd-snapshot']!);
  }
  expect(readdirSync(dir).sort()).toEqual(['README', paths[1]!.split('/').pop()!].sort());
  expect(paths[1]).toMatch(/kubernetes-master-\d{8}T\d{6}Z\.db$/);
}, 120_000);
