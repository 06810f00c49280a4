// Runs the bundled action (dist/index.js) the way the GitHub runner does: INPUT_* variables and
// GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, optionally behind a command prefix (`ip netns exec
// <vpc>`: a self-hosted runner inside the emulated VPC). Asynchronous on purpose: the emulator
// serves from the test process, so a blocking spawn would starve it.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseGithubOutput } from '../../scripts/runner-files.ts';

export interface DistRun {
  code: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

export async function runDist(
  dir: string,
  inputs: Record<string, string>,
  extraEnv: NodeJS.ProcessEnv = {},
  prefix: string[] = [],
): Promise<DistRun> {
  const output = join(dir, `output-${Math.random()}`);
  const summary = join(dir, `summary-${Math.random()}`);
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    RUNNER_TEMP: dir,
    ...extraEnv,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const argv = [...prefix, process.execPath, 'dist/index.js'];
  const res = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.on('exit', (status) => resolve({ status, stdout }));
  });
  const outputs = parseGithubOutput(readFileSync(output, 'utf8'));
  return { code: res.status, stdout: res.stdout, outputs, summary: readFileSync(summary, 'utf8') };
}

/** kubectl from the test process (outside any VPC): `get --raw <path>` with the given kubeconfig. */
export function kubectlRaw(kubeconfig: string, path: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, 'get', '--raw', path, '--request-timeout=10s'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}
