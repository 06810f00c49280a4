// Honest reports from the bundled action: a refused run's job summary says REFUSED in its first
// line (before, it began "No changes: the cluster already matched the request"); a `status` of a
// cluster with one etcd member down says UNHEALTHY in its first line, names that replica and why,
// sets `healthy: false`, and exits 0 unless `fail-on-unhealthy` is true, when it fails the step
// with the same names.
import { emulatorAdmin } from '../support/emulator-admin.ts';
import { bundleAgainstEmulator } from '../support/run-bundle.ts';

const ZONE = 'europe-west1-b';
const action = bundleAgainstEmulator('honest-reports');
const firstLine = (md: string) => md.split('\n')[0];

test('a refused run says so in the first line of its summary', async () => {
  const refused = await action.run({ operation: 'down', 'delete-nodes': 'false', 'gce-zone': ZONE });
  expect(refused.code).toBe(1);
  expect(firstLine(refused.summary)).toMatch(
    /^## ha-masters: down `kubernetes-master` in project `honest-reports`: REFUSED, nothing was changed; a re-run refuses again until the cause below is fixed$/,
  );
  expect(refused.summary).toMatch(/\*\*Refused\*\*: .*Nothing was changed/);
  expect(refused.summary).not.toMatch(/No changes/);
}, 120_000);

test('status of a cluster with a dead etcd member: UNHEALTHY, healthy=false; fail-on-unhealthy fails the step', async () => {
  const up = await action.run({ operation: 'up', 'gce-zone': ZONE, multizone: 'true', replicas: '3' });
  expect(up.code).toBe(0);
  expect(up.outputs.healthy).toBe('true');
  expect(firstLine(up.summary)).toMatch(/: done, changed the cluster \(\d+ writes\)$/);
  const replicas = JSON.parse(up.outputs['replicas-json']!) as { name: string; zone: string; memberId: string }[];
  expect(replicas.every((r) => /^[0-9a-f]{1,16}$/.test(r.memberId))).toBe(true);
  const victim = replicas.find((r) => r.name !== 'kubernetes-master')!;
  await emulatorAdmin(action.emulator().url)('kill-etcd', { zone: victim.zone, instance: victim.name, keepDown: true });

  const status = await action.run({ operation: 'status', 'gce-zone': ZONE });
  expect(status.code).toBe(0);
  expect(status.outputs.healthy).toBe('false');
  expect(firstLine(status.summary)).toBe(
    `## ha-masters: status \`kubernetes-master\` in project \`honest-reports\`: UNHEALTHY: ${victim.name}: its etcd member does not answer`,
  );

  const strict = await action.run({ operation: 'status', 'gce-zone': ZONE, 'fail-on-unhealthy': 'true' });
  expect(strict.code).toBe(1);
  expect(strict.outputs.healthy).toBe('false');
  expect(strict.stdout).toContain(
    `::error::ha-masters: kubernetes-master is unhealthy, and fail-on-unhealthy is true: ${victim.name}: its etcd member does not answer. Fix: replace each unhealthy replica`,
  );
}, 240_000);
