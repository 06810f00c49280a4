// `npm run demo`: the action's main job on the local emulator, no cloud account needed.
// Starts the Compute Engine emulator, then runs the bundled action (dist/index.js) the way a GitHub
// runner does (INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files) for each workflow
// step below, prints outputs and summaries, and stops everything it started.
//
// Where the host allows it (root, namespaces), the masters are real Debian 12 VMs that boot the
// action's start-up script and download their binaries from the emulator's release mirror. The
// action then runs as on a GitHub-hosted runner, outside the VPC: it reaches etcd and the
// apiservers through the emulator's IAP relay (`transport: auto` picks IAP there), with a token
// from Application Default Credentials (the emulator plays the runner's metadata server), and
// kubectl reaches the cluster through its external IP. `--inside-vpc` runs the action as a
// self-hosted runner inside the VPC instead. Elsewhere (or with `--vm-runtime process`) masters are
// host processes on loopback addresses.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../emulator/index.ts';
import type { DebianRuntime } from '../emulator/vm/runtime.ts';
import { API_IP, MIRROR_IP } from '../emulator/vm/names.ts';
import { DEFAULT_IMAGE_CACHE } from '../emulator/vm/image.ts';
import { debianRuntimeSupport } from '../emulator/vm/support.ts';
import { parseGithubOutput } from './runner-files.ts';
import { allowSelfHostedRunner, RUNNER_FIREWALL } from './runner-firewall.ts';

const PROJECT = 'ha-masters-demo';
const root = mkdtempSync(join(tmpdir(), 'ha-masters-demo-'));
const keep = process.argv.includes('--keep');
const wantProcess = process.argv.includes('--vm-runtime') && process.argv[process.argv.indexOf('--vm-runtime') + 1] === 'process';
const support = debianRuntimeSupport(DEFAULT_IMAGE_CACHE);
const debian = !wantProcess && support.ok;
const insideVpc = process.argv.includes('--inside-vpc');

/** Where the action runs: on the host (outside the VPC) or inside the VPC's namespace. */
interface Runner {
  argv: string[];
  inputs: Record<string, string>;
  env: NodeJS.ProcessEnv;
}

function banner(text: string): void {
  console.log(`\n\u001b[1m=== ${text} ===\u001b[0m`);
}

/** Runs dist/index.js as the runner would, returns its outputs. */
async function runAction(runner: Runner, inputs: Record<string, string>): Promise<{ code: number; outputs: Record<string, string> }> {
  const outFile = join(root, `out-${Date.now()}`);
  const summaryFile = join(root, `summary-${Date.now()}`);
  writeFileSync(outFile, '');
  writeFileSync(summaryFile, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...runner.env,
    GITHUB_OUTPUT: outFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: root,
    INPUT_PROJECT: PROJECT,
  };
  for (const [k, v] of Object.entries({ ...runner.inputs, ...inputs })) env[`INPUT_${k.toUpperCase()}`] = v;
  const code = await new Promise<number>((resolve) => {
    const argv = [...runner.argv, process.execPath, 'dist/index.js'];
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n'))
        if (line && !line.startsWith('::debug::') && !line.startsWith('::add-mask::')) console.log(`  | ${line}`); // the runner hides these too
    });
    child.on('exit', (c) => resolve(c ?? 1));
  });
  const outputs = parseGithubOutput(readFileSync(outFile, 'utf8'));
  const summary = readFileSync(summaryFile, 'utf8');
  if (summary) console.log(`\n--- job summary ---\n${summary}`);
  return { code, outputs };
}

