// The bundled action against an emulator, as the runner starts it, with stdout and stderr both
// kept (run-dist.ts lets stderr through): for tests that scan everything a run prints.
// HA_MASTERS_BUNDLE names another bundle (`bash scripts/bundle.sh <dir>`) to test instead of dist/.
import { afterAll, beforeAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../emulator/index.ts';
import { emulatorAdmin } from './emulator-admin.ts';
import { parseGithubOutput } from '../../scripts/runner-files.ts';

const BUNDLE = process.env.HA_MASTERS_BUNDLE ?? 'dist/index.js';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;

export interface BundleRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** What the run wrote to the job summary. */
  summary: string;
}

export interface BundleVm {
  name: string;
  status: string;
  zone: string;
  labels?: Record<string, string>;
}

/** Loopback octets (127.B.x.y) of this file's running emulators. */
const octetsInUse = new Set<number>();

/**
 * For one test file: an emulator (process runtime) and a temp directory for its runs, started
 * before its tests; after them, runs that never ended are killed by PID and everything is removed.
 * A file may call it more than once for emulators that run side by side: each gets its own
 * loopback octet (an emulator draws one at random; one drawn by another of this file's running
 * emulators is drawn again), so their VMs never bind the same addresses.
 */
export function bundleAgainstEmulator(project: string) {
  let started: Emulator | undefined;
  let tmp: string | undefined;
  const emulator = (): Emulator => started!;
  const dir = (): string => tmp!;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), `ha-${project}-`));
    const stateDir = join(tmp, 'state');
    for (;;) {
      started = await startEmulator({ port: 0, stateDir, lbProgrammingDelayMs: 200, vmRuntime: 'process', log: () => {} });
      if (!octetsInUse.has(started.ctx.meta.value.octet)) break;
      await started.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
    octetsInUse.add(started.ctx.meta.value.octet);
  }, 60_000);
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await started?.stop();
    if (started) octetsInUse.delete(started.ctx.meta.value.octet);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  /** Runs the bundle to its end; `env` adds to (or overrides) the runner's variables. `started` gets the child at once. */
  async function run(
    inputs: Record<string, string>,
    extra: { env?: NodeJS.ProcessEnv; started?: (child: ChildProcess) => void } = {},
  ): Promise<BundleRun> {
    const output = join(dir(), `output-${Math.random()}`);
    const summary = join(dir(), `summary-${Math.random()}`);
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const e = emulator();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      RUNNER_TEMP: dir(),
      GCE_METADATA_HOST: `${e.host}:${e.port}`,
      ...extra.env,
    };
    const all = { project, 'compute-endpoint': e.url, 'secret-manager-endpoint': e.url, ...inputs };
    for (const [k, v] of Object.entries(all)) env[`INPUT_${k.toUpperCase()}`] = v;
    const child = spawn(process.execPath, [BUNDLE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    extra.started?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    children.delete(child);
    return { code, stdout, stderr, outputs: parseGithubOutput(readFileSync(output, 'utf8')), summary: readFileSync(summary, 'utf8') };
  }

  /** How many requests the emulator has logged: a mark for writesSince. */
  async function requestCount(): Promise<number> {
    return ((await emulatorAdmin(emulator().url)('requests')) as { requests: unknown[] }).requests.length;
  }

  /** Calls since `mark` that could have changed something: anything but a read (waiting for an operation is one), admin calls aside. */
  async function writesSince(mark: number): Promise<string[]> {
    const { requests } = (await emulatorAdmin(emulator().url)('requests')) as { requests: { method: string; path: string }[] };
    return requests
      .slice(mark)
      .filter((r) => r.method !== 'GET' && !r.path.startsWith('/_emulator') && !/\/operations\/[^/]+\/wait$/.test(r.path))
      .map((r) => `${r.method} ${r.path}`);
  }

  /** The emulator's admin API (emulator-admin.ts). */
  const admin = (action: string, body?: unknown) => emulatorAdmin(emulator().url)(action, body);

  /** The labels of the cluster's static address (the lock and the journal), as any client reads them. */
  async function addressLabels(name = 'kubernetes-master-ip', region = 'europe-west1'): Promise<Record<string, string>> {
    const res = await fetch(`${emulator().url}/compute/v1/projects/${project}/regions/${region}/addresses/${name}`);
    return ((await res.json()) as { labels?: Record<string, string> }).labels ?? {};
  }

  /** Every VM of the project, with its zone's short name. */
  async function instances(): Promise<BundleVm[]> {
    const res = await fetch(`${emulator().url}/compute/v1/projects/${project}/aggregated/instances`);
    const items = ((await res.json()) as { items?: Record<string, { instances?: BundleVm[] }> }).items ?? {};
    return Object.values(items)
      .flatMap((z) => z.instances ?? [])
      .map((v) => ({ ...v, zone: v.zone.split('/').pop()! }));
  }

  return { emulator, dir, run, requestCount, writesSince, admin, addressLabels, instances };
}

/** What users see: the runner swallows `::add-mask::` lines (and masks their values everywhere else). */
export function visibleOutput(r: BundleRun): string {
  return [...r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')), r.stderr].join('\n');
}
