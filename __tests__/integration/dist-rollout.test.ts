// `operation: rollout` through the bundled action, against the emulator with real etcd: a cluster
// made with Kubernetes v1.34.7, etcd v3.5.33 and machine type e2-standard-4 keeps them through a
// repair job that names none; a rollout's dry run shows every replacement and writes nothing; a step
// of two minor versions is refused before any write; the rollout replaces every replica, one at a
// time and added before it leaves, with etcd's data kept; a second one writes nothing; a rollout
// naming only a machine type resizes every replica and keeps the release.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleEtcdClient } from '../support/bundle-etcd.ts';
import { bundleAgainstEmulator, type BundleRun } from '../support/run-bundle.ts';
import { manifestFor } from '../../src/release/pinned.ts';

const PROJECT = 'rollout-world';
const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const action = bundleAgainstEmulator(PROJECT);
const OLD = { 'kubernetes-version': 'v1.34.7', 'etcd-version': 'v3.5.33' };
const NEW = { 'kubernetes-version': 'v1.35.4', 'etcd-version': 'v3.6.14' };

interface View {
  name: string;
  zone: string;
  healthy: boolean;
  role: string;
  kubernetesVersion: string | null;
  etcdVersion: string | null;
}
const replicasOf = (r: BundleRun): View[] => JSON.parse(r.outputs['replicas-json'] ?? '[]') as View[];
const versionsOf = (r: BundleRun) => replicasOf(r).map((v) => `${v.kubernetesVersion}/${v.etcdVersion}`);
/** The machine type of each master VM, as GCE reports it. */
const machineTypes = async () =>
  (await action.instances()).map((vm) => (vm as unknown as { machineType: string }).machineType.split('/').pop()).sort();

test('a cluster made with a named older release; a repair without version inputs keeps it', async () => {
  const up = await action.run({
    operation: 'up',
    'gce-zone': B,
    multizone: 'true',
    replicas: '3',
    zones: `${B},${C},${D}`,
    'machine-type': 'e2-standard-4',
    ...OLD,
  });
  expect(up.stdout).not.toMatch(/::error::/);
  expect(up.code).toBe(0);
  expect(versionsOf(up)).toEqual(['v1.34.7/v3.5.33', 'v1.34.7/v3.5.33', 'v1.34.7/v3.5.33']);
  expect(up.summary).toContain('| Release | Kubernetes v1.34.7, etcd v3.5.33 (3) |');

  const etcd = await bundleEtcdClient(action.emulator(), PROJECT, replicasOf(up)[0]!.name);
  try {
    await etcd.put('/registry/before-rollout').value('kept');
  } finally {
    etcd.close();
  }

  // The scheduled repair job carries no version inputs: its replacement must not change the release
  // (before, it got the action's default, v1.35.4 with etcd 3.6, beside two 1.34 replicas).
  const dead = replicasOf(up).find((v) => v.zone === D)!;
  await action.admin('kill-etcd', { zone: D, instance: dead.name, keepDown: true });
  const repair = await action.run({ operation: 'repair', 'gce-zone': B });
  expect(repair.stdout).not.toMatch(/::error::/);
  expect(repair.code).toBe(0);
  expect(repair.outputs.repaired).toBe(dead.name);
  expect(versionsOf(repair)).toEqual(['v1.34.7/v3.5.33', 'v1.34.7/v3.5.33', 'v1.34.7/v3.5.33']);
  expect(await machineTypes()).toEqual(['e2-standard-4', 'e2-standard-4', 'e2-standard-4']);
}, 300_000);

