// The bundled action, run the way the GitHub runner runs it: `node dist/index.js` with INPUT_*
// variables and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, against the emulator.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../emulator/index.ts';
import { parseGithubOutput } from '../../scripts/runner-files.ts';

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ha-dist-'));
  emulator = await startEmulator({ port: 0, stateDir: join(dir, 'state'), lbProgrammingDelayMs: 200, log: () => {} });
}, 60_000);
afterAll(async () => {
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** Async on purpose: the emulator serves from this process, so a blocking spawn would starve it. */
async function runDist(inputs: Record<string, string>) {
  const output = join(dir, `output-${Math.random()}`);
  const summary = join(dir, `summary-${Math.random()}`);
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, 'INPUT_COMPUTE-ENDPOINT': emulator.url };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const res = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, ['dist/index.js'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.on('exit', (status) => resolve({ status, stdout }));
  });
  const outputs = parseGithubOutput(readFileSync(output, 'utf8'));
  return { code: res.status, stdout: res.stdout, outputs, summary: readFileSync(summary, 'utf8') };
}

test('kube-up line from the docs creates the cluster; outputs and summary are written', async () => {
  const r = await runDist({ project: 'dist-test', 'kube-env': 'MULTIZONE=true KUBE_GCE_ZONE=europe-west1-b ENABLE_ETCD_QUORUM_READS=true ./cluster/kube-up.sh' });
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
