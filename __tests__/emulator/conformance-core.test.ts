// Conformance with the official @google-cloud/compute client: catalogue, instances, disks, addresses,
// operations, errors. Runs against the emulator with a no-process runtime (no VMs needed here).
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { createNullRuntime, type NullRuntime } from '../../emulator/null-runtime.ts';
import { admin, clientError, computeClients, raw, type Compute } from './support/compute.ts';

const project = 'conf-core';
const zone = 'us-central1-a';
const region = 'us-central1';
let dir: string;
let emu: RunningEmulator;
let runtime: NullRuntime;
let gce: Compute;
let octet: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-core-'));
  runtime = createNullRuntime();
  emu = await startEmulator({ port: 0, stateDir: dir, runtime, defaultOperationLatencyMs: 60, waitTimeoutMs: 500, log: () => {} });
  gce = computeClients(emu.port);
  octet = emu.ctx.meta.value.octet;
});

afterAll(async () => {
  await gce?.close();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function instanceBody(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    machineType: `zones/${zone}/machineTypes/e2-small`,
    disks: [
      {
        boot: true,
        autoDelete: true,
        initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12', diskSizeGb: '20' },
      },
      { autoDelete: true, initializeParams: { diskName: `${name}-pd`, diskSizeGb: '10', diskType: `zones/${zone}/diskTypes/pd-ssd` } },
    ],
    networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }],
    metadata: { items: [{ key: 'kube-env', value: "MASTER_NAME: 'm'" }] },
    labels: { 'ha-masters-role': 'master' },
    tags: { items: ['kubernetes-master'] },
    ...extra,
  };
}

describe('catalogue', () => {
  test('zones and regions: list, get, filter, region zones', async () => {
    const [zones] = await gce.zones.list({ project });
    expect(zones.map((z) => z.name).sort()).toEqual([
      'europe-west1-b',
      'europe-west1-c',
      'europe-west1-d',
      'us-central1-a',
      'us-central1-b',
      'us-central1-c',
      'us-central1-f',
      'us-east1-b',
      'us-east1-c',
      'us-east1-d',
    ]);
    const [z] = await gce.zones.get({ project, zone });
    expect(z.status).toBe('UP');
    expect(z.region).toBe(`${emu.url}/compute/v1/projects/${project}/regions/${region}`);
    expect(z.selfLink).toBe(`${emu.url}/compute/v1/projects/${project}/zones/${zone}`);
    const [filtered] = await gce.zones.list({ project, filter: 'name = us-east1-*' });
    expect(filtered.map((x) => x.name)).toEqual(['us-east1-b', 'us-east1-c', 'us-east1-d']);
    const [r] = await gce.regions.get({ project, region: 'europe-west1' });
    expect(r.zones).toEqual(['b', 'c', 'd'].map((s) => `${emu.url}/compute/v1/projects/${project}/zones/europe-west1-${s}`));
    expect((await clientError(gce.zones.get({ project, zone: 'mars-1a' }))).httpStatusCode).toBe(404);
  });

  test('images by family and by name; machine types', async () => {
    const [debian] = await gce.images.getFromFamily({ project: 'debian-cloud', family: 'debian-12' });
    expect(debian.name).toBe('debian-12-bookworm-v20250610');
    expect(debian.family).toBe('debian-12');
    const [byName] = await gce.images.get({ project: 'debian-cloud', image: debian.name as string });
    expect(byName.id).toBe(debian.id);
    const [cos] = await gce.images.getFromFamily({ project: 'cos-cloud', family: 'cos-stable' });
    expect(cos.status).toBe('READY');
    const e = await clientError(gce.images.getFromFamily({ project: 'debian-cloud', family: 'debian-99' }));
    expect(e).toEqual({
      httpStatusCode: 404,
      message: "The resource 'projects/debian-cloud/global/images/family/debian-99' was not found",
    });
    const [mt] = await gce.machineTypes.get({ project, zone, machineType: 'e2-standard-2' });
    expect([mt.guestCpus, mt.memoryMb]).toEqual([2, 8192]);
    const [mts] = await gce.machineTypes.list({ project, zone, filter: 'name = e2-*' });
    expect(mts.length).toBe(5);
  });
});

