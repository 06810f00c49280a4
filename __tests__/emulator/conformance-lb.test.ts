// Conformance with the official client (and plain REST for httpHealthChecks, which the 7.x client no
// longer has): firewalls, legacy HTTP health checks, target pools, forwarding rules, and the
// in-use rules between them and addresses.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { createNullRuntime, type NullRuntime } from '../../emulator/null-runtime.ts';
import { admin, clientError, computeClients, raw, type Compute } from './support/compute.ts';

const project = 'conf-lb';
const zone = 'europe-west1-b';
const region = 'europe-west1';
let dir: string;
let emu: RunningEmulator;
let runtime: NullRuntime;
let gce: Compute;
const base = () => `${emu.url}/compute/v1/projects/${project}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-lb-'));
  runtime = createNullRuntime();
  emu = await startEmulator({ port: 0, stateDir: dir, runtime, defaultOperationLatencyMs: 40, log: () => {} });
  gce = computeClients(emu.port);
  for (const [name, z] of [
    ['m-1', zone],
    ['m-2', 'europe-west1-c'],
    ['far', 'us-east1-b'],
  ] as const) {
    await gce.finish(
      await gce.instances.insert({
        project,
        zone: z,
        instanceResource: {
          name,
          machineType: `zones/${z}/machineTypes/e2-small`,
          disks: [
            { boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' } },
          ],
          networkInterfaces: [{ network: 'global/networks/default' }],
        },
      }),
      project,
    );
  }
});

afterAll(async () => {
  await gce?.close();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a REST write to DONE (for httpHealthChecks) and returns the DONE operation. */
async function restWrite(method: string, path: string, body?: unknown) {
  const res = await raw(emu.url, method, `projects/${project}/${path}`, body);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
  let op = res.json;
  while (op.status !== 'DONE') op = (await raw(emu.url, 'POST', `projects/${project}/global/operations/${op.name}/wait`, '')).json;
  return op;
}

test('firewalls: insert, get, list with filter, patch, delete', async () => {
  const op = await gce.finish(
    await gce.firewalls.insert({
      project,
      firewallResource: {
        name: 'm-etcd',
        network: 'global/networks/default',
        allowed: [{ IPProtocol: 'tcp', ports: ['2379', '2380'] }],
        sourceTags: ['m'],
        targetTags: ['m'],
      },
    }),
    project,
  );
  expect(op.operationType).toBe('insert');
  const [fw] = await gce.firewalls.get({ project, firewall: 'm-etcd' });
  expect(fw).toMatchObject({
    name: 'm-etcd',
    direction: 'INGRESS',
    priority: 1000,
    sourceTags: ['m'],
    targetTags: ['m'],
    network: `${base()}/global/networks/default`,
    kind: 'compute#firewall',
  });
  expect(fw.allowed?.map((a) => [a.IPProtocol, a.ports])).toEqual([['tcp', ['2379', '2380']]]);
  await gce.finish(
    await gce.firewalls.insert({
      project,
      firewallResource: { name: 'm-https', allowed: [{ IPProtocol: 'tcp', ports: ['443'] }], targetTags: ['m'] },
    }),
    project,
  );
  const [https] = await gce.firewalls.get({ project, firewall: 'm-https' });
  expect(https.sourceRanges).toEqual(['0.0.0.0/0']);
  const [listed] = await gce.firewalls.list({ project, filter: 'name = m-e*' });
  expect(listed.map((f) => f.name)).toEqual(['m-etcd']);
  await gce.finish(
    await gce.firewalls.patch({ project, firewall: 'm-https', firewallResource: { sourceRanges: ['10.0.0.0/8'] } }),
    project,
  );
  const [patched] = await gce.firewalls.get({ project, firewall: 'm-https' });
  expect([patched.sourceRanges, patched.targetTags]).toEqual([['10.0.0.0/8'], ['m']]);
  const noRules = await raw(emu.url, 'POST', `projects/${project}/global/firewalls`, { name: 'empty' });
  expect([noRules.status, noRules.json.error.errors[0].reason]).toEqual([400, 'invalid']);
  const wrongCase = await raw(emu.url, 'POST', `projects/${project}/global/firewalls`, { name: 'x', allowed: [{ ipProtocol: 'tcp' }] });
  expect(wrongCase.json.error.message).toBe(
    'Invalid JSON payload received. Unknown name "ipProtocol" at \'allowed[0]\': Cannot find field.',
  );
  await gce.finish(await gce.firewalls.delete({ project, firewall: 'm-https' }), project);
  expect((await clientError(gce.firewalls.get({ project, firewall: 'm-https' }))).httpStatusCode).toBe(404);
});

test('legacy httpHealthChecks over REST: insert, get, list, 409', async () => {
  const op = await restWrite('POST', 'global/httpHealthChecks', { name: 'm-hc', port: 3990, requestPath: '/readyz' });
  expect([op.status, op.operationType, op.targetLink]).toEqual(['DONE', 'insert', `${base()}/global/httpHealthChecks/m-hc`]);
  const hc = await raw(emu.url, 'GET', `projects/${project}/global/httpHealthChecks/m-hc`);
  expect(hc.json).toMatchObject({
    kind: 'compute#httpHealthCheck',
    name: 'm-hc',
    port: 3990,
    requestPath: '/readyz',
    checkIntervalSec: 5,
    timeoutSec: 5,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
  });
  const list = await raw(emu.url, 'GET', `projects/${project}/global/httpHealthChecks?filter=name%20%3D%20m-hc`);
  expect(list.json.items.map((i: { name: string }) => i.name)).toEqual(['m-hc']);
  const dup = await raw(emu.url, 'POST', `projects/${project}/global/httpHealthChecks`, { name: 'm-hc' });
  expect([dup.status, dup.json.error.errors[0].reason]).toEqual([409, 'alreadyExists']);
  const unknown = await raw(emu.url, 'POST', `projects/${project}/global/httpHealthChecks`, { name: 'x', portt: 1 });
  expect(unknown.status).toBe(400);
});

test('target pools: insert with health check, add/remove instances, getHealth, region rules', async () => {
  await gce.finish(
    await gce.targetPools.insert({
      project,
      region,
      targetPoolResource: { name: 'm', healthChecks: [`${base()}/global/httpHealthChecks/m-hc`] },
    }),
    project,
  );
  const [pool] = await gce.targetPools.get({ project, region, targetPool: 'm' });
  expect(pool.healthChecks).toEqual([`${base()}/global/httpHealthChecks/m-hc`]);
  expect(pool.instances).toEqual([]);
  await gce.finish(
    await gce.targetPools.addInstance({
      project,
      region,
      targetPool: 'm',
      targetPoolsAddInstanceRequestResource: {
        instances: [
          { instance: `${base()}/zones/${zone}/instances/m-1` },
          { instance: `projects/${project}/zones/europe-west1-c/instances/m-2` },
        ],
      },
    }),
    project,
  );
  const [withTwo] = await gce.targetPools.get({ project, region, targetPool: 'm' });
  expect(withTwo.instances).toEqual([`${base()}/zones/${zone}/instances/m-1`, `${base()}/zones/europe-west1-c/instances/m-2`]);
  const far = await raw(emu.url, 'POST', `projects/${project}/regions/${region}/targetPools/m/addInstance`, {
    instances: [{ instance: `zones/us-east1-b/instances/far` }],
  });
  expect([far.status, far.json.error.errors[0].reason]).toEqual([400, 'invalid']);
  const missing = await raw(emu.url, 'POST', `projects/${project}/regions/${region}/targetPools/m/addInstance`, {
    instances: [{ instance: `zones/${zone}/instances/ghost` }],
  });
  expect([missing.status, missing.json.error.errors[0].reason]).toEqual([404, 'notFound']);
  const [health] = await gce.targetPools.getHealth({
    project,
    region,
    targetPool: 'm',
    instanceReferenceResource: { instance: `${base()}/zones/${zone}/instances/m-1` },
  });
  expect(health.healthStatus?.map((h) => [h.healthState, h.instance])).toEqual([['HEALTHY', `${base()}/zones/${zone}/instances/m-1`]]);
  const second = await raw(emu.url, 'POST', `projects/${project}/global/httpHealthChecks`, { name: 'other-hc' });
  expect(second.status).toBe(200);
  await new Promise((r) => setTimeout(r, 100));
  const two = await raw(emu.url, 'POST', `projects/${project}/regions/${region}/targetPools/m/addHealthCheck`, {
    healthChecks: [{ healthCheck: 'global/httpHealthChecks/other-hc' }],
  });
  expect([two.status, two.json.error.errors[0].reason]).toEqual([400, 'invalid']);
  const hcInUse = await raw(emu.url, 'DELETE', `projects/${project}/global/httpHealthChecks/m-hc`);
  expect([hcInUse.status, hcInUse.json.error.errors[0].reason]).toEqual([400, 'resourceInUseByAnotherResource']);
  expect(hcInUse.json.error.message).toBe(
    `The http_health_check resource 'projects/${project}/global/httpHealthChecks/m-hc' is already being used by 'projects/${project}/regions/${region}/targetPools/m'`,
  );
  await gce.finish(
    await gce.targetPools.removeInstance({
      project,
      region,
      targetPool: 'm',
      targetPoolsRemoveInstanceRequestResource: { instances: [{ instance: `${base()}/zones/europe-west1-c/instances/m-2` }] },
    }),
    project,
  );
  const [withOne] = await gce.targetPools.get({ project, region, targetPool: 'm' });
  expect(withOne.instances).toEqual([`${base()}/zones/${zone}/instances/m-1`]);
  const [pools] = await gce.targetPools.list({ project, region });
  expect(pools.map((p) => p.name)).toEqual(['m']);
});

test('forwarding rules: static address by name, IN_USE with the rule as user, region checks, delete order', async () => {
  await gce.finish(await gce.addresses.insert({ project, region, addressResource: { name: 'm-ip' } }), project);
  await gce.finish(await gce.addresses.insert({ project, region: 'us-east1', addressResource: { name: 'east-ip' } }), project);
  await gce.finish(await gce.targetPools.insert({ project, region: 'us-east1', targetPoolResource: { name: 'east' } }), project);
  const [address] = await gce.addresses.get({ project, region, address: 'm-ip' });
  const wrongPool = await raw(emu.url, 'POST', `projects/${project}/regions/${region}/forwardingRules`, {
    name: 'bad',
    target: `projects/${project}/regions/us-east1/targetPools/east`,
    portRange: '443',
  });
  expect([wrongPool.status, wrongPool.json.error.errors[0].reason]).toEqual([400, 'invalid']);
  const [east] = await gce.addresses.get({ project, region: 'us-east1', address: 'east-ip' });
  const wrongAddress = await raw(emu.url, 'POST', `projects/${project}/regions/${region}/forwardingRules`, {
    name: 'bad',
    target: `regions/${region}/targetPools/m`,
    IPAddress: east.address,
    portRange: '443',
  });
  expect([wrongAddress.status, wrongAddress.json.error.errors[0].reason]).toEqual([400, 'invalid']);
  const lowercase = await raw(emu.url, 'POST', `projects/${project}/regions/${region}/forwardingRules`, {
    name: 'bad',
    target: `regions/${region}/targetPools/m`,
    ipAddress: address.address,
  });
  expect(lowercase.json.error.message).toBe('Invalid JSON payload received. Unknown name "ipAddress" at \'resource\': Cannot find field.');

  await gce.finish(
    await gce.forwardingRules.insert({
      project,
      region,
      forwardingRuleResource: {
        name: 'm',
        IPAddress: `${base()}/regions/${region}/addresses/m-ip`,
        IPProtocol: 'TCP',
        portRange: '443-443',
        target: `${base()}/regions/${region}/targetPools/m`,
      },
    }),
    project,
  );
  const [rule] = await gce.forwardingRules.get({ project, region, forwardingRule: 'm' });
  expect(rule).toMatchObject({
    IPAddress: address.address,
    IPProtocol: 'TCP',
    portRange: '443-443',
    target: `${base()}/regions/${region}/targetPools/m`,
    loadBalancingScheme: 'EXTERNAL',
    kind: 'compute#forwardingRule',
  });
  const [used] = await gce.addresses.get({ project, region, address: 'm-ip' });
  expect([used.status, used.users]).toEqual(['IN_USE', [`${base()}/regions/${region}/forwardingRules/m`]]);
  const [health] = await gce.targetPools.getHealth({
    project,
    region,
    targetPool: 'm',
    instanceReferenceResource: { instance: `${base()}/zones/${zone}/instances/m-1` },
  });
  expect(health.healthStatus?.map((h) => [h.healthState, h.ipAddress, h.port])).toEqual([['HEALTHY', address.address, 443]]);

  await emu.settled();
  const world = runtime.worlds.at(-1);
  expect(world?.forwardingRules).toEqual([
    expect.objectContaining({
      key: `${region}/m`,
      ip: address.address,
      portLow: 443,
      portHigh: 443,
      backends: [`${zone}/m-1`],
      healthCheck: { port: 3990, requestPath: '/readyz', checkIntervalSec: 5, timeoutSec: 5, healthyThreshold: 2, unhealthyThreshold: 2 },
    }),
  ]);

  // The same IP again, by IP this time: the address already has a user.
  const again = await raw(emu.url, 'POST', `projects/${project}/regions/${region}/forwardingRules`, {
    name: 'm2',
    target: `regions/${region}/targetPools/m`,
    IPAddress: address.address,
    portRange: '80',
  });
  expect([again.status, again.json.error.errors[0].reason]).toEqual([400, 'resourceInUseByAnotherResource']);
  // An ephemeral IP when IPAddress is absent.
  await gce.finish(
    await gce.forwardingRules.insert({
      project,
      region,
      forwardingRuleResource: { name: 'eph', portRange: '80', target: `regions/${region}/targetPools/m` },
    }),
    project,
  );
  const [eph] = await gce.forwardingRules.get({ project, region, forwardingRule: 'eph' });
  expect(eph.IPAddress).toMatch(new RegExp(`^127\\.${emu.ctx.meta.value.octet}\\.2\\.\\d+$`));
  expect(eph.portRange).toBe('80-80');
  const agg = await raw(emu.url, 'GET', `projects/${project}/aggregated/forwardingRules`);
  expect(agg.json.items[`regions/${region}`].forwardingRules.map((r: { name: string }) => r.name)).toEqual(['eph', 'm']);
  expect(agg.json.items['regions/us-central1'].warning.code).toBe('NO_RESULTS_ON_PAGE');

  const poolInUse = await raw(emu.url, 'DELETE', `projects/${project}/regions/${region}/targetPools/m`);
  expect([poolInUse.status, poolInUse.json.error.errors[0].reason]).toEqual([400, 'resourceInUseByAnotherResource']);
  expect(poolInUse.json.error.message).toBe(
    `The target_pool resource 'projects/${project}/regions/${region}/targetPools/m' is already being used by 'projects/${project}/regions/${region}/forwardingRules/eph'`,
  );
  const addrInUse = await raw(emu.url, 'DELETE', `projects/${project}/regions/${region}/addresses/m-ip`);
  expect(addrInUse.json.error.message).toBe(
    `The address resource 'projects/${project}/regions/${region}/addresses/m-ip' is already being used by 'projects/${project}/regions/${region}/forwardingRules/m'`,
  );

  for (const name of ['m', 'eph']) await gce.finish(await gce.forwardingRules.delete({ project, region, forwardingRule: name }), project);
  const [released] = await gce.addresses.get({ project, region, address: 'm-ip' });
  expect([released.status, released.users]).toEqual(['RESERVED', []]);
  await gce.finish(
    await gce.targetPools.removeHealthCheck({
      project,
      region,
      targetPool: 'm',
      targetPoolsRemoveHealthCheckRequestResource: { healthChecks: [{ healthCheck: `${base()}/global/httpHealthChecks/m-hc` }] },
    }),
    project,
  );
  await restWrite('DELETE', 'global/httpHealthChecks/m-hc');
  await gce.finish(await gce.targetPools.delete({ project, region, targetPool: 'm' }), project);
  await gce.finish(await gce.addresses.delete({ project, region, address: 'm-ip' }), project);
  expect((await raw(emu.url, 'GET', `projects/${project}/regions/${region}/addresses/m-ip`)).status).toBe(404);
});

test("the LB programming delay is added to each rule's changedAt for the runtime", async () => {
  await admin(emu.url, 'lb-delay', { ms: 5000 });
  const before = Date.now();
  await gce.finish(
    await gce.forwardingRules.insert({
      project,
      region: 'us-east1',
      forwardingRuleResource: { name: 'late', portRange: '443', target: `regions/us-east1/targetPools/east` },
    }),
    project,
  );
  await emu.settled();
  const rule = runtime.worlds.at(-1)?.forwardingRules.find((r) => r.key === 'us-east1/late');
  expect(rule?.changedAt).toBeGreaterThanOrEqual(before + 5000);
});
