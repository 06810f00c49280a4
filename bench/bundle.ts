// How lean is the bundled action? Two figures, side by side with what they are measured against:
//  - the size of the bundle directory (everything the runner checks out and may load);
//  - its cold start: process start to the first Compute request, for `status` against the emulator
//    (in its own process, behind a recording proxy here), next to `node -e 0` (Node's own start),
//    alternating, median of N each.
// Targets (issue 11): the bundle at most 4 MB, the cold start at most 0.2 s.
//
//   node bench/bundle.ts [--bundle dist] [--runs 10]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { bundle: { type: 'string', default: 'dist' }, runs: { type: 'string', default: '10' } } });
const BUNDLE = values.bundle!;
const RUNS = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'bench-bundle-'));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;
const ms = (t: number): string => `${Math.round(t)} ms`;

function filesOf(root: string): { path: string; bytes: number }[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return { path: relative(root, path), bytes: statSync(path).size };
    });
}

/** The emulator CLI as its own process (no VMs: only the API is asked); resolves once it listens. */
async function startEmulatorProcess(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['emulator/cli.ts', '--port', '0', '--state-dir', join(dir, 'state'), '--no-vms'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  for await (const line of createInterface({ input: child.stdout! })) {
    const listening = /^listening on (http:\/\/[\d.]+:\d+)$/.exec(line);
    if (listening) {
      return {
        url: listening[1]!,
        stop: () =>
          new Promise((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    }
  }
  throw new Error('the emulator exited before it listened');
}

/** A pass-through proxy that notes when the first Compute request of each run arrives. */
async function startRecordingProxy(
  target: string,
): Promise<{ url: string; firstRequestAt: () => number | undefined; reset: () => void; stop: () => Promise<void> }> {
  const upstream = new URL(target);
  let first: number | undefined;
  const server = http.createServer((req, res) => {
    if (first === undefined && req.url?.startsWith('/compute/v1/')) first = performance.now();
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    firstRequestAt: () => first,
    reset: () => void (first = undefined),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Spawns `args` and resolves with its exit code once it ends; `t0` is taken just before the spawn. */
function timedRun(args: string[], env: NodeJS.ProcessEnv): Promise<{ t0: number; exitAt: number; code: number | null; stderr: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ t0, exitAt: performance.now(), code, stderr })));
}

const files = filesOf(BUNDLE);
const total = files.reduce((sum, f) => sum + f.bytes, 0);
const emulator = await startEmulatorProcess();
const proxy = await startRecordingProxy(emulator.url);
try {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUNNER_TEMP: dir,
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
  };
  const inputs = {
    project: 'bench-bundle',
    operation: 'status',
    'gce-zone': 'europe-west1-b',
    'compute-endpoint': proxy.url,
    'secret-manager-endpoint': emulator.url,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;

  const bare: number[] = [];
  const action: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const node = await timedRun(['-e', '0'], env);
    bare.push(node.exitAt - node.t0);
    proxy.reset();
    const run = await timedRun([join(BUNDLE, 'index.js')], env);
    const first = proxy.firstRequestAt();
    if (first === undefined) throw new Error(`the action made no Compute request (exit ${run.code}):\n${run.stderr}`);
    action.push(first - run.t0);
  }

  const coldStart = median(action);
  const nodeStart = median(bare);
  console.log(`bundle ${BUNDLE}/: ${mb(total)} in ${files.length} files (target <= 4 MB); largest:`);
  for (const f of [...files].sort((a, b) => b.bytes - a.bytes).slice(0, 3)) console.log(`  ${mb(f.bytes).padStart(8)}  ${f.path}`);
  console.log(`cold start, process start to the first Compute request (median of ${RUNS}, alternating):`);
  console.log(`  node -e 0                 ${ms(nodeStart).padStart(7)}`);
  console.log(
    `  node ${join(BUNDLE, 'index.js').padEnd(20)} ${ms(coldStart).padStart(7)}  (${(coldStart / nodeStart).toFixed(1)}x node -e 0, +${ms(coldStart - nodeStart)}; target <= 200 ms)`,
  );
} finally {
  await proxy.stop();
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
}
