// Issue 13, labels: a cluster made in a pull request's run is named pr-<number> and its address,
// VM and key secrets carry the pull request, the repository and the expiry `ttl` after the last
// up; a run right after writes nothing; a later up moves the expiry; status never does.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleAgainstEmulator } from '../support/run-bundle.ts';

const PROJECT = 'pr-labels';
const action = bundleAgainstEmulator(PROJECT);

function pullRequestEnv(pr: number): NodeJS.ProcessEnv {
  const event = join(mkdtempSync(join(tmpdir(), 'ha-event-')), 'event.json');
  writeFileSync(event, JSON.stringify({ action: 'synchronize', pull_request: { number: pr } }));
  return { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event, GITHUB_REPOSITORY: 'Acme/Infra' };
}

/** A secret as the runner's identity reads it (the emulator's metadata server hands out its token). */
async function secret(id: string): Promise<{ labels: Record<string, string> }> {
  const { url } = action.emulator();
  const token = (await (
    await fetch(`${url}/computeMetadata/v1/instance/service-accounts/default/token`, { headers: { 'Metadata-Flavor': 'Google' } })
  ).json()) as { access_token: string };
  const res = await fetch(`${url}/v1/projects/${PROJECT}/secrets/${id}`, { headers: { authorization: `Bearer ${token.access_token}` } });
  return (await res.json()) as { labels: Record<string, string> };
}

const expiresIn = (labels: Record<string, string>) => Number(labels['ha-masters-expires-at']) - Date.now() / 1000;

test('a pull request cluster: named pr-<number>, every labelled resource says whose it is and when it expires', async () => {
  const env = pullRequestEnv(42);
  const up = await action.run({ operation: 'up', 'gce-zone': 'europe-west1-b', ttl: '1h' }, { env });
  expect(up.code).toBe(0);
  const address = await action.addressLabels('pr-42-master-ip');
  expect(address).toMatchObject({ 'ha-masters-cluster': 'pr-42-master', 'ha-masters-pr': '42', 'ha-masters-repo': 'acme-infra' });
  expect(expiresIn(address)).toBeGreaterThan(3500);
  expect(expiresIn(address)).toBeLessThanOrEqual(3600);
  const [vm] = await action.instances();
  expect(vm).toMatchObject({
    name: 'pr-42-master',
    labels: expect.objectContaining({ 'ha-masters-pr': '42', 'ha-masters-repo': 'acme-infra' }),
  });
  // Each resource's expiry is ttl after its own creation, seconds apart.
  expect(Math.abs(expiresIn(vm!.labels!) - expiresIn(address))).toBeLessThan(30);
  const clusterKeys = await secret('pr-42-master-cluster-keys');
  expect(clusterKeys?.labels).toMatchObject({ 'ha-masters-pr': '42', 'ha-masters-repo': 'acme-infra' });
  expect(Math.abs(expiresIn(clusterKeys!.labels) - expiresIn(address))).toBeLessThan(30);

  // Within the tolerance (a tenth of ttl, at most 5 minutes): nothing to write.
  const mark = await action.requestCount();
  const again = await action.run({ operation: 'up', 'gce-zone': 'europe-west1-b', ttl: '1h' }, { env });
  expect(again.code).toBe(0);
  expect(await action.writesSince(mark)).toEqual([]);
  expect(again.outputs.changed).toBe('false');

  // status does not move it, even with a ttl.
  const looked = await action.run({ operation: 'status', ttl: '2h' }, { env });
  expect(looked.code).toBe(0);
  expect(await action.writesSince(mark)).toEqual([]);

  // A later up (here: with a longer ttl) moves it on the VM and the address, and says so.
  const later = await action.run({ operation: 'up', 'gce-zone': 'europe-west1-b', ttl: '2h' }, { env });
  expect(later.code).toBe(0);
  const moved = await action.addressLabels('pr-42-master-ip');
  expect(expiresIn(moved)).toBeGreaterThan(7100);
  expect((await action.instances())[0]!.labels!['ha-masters-expires-at']).toBe(moved['ha-masters-expires-at']);
  expect(later.summary).toContain('ha-masters-expires-at');
  expect((await action.writesSince(mark)).filter((w) => /\/instances\/pr-42-master\/setLabels$/.test(w))).toHaveLength(1);
}, 180_000);