test('a dry run shows the whole rollout and writes nothing; a step of two minor versions is refused, nothing written', async () => {
  const mark = await action.requestCount();
  const dry = await action.run({ operation: 'rollout', 'gce-zone': B, 'dry-run': 'true', ...NEW });
  expect(dry.code).toBe(0);
  const plan = JSON.parse(dry.outputs['plan-json']!) as { steps: { kind: string }[]; outcome: string; refused: boolean };
  expect(plan.refused).toBe(false);
  expect(plan.steps.filter((s) => s.kind === 'createReplica')).toHaveLength(3);
  expect(plan.steps.filter((s) => s.kind === 'deleteReplica')).toHaveLength(3);
  expect(plan.outcome).toMatch(/every replica runs Kubernetes v1\.35\.4, etcd v3\.6\.14$/);
  expect(await action.writesSince(mark)).toEqual([]);

  // A manifest of the user's own that jumps from 1.34 to 1.36 (the artifacts do not matter: nothing is made).
  const pinned = manifestFor('v1.35.4', 'v3.6.14').artifacts;
  const far = {
    kubernetesVersion: 'v1.36.1',
    etcdVersion: 'v3.6.14',
    artifacts: {
      'kubernetes-server': { url: pinned['kubernetes-server'].url, sha512: pinned['kubernetes-server'].digest },
      etcd: { url: pinned.etcd.url, sha256: pinned.etcd.digest },
    },
  };
  const path = join(action.dir(), 'far.json');
  writeFileSync(path, JSON.stringify(far));
  const refused = await action.run({ operation: 'rollout', 'gce-zone': B, 'release-manifest': path });
  expect(refused.code).toBe(1);
  expect(refused.stdout).toMatch(
    /::error::.*Kubernetes v1\.36\.1 is more than one minor version ahead of the v1\.34\.7 replicas run.*roll out a v1\.35 release first \(kubernetes-version\), then v1\.36\.1/,
  );
  expect(refused.summary.split('\n')[0]).toMatch(/: REFUSED, nothing was changed/);
  expect(await action.writesSince(mark)).toEqual([]);
}, 120_000);

test('rollout replaces every replica with the new release, in its zone, keeping etcd data; a second rollout writes nothing', async () => {
  const before = replicasOf(await action.run({ operation: 'status', 'gce-zone': B }));
  const r = await action.run({ operation: 'rollout', 'gce-zone': B, ...NEW });
  expect(r.stdout).not.toMatch(/::error::/);
  expect(r.code).toBe(0);
  const after = replicasOf(r);
  expect(after.map((v) => v.zone).sort()).toEqual([B, C, D]);
  expect(after.every((v) => v.healthy && v.role === 'voter')).toBe(true);
  expect(versionsOf(r)).toEqual(['v1.35.4/v3.6.14', 'v1.35.4/v3.6.14', 'v1.35.4/v3.6.14']);
  for (const old of before) expect(after.map((v) => v.name)).not.toContain(old.name);
  expect(r.summary).toMatch(
    /Rolled out, replaced: (`kubernetes-master(-[0-9a-f]{3})?`(, )?){3}; replacements (`kubernetes-master-[0-9a-f]{3}`(, )?){3}\./,
  );
  expect(r.summary).toContain('| Release | Kubernetes v1.35.4, etcd v3.6.14 (3) |');
  // One at a time, each successor voting before its predecessor leaves.
  const order = [...r.stdout.matchAll(/^step \d+: (create VM|promote|remove etcd member) /gm)].map((m) => m[1]);
  expect(order).toEqual(Array.from({ length: 3 }, () => ['create VM', 'promote', 'remove etcd member']).flat());

  const etcd = await bundleEtcdClient(action.emulator(), PROJECT, after[0]!.name);
  try {
    expect(await etcd.get('/registry/before-rollout').string()).toBe('kept');
    expect((await etcd.cluster.memberList({})).members).toHaveLength(3);
  } finally {
    etcd.close();
  }

  const mark = await action.requestCount();
  const again = await action.run({ operation: 'rollout', 'gce-zone': B, ...NEW });
  expect(again.code).toBe(0);
  expect(again.outputs.changed).toBe('false');
  expect(await action.writesSince(mark)).toEqual([]);
  expect(await machineTypes()).toEqual(['e2-standard-4', 'e2-standard-4', 'e2-standard-4']);
}, 420_000);

test('a rollout that names only a machine type resizes every replica and keeps the release', async () => {
  const r = await action.run({ operation: 'rollout', 'gce-zone': B, 'machine-type': 'n2-standard-2' });
  expect(r.stdout).not.toMatch(/::error::/);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/done: replaced .*; every replica runs Kubernetes v1\.35\.4, etcd v3\.6\.14 with machine type n2-standard-2/);
  expect(await machineTypes()).toEqual(['n2-standard-2', 'n2-standard-2', 'n2-standard-2']);
  expect(versionsOf(r)).toEqual(['v1.35.4/v3.6.14', 'v1.35.4/v3.6.14', 'v1.35.4/v3.6.14']);
  expect(replicasOf(r).every((v) => v.healthy && v.role === 'voter')).toBe(true);
}, 420_000);