describe('instances and disks', () => {
  test('insert: PROVISIONING/STAGING while running, RUNNING at DONE; IPs, disks, users, world', async () => {
    // Long enough that the read below lands while the insert runs, even on a loaded CI machine.
    await admin(emu.url, 'latency', { operationType: 'insert', ms: 3000 });
    const started = await gce.instances.insert({ project, zone, instanceResource: instanceBody('vm-a') });
    const first = (started as unknown as [{ latestResponse: { status: string; operationType: string; targetLink: string } }])[0]
      .latestResponse;
    expect(first.status).toBe('PENDING');
    expect(first.operationType).toBe('insert');
    expect(first.targetLink).toBe(`${emu.url}/compute/v1/projects/${project}/zones/${zone}/instances/vm-a`);
    const [early] = await gce.instances.get({ project, zone, instance: 'vm-a' });
    expect(['PROVISIONING', 'STAGING']).toContain(early.status);
    await admin(emu.url, 'latency', { operationType: 'insert', ms: 60 });
    const op = await gce.finish(started, project);
    expect(op.error ?? null).toBeNull();
    const [vm] = await gce.instances.get({ project, zone, instance: 'vm-a' });
    expect(vm.status).toBe('RUNNING');
    expect(vm.kind).toBe('compute#instance');
    expect(vm.id).toMatch(/^\d+$/);
    expect(vm.networkInterfaces?.[0]?.networkIP).toMatch(new RegExp(`^127\\.${octet}\\.1\\.\\d+$`));
    expect(vm.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP).toMatch(new RegExp(`^127\\.${octet}\\.2\\.\\d+$`));
    expect(vm.metadata?.items?.map(({ key, value }) => ({ key, value }))).toEqual([{ key: 'kube-env', value: "MASTER_NAME: 'm'" }]);
    expect(vm.metadata?.fingerprint).toMatch(/^[A-Za-z0-9+/]{11}=$/);
    expect(vm.disks?.map((d) => [d.boot, d.autoDelete, d.source?.split('/').pop()])).toEqual([
      [true, true, 'vm-a'],
      [false, true, 'vm-a-pd'],
    ]);
    const [boot] = await gce.disks.get({ project, zone, disk: 'vm-a' });
    expect(boot.sizeGb).toBe('20');
    expect(boot.users).toEqual([vm.selfLink]);
    expect(boot.sourceImage).toBe(`${emu.url}/compute/v1/projects/debian-cloud/global/images/debian-12-bookworm-v20250610`);
    const [pd] = await gce.disks.get({ project, zone, disk: 'vm-a-pd' });
    expect(pd.type).toBe(`${emu.url}/compute/v1/projects/${project}/zones/${zone}/diskTypes/pd-ssd`);
    await emu.settled();
    const world = runtime.worlds[runtime.worlds.length - 1];
    const w = world?.instances.find((i) => i.key === `${zone}/vm-a`);
    expect(w).toMatchObject({
      name: 'vm-a',
      zone,
      status: 'RUNNING',
      internalIp: vm.networkInterfaces?.[0]?.networkIP,
      externalIps: [vm.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP],
      metadata: { 'kube-env': "MASTER_NAME: 'm'" },
    });
    expect(w?.dataDiskDir).toContain(join(dir, 'disks', project, zone, 'vm-a-pd-'));
    expect(existsSync(w?.dataDiskDir as string)).toBe(true);
  });

  test('errors: alreadyExists 409, notFound 404, unknown field 400, bad machine type 400', async () => {
    expect(await clientError(gce.instances.insert({ project, zone, instanceResource: instanceBody('vm-a') }))).toEqual({
      httpStatusCode: 409,
      message: `The resource 'projects/${project}/zones/${zone}/instances/vm-a' already exists`,
    });
    const dup = await raw(emu.url, 'POST', `projects/${project}/zones/${zone}/instances`, instanceBody('vm-a'));
    expect(dup.status).toBe(409);
    expect(dup.json.error.errors[0]).toEqual({
      message: `The resource 'projects/${project}/zones/${zone}/instances/vm-a' already exists`,
      domain: 'global',
      reason: 'alreadyExists',
    });
    const missing = await raw(emu.url, 'GET', `projects/${project}/zones/${zone}/instances/nope`);
    expect(missing).toEqual({
      status: 404,
      json: {
        error: {
          code: 404,
          message: `The resource 'projects/${project}/zones/${zone}/instances/nope' was not found`,
          errors: [
            {
              message: `The resource 'projects/${project}/zones/${zone}/instances/nope' was not found`,
              domain: 'global',
              reason: 'notFound',
            },
          ],
        },
      },
    });
    const unknown = await raw(emu.url, 'POST', `projects/${project}/zones/${zone}/instances`, {
      ...instanceBody('vm-x'),
      networkInterfaces: [{ network: 'global/networks/default', acessConfigs: [] }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.errors[0].reason).toBe('invalid');
    expect(unknown.json.error.message).toBe(
      'Invalid JSON payload received. Unknown name "acessConfigs" at \'networkInterfaces[0]\': Cannot find field.',
    );
    const badType = await raw(
      emu.url,
      'POST',
      `projects/${project}/zones/${zone}/instances`,
      instanceBody('vm-x', { machineType: `zones/${zone}/machineTypes/z9-huge` }),
    );
    expect(badType.status).toBe(400);
    expect(badType.json.error.message).toContain("Machine type with name 'z9-huge' does not exist");
    const badJson = await raw(emu.url, 'POST', `projects/${project}/zones/${zone}/instances`, '{"name":');
    expect([badJson.status, badJson.json.error.errors[0].reason]).toEqual([400, 'parseError']);
    // Nothing of the refused inserts was made.
    expect((await raw(emu.url, 'GET', `projects/${project}/zones/${zone}/instances/vm-x`)).status).toBe(404);
  });

  test('setMetadata and setLabels check the fingerprint (412 conditionNotMet when stale)', async () => {
    const [vm] = await gce.instances.get({ project, zone, instance: 'vm-a' });
    const oldFp = vm.metadata?.fingerprint as string;
    const op = await gce.finish(
      await gce.instances.setMetadata({
        project,
        zone,
        instance: 'vm-a',
        metadataResource: { fingerprint: oldFp, items: [{ key: 'etcd-member-certs', value: 'x' }] },
      }),
      project,
    );
    expect(op.error ?? null).toBeNull();
    const [after] = await gce.instances.get({ project, zone, instance: 'vm-a' });
    expect(after.metadata?.items?.map(({ key, value }) => ({ key, value }))).toEqual([{ key: 'etcd-member-certs', value: 'x' }]);
    expect(after.metadata?.fingerprint).not.toBe(oldFp);
    const stale = await raw(emu.url, 'POST', `projects/${project}/zones/${zone}/instances/vm-a/setMetadata`, {
      fingerprint: oldFp,
      items: [],
    });
    expect([stale.status, stale.json.error.errors[0].reason, stale.json.error.message]).toEqual([
      412,
      'conditionNotMet',
      'Supplied fingerprint does not match current metadata fingerprint.',
    ]);
    expect(
      (
        await clientError(
          gce.instances.setLabels({
            project,
            zone,
            instance: 'vm-a',
            instancesSetLabelsRequestResource: { labels: { a: 'b' }, labelFingerprint: 'AAAAAAAAAAA=' },
          }),
        )
      ).httpStatusCode,
    ).toBe(412);
    await gce.finish(
      await gce.instances.setLabels({
        project,
        zone,
        instance: 'vm-a',
        instancesSetLabelsRequestResource: { labels: { 'ha-masters-role': 'master', x: 'y' }, labelFingerprint: after.labelFingerprint },
      }),
      project,
    );
    const [labelled] = await gce.instances.get({ project, zone, instance: 'vm-a' });
    expect(labelled.labels).toEqual({ 'ha-masters-role': 'master', x: 'y' });
  });

  test('fingerprints are bytes: the URL-safe base64 form gcloud sends back matches, a different value does not', async () => {
    // Fingerprints are random: write until the current one has a character that URL-safe base64
    // spells differently ('+' or '/'), as gcloud's apitools re-encodes it.
    let fp = '';
    for (let i = 0; i < 60 && !/[+/]/.test(fp); i++) {
      const [vm] = await gce.instances.get({ project, zone, instance: 'vm-a' });
      fp = vm.metadata?.fingerprint as string;
      if (/[+/]/.test(fp)) break;
      await gce.finish(
        await gce.instances.setMetadata({
          project,
          zone,
          instance: 'vm-a',
          metadataResource: { fingerprint: fp, items: [{ key: 'etcd-member-certs', value: `x${i}` }] },
        }),
        project,
      );
    }
    expect(fp).toMatch(/[+/]/);
    const urlSafe = fp.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const ok = await raw(emu.url, 'POST', `projects/${project}/zones/${zone}/instances/vm-a/setMetadata`, {
      fingerprint: urlSafe,
      items: [{ key: 'etcd-member-certs', value: 'x' }],
    });
    expect(ok.status).toBe(200);
    // The write takes effect when its operation is DONE: then the old fingerprint is stale.
    for (let i = 0; i < 100 && (await gce.instances.get({ project, zone, instance: 'vm-a' }))[0].metadata?.fingerprint === fp; i++)
      await new Promise((r) => setTimeout(r, 20));
    const wrong = await raw(emu.url, 'POST', `projects/${project}/zones/${zone}/instances/vm-a/setMetadata`, {
      fingerprint: urlSafe,
      items: [],
    });
    expect([wrong.status, wrong.json.error.errors[0].reason]).toEqual([412, 'conditionNotMet']);
  });

  test('list: filters in both dialects, paging, aggregatedList with NO_RESULTS_ON_PAGE', async () => {
    await gce.finish(
      await gce.instances.insert({
        project,
        zone,
        instanceResource: instanceBody('vm-b', {
          labels: { 'ha-masters-role': 'worker' },
          networkInterfaces: [{ network: 'global/networks/default' }],
        }),
      }),
      project,
    );
    await gce.finish(
      await gce.instances.insert({
        project,
        zone: 'us-central1-b',
        instanceResource: instanceBody('vm-c', {
          machineType: 'zones/us-central1-b/machineTypes/e2-small',
          disks: [
            { boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' } },
          ],
        }),
      }),
      project,
    );
    const names = async (filter: string) => (await gce.instances.list({ project, zone, filter }))[0].map((i) => i.name);
    expect(await names('labels.ha-masters-role = master')).toEqual(['vm-a']);
    expect(await names('name != vm-a')).toEqual(['vm-b']);
    expect(await names('(name = "vm-a") (status = RUNNING)')).toEqual(['vm-a']);
    expect(await names('name eq "vm-.*"')).toEqual(['vm-a', 'vm-b']);
    expect(await names('name eq ".*\\bvm-b\\b.*"')).toEqual(['vm-b']);
    expect(await names('name ne vm-b')).toEqual(['vm-a']);
    const page1 = await raw(emu.url, 'GET', `projects/${project}/zones/${zone}/instances?maxResults=1`);
    expect(page1.json.items.map((i: { name: string }) => i.name)).toEqual(['vm-a']);
    expect(page1.json.kind).toBe('compute#instanceList');
    const page2 = await raw(
      emu.url,
      'GET',
      `projects/${project}/zones/${zone}/instances?maxResults=1&pageToken=${page1.json.nextPageToken}`,
    );
    expect(page2.json.items.map((i: { name: string }) => i.name)).toEqual(['vm-b']);
    expect(page2.json.nextPageToken).toBeUndefined();
    // The client pages by itself.
    const [all] = await gce.instances.list({ project, zone, maxResults: 1 });
    expect(all.map((i) => i.name)).toEqual(['vm-a', 'vm-b']);
    const agg = await raw(emu.url, 'GET', `projects/${project}/aggregated/instances`);
    expect(agg.json.kind).toBe('compute#instanceAggregatedList');
    expect(agg.json.items[`zones/${zone}`].instances.map((i: { name: string }) => i.name)).toEqual(['vm-a', 'vm-b']);
    expect(agg.json.items['zones/us-east1-b']).toEqual({
      warning: {
        code: 'NO_RESULTS_ON_PAGE',
        message: "There are no results for scope 'zones/us-east1-b' on this page.",
        data: [{ key: 'scope', value: 'zones/us-east1-b' }],
      },
    });
    const seen: string[] = [];
    for await (const [scope, list] of gce.instances.aggregatedListAsync({ project, filter: 'name = vm-c' })) {
      for (const i of list.instances ?? []) seen.push(`${scope}:${i.name}`);
    }
    expect(seen).toEqual(['zones/us-central1-b:vm-c']);
    const empty = await raw(emu.url, 'GET', `projects/${project}/zones/us-east1-c/instances`);
    expect(empty.json.items).toBeUndefined();
  });

  test('stop, start, reset', async () => {
    await gce.finish(await gce.instances.stop({ project, zone, instance: 'vm-b' }), project);
    expect((await gce.instances.get({ project, zone, instance: 'vm-b' }))[0].status).toBe('TERMINATED');
    await emu.settled();
    expect(runtime.worlds.at(-1)?.instances.find((i) => i.key === `${zone}/vm-b`)?.status).toBe('TERMINATED');
    await gce.finish(await gce.instances.start({ project, zone, instance: 'vm-b' }), project);
    expect((await gce.instances.get({ project, zone, instance: 'vm-b' }))[0].status).toBe('RUNNING');
    const op = await gce.finish(await gce.instances.reset({ project, zone, instance: 'vm-b' }), project);
    expect(op.operationType).toBe('reset');
    expect((await gce.instances.get({ project, zone, instance: 'vm-b' }))[0].status).toBe('RUNNING');
  });

  test('disks: insert, in-use delete refused, instance delete removes autoDelete disks only', async () => {
    await gce.finish(await gce.disks.insert({ project, zone, diskResource: { name: 'spare', sizeGb: '15' } }), project);
    const [spare] = await gce.disks.get({ project, zone, disk: 'spare' });
    expect([spare.status, spare.sizeGb, spare.users]).toEqual(['READY', '15', []]);
    const inUse = await raw(emu.url, 'DELETE', `projects/${project}/zones/${zone}/disks/vm-a-pd`);
    expect([inUse.status, inUse.json.error.errors[0].reason]).toEqual([400, 'resourceInUseByAnotherResource']);
    expect(inUse.json.error.message).toBe(
      `The disk resource 'projects/${project}/zones/${zone}/disks/vm-a-pd' is already being used by 'projects/${project}/zones/${zone}/instances/vm-a'`,
    );
    // vm-d boots from its own disk and attaches `spare` without autoDelete.
    await gce.finish(
      await gce.instances.insert({
        project,
        zone,
        instanceResource: instanceBody('vm-d', {
          disks: [
            { boot: true, initializeParams: { sourceImage: 'projects/cos-cloud/global/images/family/cos-stable' } },
            { source: `projects/${project}/zones/${zone}/disks/spare`, autoDelete: false },
          ],
        }),
      }),
      project,
    );
    await emu.settled();
    const spareDir = runtime.worlds.at(-1)?.instances.find((i) => i.key === `${zone}/vm-d`)?.dataDiskDir as string;
    expect(existsSync(spareDir)).toBe(true);
    await gce.finish(await gce.instances.delete({ project, zone, instance: 'vm-d' }), project);
    expect((await clientError(gce.instances.get({ project, zone, instance: 'vm-d' }))).httpStatusCode).toBe(404);
    expect((await clientError(gce.disks.get({ project, zone, disk: 'vm-d' }))).httpStatusCode).toBe(404);
    const [kept] = await gce.disks.get({ project, zone, disk: 'spare' });
    expect(kept.users).toEqual([]);
    expect(existsSync(spareDir)).toBe(true);
    const agg = await raw(emu.url, 'GET', `projects/${project}/aggregated/disks`);
    expect(agg.json.items[`zones/${zone}`].disks.map((d: { name: string }) => d.name)).toEqual([
      'spare',
      'vm-a',
      'vm-a-pd',
      'vm-b',
      'vm-b-pd',
    ]);
    await gce.finish(await gce.disks.delete({ project, zone, disk: 'spare' }), project);
    expect(existsSync(spareDir)).toBe(false);
  });
});

describe('addresses', () => {
  test('static address: RESERVED, IN_USE by one instance at a time, released on deleteAccessConfig', async () => {
    await gce.finish(
      await gce.addresses.insert({ project, region, addressResource: { name: 'm-ip', labels: { 'ha-masters-cluster': 'm' } } }),
      project,
    );
    const [a] = await gce.addresses.get({ project, region, address: 'm-ip' });
    expect(a.status).toBe('RESERVED');
    expect(a.address).toMatch(new RegExp(`^127\\.${octet}\\.3\\.\\d+$`));
    expect((await clientError(gce.addresses.delete({ project, region, address: 'm-ip', requestId: 'not-a-uuid' }))).httpStatusCode).toBe(
      400,
    );
    // vm-a has an ephemeral access config; swap it for the static one.
    await gce.finish(
      await gce.instances.deleteAccessConfig({ project, zone, instance: 'vm-a', networkInterface: 'nic0', accessConfig: 'External NAT' }),
      project,
    );
    await gce.finish(
      await gce.instances.addAccessConfig({
        project,
        zone,
        instance: 'vm-a',
        networkInterface: 'nic0',
        accessConfigResource: { name: 'External NAT', type: 'ONE_TO_ONE_NAT', natIP: a.address as string },
      }),
      project,
    );
    const [used] = await gce.addresses.get({ project, region, address: 'm-ip' });
    expect(used.status).toBe('IN_USE');
    expect(used.users).toEqual([`${emu.url}/compute/v1/projects/${project}/zones/${zone}/instances/vm-a`]);
    const [vm] = await gce.instances.get({ project, zone, instance: 'vm-a' });
    expect(vm.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP).toBe(a.address);
    // A second user is refused at once.
    const second = await raw(emu.url, 'POST', `projects/${project}/zones/${zone}/instances/vm-b/addAccessConfig?networkInterface=nic0`, {
      name: 'nat',
      natIP: a.address,
    });
    expect([second.status, second.json.error.errors[0].reason]).toEqual([400, 'resourceInUseByAnotherResource']);
    const del = await raw(emu.url, 'DELETE', `projects/${project}/regions/${region}/addresses/m-ip`);
    expect([del.status, del.json.error.errors[0].reason]).toEqual([400, 'resourceInUseByAnotherResource']);
    await gce.finish(
      await gce.instances.deleteAccessConfig({ project, zone, instance: 'vm-a', networkInterface: 'nic0', accessConfig: 'External NAT' }),
      project,
    );
    const [free] = await gce.addresses.get({ project, region, address: 'm-ip' });
    expect([free.status, free.users]).toEqual(['RESERVED', []]);
  });

  test('setLabels with fingerprint; list filter; aggregatedList', async () => {
    const [a] = await gce.addresses.get({ project, region, address: 'm-ip' });
    const stale = await raw(emu.url, 'POST', `projects/${project}/regions/${region}/addresses/m-ip/setLabels`, {
      labels: {},
      labelFingerprint: 'AAAAAAAAAAA=',
    });
    expect([stale.status, stale.json.error.errors[0].reason]).toEqual([412, 'conditionNotMet']);
    await gce.finish(
      await gce.addresses.setLabels({
        project,
        region,
        resource: 'm-ip',
        regionSetLabelsRequestResource: { labels: { 'ha-masters-cluster': 'n' }, labelFingerprint: a.labelFingerprint },
      }),
      project,
    );
    const [list] = await gce.addresses.list({ project, region, filter: 'labels.ha-masters-cluster = n' });
    expect(list.map((x) => x.name)).toEqual(['m-ip']);
    const agg = await raw(emu.url, 'GET', `projects/${project}/aggregated/addresses`);
    expect(agg.json.items[`regions/${region}`].addresses.map((x: { name: string }) => x.name)).toEqual(['m-ip']);
    expect(agg.json.items['regions/us-east1'].warning.code).toBe('NO_RESULTS_ON_PAGE');
  });
});

describe('operations and requestId', () => {
  test('requestId: the same id returns the original operation and writes once', async () => {
    const requestId = randomUUID();
    const one = await gce.addresses.insert({ project, region, requestId, addressResource: { name: 'dedup' } });
    const two = await gce.addresses.insert({ project, region, requestId, addressResource: { name: 'dedup' } });
    expect(two[0].latestResponse.name).toBe(one[0].latestResponse.name);
    const op = await gce.finish(two, project);
    expect(op.error ?? null).toBeNull();
    // After DONE the same requestId still answers with that operation, not a 409.
    const three = await gce.addresses.insert({ project, region, requestId, addressResource: { name: 'dedup' } });
    expect(three[0].latestResponse as unknown as { name: string; status: string }).toMatchObject({ name: op.name, status: 'DONE' });
    const fresh = await clientError(gce.addresses.insert({ project, region, requestId: randomUUID(), addressResource: { name: 'dedup' } }));
    expect(fresh.httpStatusCode).toBe(409);
  });

  test('get, list, wait (bounded, may return RUNNING), delete', async () => {
    const started = await gce.addresses.insert({ project, region, addressResource: { name: 'slow' } });
    // Make this emulator's `wait` short and the insert slow: wait returns RUNNING.
    const name = started[0].latestResponse.name as string;
    emu.ctx.ops.settings.waitTimeoutMs = 50;
    const t0 = Date.now();
    const [w] = await gce.regionOperations.wait({ project, region, operation: name });
    emu.ctx.ops.settings.waitTimeoutMs = 500;
    if (w.status !== 'DONE') expect(Date.now() - t0).toBeLessThan(1500); // came back at the short wait bound, not at DONE
    const done = await gce.finish(started, project);
    expect(done.status).toBe('DONE');
    const [got] = await gce.regionOperations.get({ project, region, operation: name });
    expect(got.status).toBe('DONE');
    const [ops] = await gce.regionOperations.list({ project, region, filter: 'operationType = insert' });
    expect(ops.map((o) => o.name)).toContain(name);
    await gce.regionOperations.delete({ project, region, operation: name });
    expect((await clientError(gce.regionOperations.get({ project, region, operation: name }))).httpStatusCode).toBe(404);
    const agg = await raw(emu.url, 'GET', `projects/${project}/aggregated/operations`);
    expect(Object.keys(agg.json.items)).toContain('global');
    expect(agg.json.items[`zones/${zone}`].operations.length).toBeGreaterThan(0);
  });

  test('operation latency per kind: insert waits longer than the default', async () => {
    await admin(emu.url, 'latency', { operationType: 'insert', ms: 400 });
    const t0 = Date.now();
    await gce.finish(await gce.addresses.insert({ project, region, addressResource: { name: 'lat' } }), project);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
    await admin(emu.url, 'latency', { operationType: 'insert', ms: 60 });
  });
});
