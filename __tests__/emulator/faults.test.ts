// Fault injection through the admin API: failed calls, operation errors, zones down and up,
// killing a VM's etcd, the request log; and a crash fault on the real CLI process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { createNullRuntime, type NullRuntime } from '../../emulator/null-runtime.ts';
import { admin, clientError, computeClients, raw, type Compute } from './support/compute.ts';

const project = 'faults';
const zone = 'us-east1-c';
const region = 'us-east1';
let dir: string;
let emu: RunningEmulator;
let runtime: NullRuntime;
let gce: Compute;

const vm = (name: string, z = zone) => ({
  name,
  machineType: `zones/${z}/machineTypes/e2-small`,
  disks: [
    { boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' } },
    { autoDelete: true, initializeParams: { diskName: `${name}-pd`, diskSizeGb: '10' } },
  ],
  networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ name: 'nat', type: 'ONE_TO_ONE_NAT' }] }],
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-faults-'));
  runtime = createNullRuntime();
  emu = await startEmulator({ port: 0, stateDir: dir, runtime, defaultOperationLatencyMs: 40, log: () => {} });
  gce = computeClients(emu.port);
});

afterAll(async () => {
  await gce?.close();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('fail the Nth matching call with a given HTTP error, then serve normally', async () => {
  await admin(emu.url, 'fail', { method: 'GET', path: '/zones/us-east1-c$', nth: 2, status: 503 });
  const path = `projects/${project}/zones/us-east1-c`;
  expect((await raw(emu.url, 'GET', path)).status).toBe(200);
  const failed = await raw(emu.url, 'GET', path);
  expect(failed).toEqual({
    status: 503,
    json: {
      error: {
        code: 503,
        message: 'The service is currently unavailable.',
        errors: [{ message: 'The service is currently unavailable.', domain: 'global', reason: 'backendError' }],
      },
    },
  });
  expect((await raw(emu.url, 'GET', path)).status).toBe(200);
  // A rate limit on a write: the client surfaces 429 and nothing is written.
  await admin(emu.url, 'fail', { method: 'POST', path: '/regions/us-east1/addresses$', status: 429 });
  const e = await clientError(gce.addresses.insert({ project, region, addressResource: { name: 'limited' } }));
  expect(e).toEqual({ httpStatusCode: 429, message: 'Rate Limit Exceeded' });
  expect((await raw(emu.url, 'GET', `projects/${project}/regions/${region}/addresses/limited`)).status).toBe(404);
});

test('the next operation of a kind ends DONE with error.errors[] and has no effect', async () => {
  const before = emu.ctx.meta.value.next.internal;
  await admin(emu.url, 'operation-error', { operationType: 'insert', target: '/instances/', code: 'QUOTA_EXCEEDED' });
  const op = await gce.finish(await gce.instances.insert({ project, zone, instanceResource: vm('quota') }), project);
  expect(op.status).toBe('DONE');
  expect(op.error?.errors?.map((x) => x.code)).toEqual(['QUOTA_EXCEEDED']);
  expect(op.httpErrorStatusCode).toBe(403);
  expect((await clientError(gce.instances.get({ project, zone, instance: 'quota' }))).httpStatusCode).toBe(404);
  expect((await clientError(gce.disks.get({ project, zone, disk: 'quota-pd' }))).httpStatusCode).toBe(404);
  // The rule was used up: the same insert now works, and the failed attempt's IP is not reused.
  const ok = await gce.finish(await gce.instances.insert({ project, zone, instanceResource: vm('quota') }), project);
  expect(ok.error ?? null).toBeNull();
  const [made] = await gce.instances.get({ project, zone, instance: 'quota' });
  expect(made.networkInterfaces?.[0]?.networkIP).toBe(`127.${emu.ctx.meta.value.octet}.1.${before + 1}`);
});

test('zone down: zone DOWN, its instances TERMINATED (processes stop), inserts fail; back up: RUNNING', async () => {
  await gce.finish(await gce.instances.insert({ project, zone: 'us-east1-d', instanceResource: vm('other', 'us-east1-d') }), project);
  await admin(emu.url, 'zone-down', { zone });
  expect((await gce.zones.get({ project, zone }))[0].status).toBe('DOWN');
  expect((await gce.instances.get({ project, zone, instance: 'quota' }))[0].status).toBe('TERMINATED');
  expect((await gce.instances.get({ project, zone: 'us-east1-d', instance: 'other' }))[0].status).toBe('RUNNING');
  await emu.settled();
  const statuses = Object.fromEntries((runtime.worlds.at(-1)?.instances ?? []).map((i) => [i.key, i.status]));
  expect(statuses).toEqual({ [`${zone}/quota`]: 'TERMINATED', 'us-east1-d/other': 'RUNNING' });
  const op = await gce.finish(await gce.instances.insert({ project, zone, instanceResource: vm('nope') }), project);
  expect(op.error?.errors?.map((x) => x.code)).toEqual(['ZONE_RESOURCE_POOL_EXHAUSTED']);
  expect(op.httpErrorStatusCode).toBe(503);
  expect((await clientError(gce.instances.get({ project, zone, instance: 'nope' }))).httpStatusCode).toBe(404);
  await admin(emu.url, 'zone-up', { zone });
  expect((await gce.zones.get({ project, zone }))[0].status).toBe('UP');
  expect((await gce.instances.get({ project, zone, instance: 'quota' }))[0].status).toBe('RUNNING');
});

test('kill-etcd reaches the runtime; unknown instance is 404', async () => {
  await admin(emu.url, 'kill-etcd', { zone, instance: 'quota', keepDown: true });
  expect(runtime.killed).toEqual([{ instanceKey: `${zone}/quota`, keepDown: true }]);
  await expect(admin(emu.url, 'kill-etcd', { zone, instance: 'ghost' })).rejects.toThrow('admin kill-etcd: 404');
});

test('request log: reset, then only reads means zero writes; state dump lists resources', async () => {
  await admin(emu.url, 'reset-requests', {});
  await gce.instances.get({ project, zone, instance: 'quota' });
  await gce.instances.list({ project, zone });
  const { requests } = await admin(emu.url, 'requests');
  expect(requests.map((r: { method: string; path: string; status: number }) => [r.method, r.path, r.status])).toEqual([
    ['GET', `/compute/v1/projects/${project}/zones/${zone}/instances/quota`, 200],
    ['GET', `/compute/v1/projects/${project}/zones/${zone}/instances`, 200],
  ]);
  await gce.finish(await gce.instances.stop({ project, zone, instance: 'quota' }), project);
  const after = (await admin(emu.url, 'requests')).requests as Array<{ method: string; path: string }>;
  expect(after.filter((r) => r.method !== 'GET' && !r.path.endsWith('/wait')).map((r) => r.path)).toEqual([
    `/compute/v1/projects/${project}/zones/${zone}/instances/quota/stop`,
  ]);
  const state = await admin(emu.url, 'state');
  expect(Object.keys(state.resources)).toContain(`projects/${project}/zones/${zone}/instances/quota`);
  expect(state.meta.octet).toBe(emu.ctx.meta.value.octet);
});

describe('crash fault (CLI process)', () => {
  let child: ChildProcess | undefined;
  let crashDir: string;
  afterEach(() => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(crashDir, { recursive: true, force: true });
  });

  function startCli(stateDir: string): Promise<{ proc: ChildProcess; url: string; exited: Promise<number | null> }> {
    const proc = spawn(
      process.execPath,
      [
        '--experimental-strip-types',
        '--no-warnings',
        'emulator/cli.ts',
        '--port',
        '0',
        '--state-dir',
        stateDir,
        '--no-vms',
        '--latency-ms',
        '30',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    return new Promise((resolve, reject) => {
      let out = '';
      proc.stdout?.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve({ proc, url: m[1] as string, exited });
      });
      proc.on('exit', (code) => reject(new Error(`emulator exited early with ${code}`)));
    });
  }

  test('crashAfter a write: the process exits abruptly, the write persisted and completes after restart', async () => {
    crashDir = mkdtempSync(join(tmpdir(), 'emu-crash-'));
    const first = await startCli(crashDir);
    await admin(first.url, 'crash', { crashAfter: { method: 'POST', path: '/regions/us-east1/addresses$', when: 'afterWrite' } });
    await expect(
      fetch(`${first.url}/compute/v1/projects/${project}/regions/${region}/addresses`, {
        method: 'POST',
        body: JSON.stringify({ name: 'survivor' }),
      }),
    ).rejects.toThrow();
    expect(await first.exited).toBe(70);
    const second = await startCli(crashDir);
    let got = await raw(second.url, 'GET', `projects/${project}/regions/${region}/addresses/survivor`);
    for (let i = 0; i < 50 && got.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      got = await raw(second.url, 'GET', `projects/${project}/regions/${region}/addresses/survivor`);
    }
    expect([got.status, got.json.status]).toEqual([200, 'RESERVED']);
    expect(got.json.selfLink).toBe(`${second.url}/compute/v1/projects/${project}/regions/${region}/addresses/survivor`);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
