// State survives a restart on the same state dir: resources (with links on the new URL), the IP
// octet and counters, unfinished operations (they complete), and the world is applied at start.
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../emulator/index.ts';
import { createNullRuntime } from '../../emulator/null-runtime.ts';
import { computeClients, raw } from './support/compute.ts';

const project = 'persist';
const zone = 'us-central1-f';
const region = 'us-central1';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'emu-persist-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('restart on the same state dir keeps resources, IPs, and runs RUNNING VMs again', async () => {
  const rt1 = createNullRuntime();
  const a = await startEmulator({ port: 0, stateDir: dir, runtime: rt1, defaultOperationLatencyMs: 30, log: () => {} });
  const gce = computeClients(a.port);
  await gce.finish(await gce.addresses.insert({ project, region, addressResource: { name: 'm-ip' } }), project);
  const [address] = await gce.addresses.get({ project, region, address: 'm-ip' });
  await gce.finish(
    await gce.instances.insert({
      project,
      zone,
      instanceResource: {
        name: 'm',
        machineType: `zones/${zone}/machineTypes/e2-small`,
        disks: [
          { boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' } },
        ],
        networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ name: 'nat', natIP: address.address as string }] }],
        metadata: { items: [{ key: 'k', value: 'v' }] },
      },
    }),
    project,
  );
  const [vm] = await gce.instances.get({ project, zone, instance: 'm' });
  // An operation still unfinished when the emulator stops.
  await gce.finish(await gce.addresses.insert({ project, region: 'us-east1', addressResource: { name: 'gone' } }), project);
  a.ctx.ops.settings.latencyMs.delete = 1500;
  const started = await gce.addresses.delete({ project, region: 'us-east1', address: 'gone' });
  const pendingName = started[0].latestResponse.name as string;
  await gce.close();
  await a.stop();

  // Files are laid out like resource paths.
  const file = join(dir, 'resources', 'projects', project, 'zones', zone, 'instances', 'm.json');
  expect(JSON.parse(readFileSync(file, 'utf8')).name).toBe('m');
  const octet = JSON.parse(readFileSync(join(dir, 'emulator.json'), 'utf8')).octet;

  const rt2 = createNullRuntime();
  const b = await startEmulator({ port: 0, stateDir: dir, runtime: rt2, defaultOperationLatencyMs: 30, log: () => {} });
  try {
    expect(b.ctx.meta.value.octet).toBe(octet);
    const got = await raw(b.url, 'GET', `projects/${project}/zones/${zone}/instances/m`);
    expect(got.json.status).toBe('RUNNING');
    expect(got.json.id).toBe(vm.id);
    expect(got.json.selfLink).toBe(`${b.url}/compute/v1/projects/${project}/zones/${zone}/instances/m`);
    expect(got.json.networkInterfaces[0].networkIP).toBe(vm.networkInterfaces?.[0]?.networkIP);
    const addr = await raw(b.url, 'GET', `projects/${project}/regions/${region}/addresses/m-ip`);
    expect([addr.json.status, addr.json.users]).toEqual(['IN_USE', [`${b.url}/compute/v1/projects/${project}/zones/${zone}/instances/m`]]);
    await b.settled();
    const w = rt2.worlds[0]?.instances.find((i) => i.key === `${zone}/m`);
    expect(w).toMatchObject({
      status: 'RUNNING',
      internalIp: vm.networkInterfaces?.[0]?.networkIP,
      externalIps: [address.address],
      metadata: { k: 'v' },
    });
    expect(existsSync(w?.dataDiskDir as string)).toBe(true);
    // The delete left unfinished by the stop completes after the restart.
    const op = await raw(b.url, 'GET', `projects/${project}/regions/us-east1/operations/${pendingName}`);
    expect(op.json.status).not.toBe('DONE');
    expect((await raw(b.url, 'GET', `projects/${project}/regions/us-east1/addresses/gone`)).status).toBe(200);
    let waited = op.json;
    while (waited.status !== 'DONE')
      waited = (await raw(b.url, 'POST', `projects/${project}/regions/us-east1/operations/${pendingName}/wait`, '')).json;
    expect(waited.error).toBeUndefined();
    expect((await raw(b.url, 'GET', `projects/${project}/regions/us-east1/addresses/gone`)).status).toBe(404);
    // A new static address never reuses a number handed out before the restart.
    const gce2 = computeClients(b.port);
    await gce2.finish(await gce2.addresses.insert({ project, region, addressResource: { name: 'next' } }), project);
    const [next] = await gce2.addresses.get({ project, region, address: 'next' });
    const lastOctet = (ip: string) => Number(ip.split('.')[3]);
    expect(lastOctet(next.address as string)).toBeGreaterThan(Math.max(lastOctet(address.address as string), 2));
    await gce2.close();
  } finally {
    await b.stop();
  }
});
