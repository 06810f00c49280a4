// The bundled action, run the way the GitHub runner runs it: `node dist/index.js` with INPUT_*
// variables and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, against the emulator's process runtime
// (inputs, refusals, masking, PR comments); dist-debian.test.ts runs it on Debian VMs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../emulator/index.ts';
import { kubectlRaw, runDist as runDistAs } from '../support/run-dist.ts';
import { startGithubApi } from '../support/github-api.ts';

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ha-dist-'));
  emulator = await startEmulator({ port: 0, stateDir: join(dir, 'state'), lbProgrammingDelayMs: 200, vmRuntime: 'process', log: () => {} });
}, 60_000);
afterAll(async () => {
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const runDist = (inputs: Record<string, string>, extraEnv: NodeJS.ProcessEnv = {}) =>
  runDistAs(
    dir,
    { 'compute-endpoint': emulator.url, 'secret-manager-endpoint': emulator.url, ...inputs },
    { GCE_METADATA_HOST: `${emulator.host}:${emulator.port}`, ...extraEnv },
  );

test('kube-up line from the docs creates the cluster; outputs and summary are written', async () => {
  const r = await runDist({
    project: 'dist-test',
    'kube-env': 'MULTIZONE=true KUBE_GCE_ZONE=europe-west1-b ENABLE_ETCD_QUORUM_READS=true ./cluster/kube-up.sh',
  });
  expect(r.code).toBe(0);
  expect(r.outputs['external-ip']).toMatch(/^127\.\d+\.\d+\.\d+$/);
  expect(r.outputs['replica-count']).toBe('1');
  expect(r.outputs['load-balancer']).toBe('false');
  expect(r.outputs.changed).toBe('true');
  expect(r.outputs['replica-name']).toBe('kubernetes-master');
  const replicas = JSON.parse(r.outputs['replicas-json']!);
  expect(replicas[0]).toMatchObject({ name: 'kubernetes-master', zone: 'europe-west1-b', status: 'RUNNING', role: 'voter', healthy: true });
  expect(r.summary).toContain('kubernetes-master');
  // The runner swallows ::add-mask:: commands; every other line is what users see.
  const visible = r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'));
  const masks = r.stdout.split('\n').filter((l) => l.startsWith('::add-mask::'));
  expect(visible.join('\n')).not.toMatch(/PRIVATE KEY|MIG[A-Za-z0-9+/]{20}/);
  expect(masks.length).toBeGreaterThan(4);
  expect(new Set(masks).size).toBe(masks.length);
  expect(masks.every((l) => !l.includes('%0A'))).toBe(true);

  // The kubeconfig output: under RUNNER_TEMP, 0600, its key masked, and kubectl gets through with it.
  const kubeconfig = r.outputs.kubeconfig!;
  expect(kubeconfig.startsWith(dir)).toBe(true);
  expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
  const keyData = /client-key-data: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))![1]!;
  expect(masks).toContain(`::add-mask::${keyData}`);
  expect(await kubectlRaw(kubeconfig, '/readyz')).toEqual({ code: 0, out: 'ok' });
}, 240_000);

test('a refused request fails the step with what, why and how to fix, and changes nothing', async () => {
  const r = await runDist({ project: 'dist-test', operation: 'up', 'replicate-existing-master': 'true', 'gce-zone': 'us-central1-a' });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/::error::ha-masters failed with: .*us-central1-a is in region us-central1.*Nothing was changed/);
}, 120_000);

test('a bad input fails before any call, listing every problem', async () => {
  const r = await runDist({ project: 'dist-test', operation: 'upp', replicas: 'two' });
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('operation');
  expect(r.stdout).toContain('replicas');
  expect(r.stdout).toMatch(/nothing was changed/i);
}, 60_000);

test('status reads only and reports the same external IP', async () => {
  const first = await runDist({ project: 'dist-test', operation: 'status', 'gce-zone': 'europe-west1-b' });
  expect(first.code).toBe(0);
  expect(first.outputs.changed).toBe('false');
  expect(first.outputs['replica-count']).toBe('1');
}, 120_000);

