// Issue 13, the janitor, through the bundled action against the emulator and a GitHub stand-in:
// five clusters (expired, fresh, expired but kept, a closed and an open pull request's); a dry run
// writes nothing and says what it would delete and why; without a token only expiry counts; a
// janitor killed in the middle of a teardown is finished by the next one, which deletes exactly
// the expired cluster and the closed pull request's; a cluster whose teardown fails does not stop
// the others. The tests run in order.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleAgainstEmulator } from '../support/run-bundle.ts';
import { startGithubApi } from '../support/github-api.ts';

const PROJECT = 'janitor';
const ZONE = 'europe-west1-b';
const action = bundleAgainstEmulator(PROJECT);
let github: Awaited<ReturnType<typeof startGithubApi>>;

function pullRequestEnv(pr: number): NodeJS.ProcessEnv {
  const event = join(mkdtempSync(join(tmpdir(), 'ha-event-')), 'event.json');
  writeFileSync(event, JSON.stringify({ action: 'opened', pull_request: { number: pr } }));
  return { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event, GITHUB_REPOSITORY: 'acme/infra' };
}
/** A scheduled janitor's environment, pointed at the GitHub stand-in. */
const scheduled = (): NodeJS.ProcessEnv => ({ GITHUB_EVENT_NAME: 'schedule', GITHUB_REPOSITORY: 'acme/infra', GITHUB_API_URL: github.url });
const TOKEN = 'ghs_janitortoken0123456789';

async function addressOf(prefix: string): Promise<{ labels?: Record<string, string>; labelFingerprint?: string } | undefined> {
  const res = await fetch(`${action.emulator().url}/compute/v1/projects/${PROJECT}/regions/europe-west1/addresses/${prefix}-master-ip`);
  return res.status === 404 ? undefined : ((await res.json()) as { labels?: Record<string, string>; labelFingerprint?: string });
}

/** The keep label, set on the address as a person would with gcloud. */
async function keep(prefix: string): Promise<void> {
  const a = (await addressOf(prefix))!;
  const res = await fetch(
    `${action.emulator().url}/compute/v1/projects/${PROJECT}/regions/europe-west1/addresses/${prefix}-master-ip/setLabels`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ labels: { ...a.labels, 'ha-masters-keep': 'true' }, labelFingerprint: a.labelFingerprint }),
    },
  );
  expect(res.ok).toBe(true);
  for (let i = 0; i < 100 && !(await addressOf(prefix))?.labels?.['ha-masters-keep']; i++) await new Promise((r) => setTimeout(r, 100));
}

/** The summary table's row of one cluster. */
const row = (summary: string, master: string) =>
  summary.split('\n').find((l) => l.startsWith(`| \`${master}\``)) ?? `(no row for ${master})`;

beforeAll(async () => {
  github = await startGithubApi('acme', 'infra', 5);
  github.pulls.set(5, { state: 'closed', merged: true });
  github.pulls.set(6, { state: 'open' });
  const up = (inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}) =>
    action.run({ operation: 'up', 'gce-zone': ZONE, ...inputs }, { env });
  const made = await Promise.all([
    up({ 'instance-prefix': 'ttl-gone', ttl: '1s' }),
    up({ 'instance-prefix': 'ttl-fresh', ttl: '24h' }),
    up({ 'instance-prefix': 'ttl-kept', ttl: '1s' }),
    up({ ttl: '24h' }, pullRequestEnv(5)),
    up({ ttl: '24h' }, pullRequestEnv(6)),
  ]);
  for (const r of made)
    expect([
      r.code,
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith('::error'))
        .join('\n'),
    ]).toEqual([0, '']);
  await keep('ttl-kept');
  await new Promise((r) => setTimeout(r, 1500)); // the 1 s ttls run out
}, 180_000);
afterAll(async () => github?.stop());

