// gcloud, a client nobody here wrote, against the emulator: create, describe, list (with --filter
// and --format json), delete for instances, disks, addresses, firewalls, target pools, forwarding
// rules and operations. Uses a private CLOUDSDK_CONFIG set up as docs/emulator.md says.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { createNullRuntime } from '../../emulator/null-runtime.ts';
import { admin } from './support/compute.ts';

// gcloud ships with these machines (Google's google-cloud-cli package) but no registry the project
// can reach offers it: where it is missing, say so loudly and skip rather than fail.
const haveGcloud = spawnSync('gcloud', ['--version'], { stdio: 'ignore' }).status === 0;
if (!haveGcloud) console.warn('gcloud is not on PATH: the gcloud compatibility tests are SKIPPED on this machine');
const gcloudTest = haveGcloud ? test : test.skip;

let dir: string;
let emu: RunningEmulator;
let env: NodeJS.ProcessEnv;

function gcloud(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('gcloud', args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await gcloud(...args);
  if (r.code !== 0) throw new Error(`gcloud ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  if (!haveGcloud) return;
  dir = mkdtempSync(join(tmpdir(), 'emu-gcloud-'));
  emu = await startEmulator({
    port: 0,
    stateDir: join(dir, 'state'),
    runtime: createNullRuntime(),
    defaultOperationLatencyMs: 50,
    log: () => {},
  });
  env = { PATH: process.env.PATH, HOME: dir, CLOUDSDK_CONFIG: join(dir, 'gcloud') };
  await ok('config', 'set', 'api_endpoint_overrides/compute', `${emu.url}/compute/v1/`);
  await ok('config', 'set', 'auth/disable_credentials', 'true');
  await ok('config', 'set', 'project', 'p');
  await ok('config', 'set', 'core/disable_prompts', 'true');
});

afterAll(async () => {
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

gcloudTest('gcloud compute: the master-replica resources, end to end', async () => {
  const octet = emu.ctx.meta.value.octet;
  await ok('compute', 'addresses', 'create', 'm-ip', '--region', 'us-central1');
  await ok(
    'compute',
    'instances',
    'create',
    'm',
    '--zone',
    'us-central1-a',
    '--machine-type',
    'e2-small',
    '--image-family',
    'debian-12',
    '--image-project',
    'debian-cloud',
    '--create-disk',
    'name=m-pd,size=10GB,auto-delete=yes',
    '--tags',
    'm',
    '--labels',
    'ha-masters-role=master',
    '--metadata',
    'kube-env=x',
  );
  const vm = JSON.parse(await ok('compute', 'instances', 'describe', 'm', '--zone', 'us-central1-a', '--format', 'json'));
  expect(vm.status).toBe('RUNNING');
  expect(vm.networkInterfaces[0].networkIP).toBe(`127.${octet}.1.1`);
  expect(vm.disks.map((d: { deviceName: string }) => d.deviceName)).toEqual(['m', 'm-pd']);
  const listed = JSON.parse(await ok('compute', 'instances', 'list', '--filter', 'labels.ha-masters-role=master', '--format', 'json'));
  expect(listed.map((i: { name: string }) => i.name)).toEqual(['m']);
  expect(await ok('compute', 'instances', 'list', '--filter', 'labels.ha-masters-role=worker', '--format', 'value(name)')).toBe('');
  await ok('compute', 'instances', 'add-metadata', 'm', '--zone', 'us-central1-a', '--metadata', 'etcd-member-certs=abc');
  const meta = await ok(
    'compute',
    'instances',
    'describe',
    'm',
    '--zone',
    'us-central1-a',
    '--format',
    'value(metadata.items[0].key,metadata.items[1].key)',
  );
  expect(meta.trim()).toBe('etcd-member-certs\tkube-env');

  await ok('compute', 'firewall-rules', 'create', 'm-etcd', '--allow', 'tcp:2379,tcp:2380', '--source-tags', 'm', '--target-tags', 'm');
  await ok('compute', 'http-health-checks', 'create', 'm-hc', '--port', '3990', '--request-path', '/readyz');
  await ok('compute', 'target-pools', 'create', 'm', '--region', 'us-central1', '--http-health-check', 'm-hc');
  await ok('compute', 'target-pools', 'add-instances', 'm', '--instances', 'm', '--instances-zone', 'us-central1-a');
  await ok(
    'compute',
    'forwarding-rules',
    'create',
    'm',
    '--region',
    'us-central1',
    '--address',
    'm-ip',
    '--ports',
    '443',
    '--target-pool',
    'm',
    '--ip-protocol',
    'TCP',
  );
  // Reads that change nothing, and two refused calls: all at once (each gcloud call costs about a second).
  const [rulesJson, address, healthJson, disksJson, ops, inUse, missing] = await Promise.all([
    ok('compute', 'forwarding-rules', 'list', '--format', 'json'),
    ok('compute', 'addresses', 'describe', 'm-ip', '--region', 'us-central1', '--format', 'value(status,users.basename())'),
    ok('compute', 'target-pools', 'get-health', 'm', '--region', 'us-central1', '--format', 'json'),
    ok('compute', 'disks', 'list', '--format', 'json'),
    ok('compute', 'operations', 'list', '--filter', 'operationType=insert', '--format', 'value(operationType)'),
    gcloud('compute', 'addresses', 'delete', 'm-ip', '--region', 'us-central1'),
    gcloud('compute', 'instances', 'describe', 'ghost', '--zone', 'us-central1-a'),
  ]);
  const rules = JSON.parse(rulesJson);
  expect(rules.map((r: { name: string; IPAddress: string; portRange: string }) => [r.name, r.IPAddress, r.portRange])).toEqual([
    ['m', `127.${octet}.3.1`, '443-443'],
  ]);
  expect(address.trim()).toBe('IN_USE\tm');
  const health = JSON.parse(healthJson);
  expect(health[0].healthStatus[0].healthState).toBe('HEALTHY');
  const disks = JSON.parse(disksJson);
  expect(disks.map((d: { name: string }) => d.name)).toEqual(['m', 'm-pd']);
  expect(ops.trim().split('\n')).toHaveLength(6);

  expect(inUse.code).toBe(1);
  expect(inUse.stderr).toContain(
    "The address resource 'projects/p/regions/us-central1/addresses/m-ip' is already being used by 'projects/p/regions/us-central1/forwardingRules/m'",
  );
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("The resource 'projects/p/zones/us-central1-a/instances/ghost' was not found");

  // Two resources in one command: gcloud sends them as one multipart batch to /batch/compute/v1.
  await ok('compute', 'addresses', 'create', 'b1', 'b2', '--region', 'us-east1');
  expect(
    (await ok('compute', 'addresses', 'list', '--filter', 'region:us-east1', '--format', 'value(name,status)')).trim().split('\n'),
  ).toEqual(['b1\tRESERVED', 'b2\tRESERVED']);
  await ok('compute', 'addresses', 'delete', 'b1', 'b2', '--region', 'us-east1');

  await admin(emu.url, 'reset-requests', {});
  await ok('compute', 'forwarding-rules', 'delete', 'm', '--region', 'us-central1');
  await ok('compute', 'target-pools', 'delete', 'm', '--region', 'us-central1');
  await ok('compute', 'http-health-checks', 'delete', 'm-hc');
  await ok('compute', 'firewall-rules', 'delete', 'm-etcd');
  await ok('compute', 'addresses', 'delete', 'm-ip', '--region', 'us-central1');
  await ok('compute', 'instances', 'delete', 'm', '--zone', 'us-central1-a');
  expect(await ok('compute', 'disks', 'list', '--format', 'value(name)')).toBe('');
  const { requests } = await admin(emu.url, 'requests');
  const deletes = requests
    .filter((r: { method: string }) => r.method === 'DELETE')
    .map((r: { path: string; status: number }) => `${r.status} ${r.path.replace('/compute/v1/projects/p/', '')}`);
  expect(deletes).toEqual([
    '200 regions/us-central1/forwardingRules/m',
    '200 regions/us-central1/targetPools/m',
    '200 global/httpHealthChecks/m-hc',
    '200 global/firewalls/m-etcd',
    '200 regions/us-central1/addresses/m-ip',
    '200 zones/us-central1-a/instances/m',
  ]);
});

gcloudTest('gcloud compute: node instance templates and managed instance groups (what kube-down deletes)', async () => {
  const zone = 'europe-west1-b';
  await ok(
    'compute',
    'instance-templates',
    'create',
    'k-minion-template',
    '--machine-type',
    'e2-small',
    '--image-family',
    'debian-12',
    '--image-project',
    'debian-cloud',
    '--tags',
    'k-minion',
  );
  await ok(
    'compute',
    'instance-groups',
    'managed',
    'create',
    'k-minion-group',
    '--zone',
    zone,
    '--template',
    'k-minion-template',
    '--size',
    '2',
    '--base-instance-name',
    'k-minion-group',
  );
  // list reads the groups (aggregated), their instance groups (SIZE) and autoscalers (AUTOSCALED).
  const listed = await ok(
    'compute',
    'instance-groups',
    'managed',
    'list',
    '--format',
    'value(name,zone.basename(),targetSize,instanceTemplate.basename())',
  );
  expect(listed.trim()).toBe(`k-minion-group\t${zone}\t2\tk-minion-template`);
  const inUse = await gcloud('compute', 'instance-templates', 'delete', 'k-minion-template');
  expect(inUse.code).toBe(1);
  expect(inUse.stderr).toContain(
    `The instance_template resource 'projects/p/global/instanceTemplates/k-minion-template' is already being used by 'projects/p/zones/${zone}/instanceGroupManagers/k-minion-group'`,
  );
  await ok('compute', 'instance-groups', 'managed', 'delete', 'k-minion-group', '--zone', zone);
  expect(emu.ctx.store.list(`projects/p/zones/${zone}/instances`)).toEqual([]);
});