test('on a pull request, keeps one comment with the summary: created once, then updated; the token is masked', async () => {
  const api = await startGithubApi('acme', 'infra', 7);
  const event = join(dir, 'event.json');
  writeFileSync(event, JSON.stringify({ pull_request: { number: 7 } }));
  const env = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event, GITHUB_REPOSITORY: 'acme/infra', GITHUB_API_URL: api.url };
  const token = 'ghs_exampletoken0123456789';
  try {
    const first = await runDist(
      {
        project: 'dist-test',
        operation: 'status',
        'gce-zone': 'europe-west1-b',
        'instance-prefix': 'kubernetes',
        'pr-comment': 'true',
        'github-token': token,
      },
      env,
    );
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`::add-mask::${token}`);
    expect(
      first.stdout
        .split('\n')
        .filter((l) => !l.startsWith('::add-mask::'))
        .join('\n'),
    ).not.toContain(token);
    expect(api.comments).toHaveLength(1);
    expect(api.comments[0]!.body.startsWith('<!-- ha-masters:kubernetes-master -->\n## ha-masters: status')).toBe(true);
    expect(api.comments[0]!.body).toContain(first.outputs['external-ip']!);
    const second = await runDist(
      {
        project: 'dist-test',
        operation: 'status',
        'gce-zone': 'europe-west1-b',
        'instance-prefix': 'kubernetes',
        'pr-comment': 'true',
        'github-token': token,
      },
      env,
    );
    expect(second.code).toBe(0);
    expect(api.comments).toHaveLength(1);
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /repos/acme/infra/issues/7/comments',
      'POST /repos/acme/infra/issues/7/comments',
      'GET /repos/acme/infra/issues/7/comments',
      'PATCH /repos/acme/infra/issues/comments/1000',
    ]);
    expect(api.requests.every((r) => r.authorization === `token ${token}`)).toBe(true);
  } finally {
    await api.stop();
  }
}, 120_000);

test('pr-comment without a token is refused before anything runs', async () => {
  const r = await runDist({ project: 'dist-test', operation: 'status', 'pr-comment': 'true' });
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('pr-comment');
  expect(r.stdout).toContain('github-token: ${{ github.token }}');
}, 60_000);

test('outside a runner (no GITHUB_STEP_SUMMARY / GITHUB_OUTPUT files) the summary goes to the log and the run succeeds', async () => {
  const r = await runDist(
    { project: 'dist-test', operation: 'status', 'gce-zone': 'europe-west1-b' },
    { GITHUB_STEP_SUMMARY: '', GITHUB_OUTPUT: '' },
  );
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('## ha-masters: status `kubernetes-master`');
  expect(r.stdout).toContain('::set-output name=replica-count::1');
}, 60_000);

test('on a GitHub-hosted runner the bundle reaches the replicas through IAP (auto), keeps the IAP rule, and stops with the role to grant when IAP refuses', async () => {
  const hosted = {
    RUNNER_ENVIRONMENT: 'github-hosted',
    GCE_METADATA_HOST: `${emulator.host}:${emulator.port}`,
    NODE_EXTRA_CA_CERTS: emulator.iapCaFile,
  };
  const iapStats = async () =>
    (await (await fetch(`${emulator.url}/_emulator/iap`)).json()) as { sessions: { opened: number }; tokensIssued: number };
  const before = await iapStats();
  const r = await runDist(
    { project: 'dist-test', operation: 'up', 'gce-zone': 'europe-west1-b', 'iap-endpoint': emulator.iapRelayUrl },
    hosted,
  );
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('replicas are reached through IAP TCP forwarding');
  expect(r.stdout).toContain('create firewall kubernetes-master-iap');
  expect(JSON.parse(r.outputs['replicas-json']!)[0]).toMatchObject({ name: 'kubernetes-master', healthy: true });
  const after = await iapStats();
  expect(after.sessions.opened).toBeGreaterThan(before.sessions.opened);
  expect(after.tokensIssued).toBeGreaterThan(before.tokensIssued);
  const rule = await fetch(`${emulator.url}/compute/v1/projects/dist-test/global/firewalls/kubernetes-master-iap`);
  expect(((await rule.json()) as { sourceRanges: string[] }).sourceRanges).toEqual(['35.235.240.0/20']);

  await fetch(`${emulator.url}/_emulator/iap-fault`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refuse: 403, persistent: true }),
  });
  try {
    const refused = await runDist(
      {
        project: 'dist-test',
        operation: 'up',
        'replicate-existing-master': 'true',
        'gce-zone': 'europe-west1-c',
        'iap-endpoint': emulator.iapRelayUrl,
      },
      hosted,
    );
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /::error::ha-masters failed with: IAP refused a tunnel to kubernetes-master .*Nothing was changed\. Fix: Grant it roles\/iap\.tunnelResourceAccessor/,
    );
  } finally {
    await fetch(`${emulator.url}/_emulator/clear-faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  }
}, 120_000);