test('a dry run writes nothing and lists every cluster: what it would delete and why', async () => {
  const mark = await action.requestCount();
  const r = await action.run({ operation: 'janitor', 'dry-run': 'true', 'github-token': TOKEN }, { env: scheduled() });
  expect(r.code).toBe(0);
  expect(await action.writesSince(mark)).toEqual([]);
  expect(r.summary).toContain('dry run of janitor');
  expect(row(r.summary, 'ttl-gone-master')).toMatch(/\*\*would delete\*\* \| it expired at /);
  expect(row(r.summary, 'pr-5-master')).toMatch(/#5 .*\*\*would delete\*\* \| its pull request #5 is merged/);
  expect(row(r.summary, 'ttl-fresh-master')).toMatch(/\*\*kept\*\* \| it expires at /);
  expect(row(r.summary, 'ttl-kept-master')).toMatch(/\*\*kept\*\* \| it carries the keep label ha-masters-keep/);
  expect(row(r.summary, 'pr-6-master')).toMatch(/\*\*kept\*\* \| its pull request #6 is open/);
  expect(github.requests.map((q) => `${q.method} ${q.path}`).sort()).toEqual([
    'GET /repos/acme/infra/pulls/5',
    'GET /repos/acme/infra/pulls/6',
  ]);
}, 120_000);

test('without a token it still judges by expiry, and says it could not check the pull requests', async () => {
  const r = await action.run({ operation: 'janitor', 'dry-run': 'true' }, { env: scheduled() });
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('could not check the state of pull requests (github-token is empty)');
  expect(row(r.summary, 'ttl-gone-master')).toContain('**would delete**');
  expect(row(r.summary, 'pr-5-master')).toMatch(/\*\*kept\*\* .*unknown \(no github-token/);
}, 120_000);

test('a janitor killed in the middle of a teardown is finished by the next run; kept clusters are untouched', async () => {
  const mark = await action.requestCount();
  let child: ChildProcess | undefined;
  const killed = action.run({ operation: 'janitor', 'github-token': TOKEN }, { env: scheduled(), started: (c) => (child = c) });
  // pr-5-master comes first: killed right after its VM's delete was asked for.
  for (let i = 0; i < 600 && !(await action.writesSince(mark)).some((w) => /^DELETE .*\/instances\/pr-5-master$/.test(w)); i++)
    await new Promise((r) => setTimeout(r, 50));
  child!.kill('SIGKILL');
  expect((await killed).code).not.toBe(0);
  expect((await addressOf('pr-5'))?.labels?.['ha-masters-lock']).toMatch(/^janitor-pr-5_/);

  const again = await action.run({ operation: 'janitor', 'github-token': TOKEN, 'pr-comment': 'true' }, { env: scheduled() });
  expect([again.code, again.stderr]).toEqual([0, '']);
  // The closed pull request's comment says its cluster is gone.
  expect(github.comments.map((c) => c.body)).toEqual([
    expect.stringMatching(
      /^<!-- ha-masters:pr-5-master -->\n[^]*`pr-5-master` is gone: the janitor tore it down, since its pull request #5 is merged\./,
    ),
  ]);
  expect(row(again.summary, 'pr-5-master')).toContain('**deleted**');
  expect(row(again.summary, 'ttl-gone-master')).toContain('**deleted**');
  expect(again.outputs.changed).toBe('true');
  for (const gone of ['pr-5', 'ttl-gone']) expect(await addressOf(gone)).toBeUndefined();
  const left = (await action.instances()).map((vm) => vm.name).sort();
  expect(left).toEqual(['pr-6-master', 'ttl-fresh-master', 'ttl-kept-master']);
  for (const kept of ['pr-6', 'ttl-fresh', 'ttl-kept']) expect(await addressOf(kept)).toBeDefined();

  // Nothing is due any more: the next janitor writes nothing.
  const quiet = await action.requestCount();
  const third = await action.run({ operation: 'janitor', 'github-token': TOKEN }, { env: scheduled() });
  expect(third.code).toBe(0);
  expect(await action.writesSince(quiet)).toEqual([]);
  expect(third.outputs.changed).toBe('false');
}, 240_000);

test('a cluster whose teardown fails does not stop the others; the step fails at the end, naming it; the next run finishes it', async () => {
  const made = await Promise.all(
    ['ttl-bad', 'ttl-ok'].map((prefix) => action.run({ operation: 'up', 'gce-zone': ZONE, 'instance-prefix': prefix, ttl: '1s' })),
  );
  for (const r of made) expect(r.code).toBe(0);
  await new Promise((r) => setTimeout(r, 1500));
  await action.admin('fail', { method: 'DELETE', path: '/firewalls/ttl-bad-master-https$', times: 100, status: 403 });
  const r = await action.run({ operation: 'janitor', 'github-token': TOKEN }, { env: scheduled() });
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('::error::ha-masters janitor: the teardown of ttl-bad-master failed');
  expect(row(r.summary, 'ttl-bad-master')).toMatch(/\*\*failed\*\* \| it expired at .*; the teardown failed: /);
  // ttl-ok-master comes after it, and went.
  expect(row(r.summary, 'ttl-ok-master')).toContain('**deleted**');
  expect(await addressOf('ttl-ok')).toBeUndefined();
  expect(await addressOf('ttl-bad')).toBeDefined();

  await action.admin('clear-faults', {});
  const again = await action.run({ operation: 'janitor', 'github-token': TOKEN }, { env: scheduled() });
  expect(again.code).toBe(0);
  expect(row(again.summary, 'ttl-bad-master')).toContain('**deleted**');
  expect(await addressOf('ttl-bad')).toBeUndefined();
}, 240_000);