async function main(): Promise<void> {
  banner('starting the Compute Engine emulator');
  if (!debian)
    console.log(
      wantProcess
        ? 'VM runtime: process (asked for)'
        : `VM runtime: process (Debian VMs are not possible here: ${support.ok ? '' : support.why})`,
    );
  const emulator = await startEmulator({
    port: 0,
    stateDir: join(root, 'state'),
    lbProgrammingDelayMs: 1000,
    vmRuntime: debian ? 'debian' : 'process',
    log: (l) => {
      if (/VM runtime|release manifest|booted|IAP relay at/.test(l)) console.log(`  [emulator] ${l}`);
    },
  });
  console.log(`emulator at ${emulator.url} (state in ${root})`);
  // The runner's Google credentials come from the emulator (its metadata server); Secret Manager is on the API's port.
  let runner: Runner = {
    argv: [],
    inputs: { 'compute-endpoint': emulator.url, 'secret-manager-endpoint': emulator.url },
    env: { GCE_METADATA_HOST: `${emulator.host}:${emulator.port}` },
  };
  if (debian && !insideVpc) {
    // A GitHub-hosted runner: outside the VPC, so `transport: auto` takes IAP. Its credentials come
    // from the (emulated) metadata server; the relay's CA is the emulator's own.
    runner = {
      argv: [],
      inputs: {
        'compute-endpoint': emulator.url,
        'secret-manager-endpoint': emulator.url,
        'iap-endpoint': emulator.iapRelayUrl,
        'release-manifest': emulator.releaseManifestUrl!,
      },
      env: {
        RUNNER_ENVIRONMENT: 'github-hosted',
        GCE_METADATA_HOST: `${emulator.host}:${emulator.port}`,
        NODE_EXTRA_CA_CERTS: emulator.iapCaFile,
      },
    };
    console.log(
      `the action runs outside the VPC, as on a GitHub-hosted runner: it reaches the masters through the IAP relay at ${emulator.iapRelayUrl}`,
    );
  } else if (debian) {
    const ns = await (emulator.runtime as DebianRuntime).ensureVpc('default');
    // A self-hosted runner inside the VPC: the Compute API and the release mirror are reached there.
    runner = {
      argv: ['ip', 'netns', 'exec', ns],
      inputs: {
        'compute-endpoint': `http://${API_IP}`,
        'secret-manager-endpoint': `http://${API_IP}`,
        'release-manifest': `http://${MIRROR_IP}/release/manifest.json`,
      },
      env: { GCE_METADATA_HOST: `${API_IP}:80` },
    };
    console.log(`the action runs inside the VPC (network namespace ${ns}); masters are Debian 12 VMs`);
    // The VPC enforces firewall rules, as GCE does: the runner's owner lets it reach etcd.
    await allowSelfHostedRunner(emulator.url, PROJECT);
    console.log(`firewall rule ${RUNNER_FIREWALL}: the runner may reach tcp:2379 on the masters (a self-hosted runner needs such a rule)`);
  }
  const kubectl = async (kubeconfig: string | undefined): Promise<void> => {
    if (!kubeconfig) throw new Error('the step gave no kubeconfig output');
    banner(`kubectl from outside the VPC, through the external IP: kubectl --kubeconfig ${kubeconfig} get --raw /readyz`);
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('kubectl', ['--kubeconfig', kubeconfig, 'get', '--raw', '/readyz', '--request-timeout=15s'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.on('exit', (c) => (c === 0 ? resolve(text.trim()) : reject(new Error(`kubectl failed (exit ${c})`))));
      child.on('error', reject);
    });
    console.log(`  | ${out}`);
  };
  let failed = false;
  const step = async (title: string, inputs: Record<string, string>) => {
    banner(title);
    console.log(
      Object.entries(inputs)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n'),
    );
    const { code, outputs } = await runAction(runner, inputs);
    console.log(`\n--- outputs ---\n${JSON.stringify(outputs, null, 2)}`);
    if (code !== 0) {
      failed = true;
      throw new Error(`step "${title}" failed (exit ${code})`);
    }
    return outputs;
  };
  try {
    const created = await step('kube-up: an HA-compatible cluster in europe-west1-b', {
      'kube-env': 'MULTIZONE=true KUBE_GCE_ZONE=europe-west1-b ENABLE_ETCD_QUORUM_READS=true ./cluster/kube-up.sh',
    });
    await kubectl(created.kubeconfig);
    const replicated = await step('kube-up: replicate the master into europe-west1-c (1 -> 2 builds the load balancer)', {
      'kube-env': 'KUBE_GCE_ZONE=europe-west1-c KUBE_REPLICATE_EXISTING_MASTER=true ./cluster/kube-up.sh',
    });
    await kubectl(replicated.kubeconfig);
    await step('scale to three replicas (the third goes to the zone with fewest)', { operation: 'up', replicas: '3' });
    banner('breaking one replica: its etcd dies and stays down');
    const status = await step('status', { operation: 'status', 'gce-zone': 'europe-west1-c' });
    const victim = (JSON.parse(status['replicas-json'] ?? '[]') as { name: string; zone: string }[]).find(
      (r) => r.zone === 'europe-west1-c',
    );
    if (!victim) throw new Error('no replica in europe-west1-c to break');
    const res = await fetch(`${emulator.url}/_emulator/kill-etcd`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ zone: victim.zone, instance: victim.name, keepDown: true }),
    });
    console.log(`killed etcd of ${victim.name}: ${res.status}`);
    await step('status: the broken replica shows as unhealthy', { operation: 'status', 'gce-zone': 'europe-west1-c' });
    await step('replace the unhealthy replica in europe-west1-c', { operation: 'replace', 'gce-zone': 'europe-west1-c' });
    await step('status after the repair', { operation: 'status', 'gce-zone': 'europe-west1-b' });
    // A scheduled backup: two snapshots, and etcd-snapshot-keep leaves the newer one only.
    const backups = join(root, 'etcd-backups');
    const snapshot = { operation: 'snapshot', 'gce-zone': 'europe-west1-b', 'etcd-snapshot-dir': backups, 'etcd-snapshot-keep': '1' };
    await step('snapshot: an etcd backup into a directory', snapshot);
    await new Promise((r) => setTimeout(r, 1100)); // snapshot names have second precision
    const kept = await step('snapshot again: etcd-snapshot-keep: 1 deletes the older one', snapshot);
    const files = readdirSync(backups);
    console.log(`  ${backups}: ${files.join(', ')}`);
    if (files.length !== 1 || !kept['etcd-snapshot']?.endsWith(files[0]!)) throw new Error('etcd-snapshot-keep left the wrong files');
    await step('rollout: resize every master to e2-standard-4, one at a time, each new one voting before the old one leaves', {
      operation: 'rollout',
      'gce-zone': 'europe-west1-b',
      'machine-type': 'e2-standard-4',
    });
  } finally {
    banner('stopping the emulator and its VMs');
    await emulator.stop();
    if (!keep) rmSync(root, { recursive: true, force: true });
    console.log(failed ? 'demo FAILED' : 'demo finished: everything it started is stopped');
  }
  if (failed) process.exitCode = 1;
}

await main();
