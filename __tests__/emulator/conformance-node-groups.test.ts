// Conformance with the official client for what kube-up made for nodes: global instance templates and
// zonal managed instance groups whose VMs are ordinary instances made from the template.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/instance_group_managers_client.js';
import { InstanceTemplatesClient } from '@google-cloud/compute/build/src/v1/instance_templates_client.js';
import { PassThroughClient } from 'google-auth-library';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { createNullRuntime, type NullRuntime } from '../../emulator/null-runtime.ts';
import { clientError, computeClients, raw, type Compute } from './support/compute.ts';

const project = 'conf-nodes';
const zone = 'us-central1-b';
const otherZone = 'us-east1-c';
let dir: string;
let emu: RunningEmulator;
let runtime: NullRuntime;
let gce: Compute;
let templates: InstanceTemplatesClient;
let groups: InstanceGroupManagersClient;
const base = () => `${emu.url}/compute/v1/projects/${project}`;

const templateResource = (name: string) => ({
  name,
  properties: {
    machineType: 'e2-small',
    disks: [
      {
        boot: true,
        autoDelete: true,
        initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12', diskSizeGb: '20' },
      },
    ],
    networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ name: 'external-nat' }] }],
    metadata: { items: [{ key: 'kube-env', value: "NODE: 'true'" }] },
    tags: { items: ['kubernetes-minion'] },
    labels: { 'node-pool': 'default' },
  },
});

async function vmsOf(prefix: string, z = zone) {
  const [vms] = await gce.instances.list({ project, zone: z, filter: `name = ${prefix}-*` });
  return vms;
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-nodes-'));
  runtime = createNullRuntime();
  emu = await startEmulator({ port: 0, stateDir: dir, runtime, defaultOperationLatencyMs: 40, log: () => {} });
  gce = computeClients(emu.port);
  const options = () => ({ apiEndpoint: '127.0.0.1', port: emu.port, protocol: 'http', authClient: new PassThroughClient() });
  templates = new InstanceTemplatesClient(options());
  groups = new InstanceGroupManagersClient(options());
});

afterAll(async () => {
  await templates?.close();
  await groups?.close();
  await gce?.close();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('instance templates', () => {
  test('insert, get as GCE stores it, list with filter and paging, 409, 404', async () => {
    const op = await gce.finish(
      await templates.insert({ project, instanceTemplateResource: templateResource('kubernetes-minion-template') }),
      project,
    );
    expect([op.status, op.operationType, op.targetLink, op.zone, op.region]).toEqual([
      'DONE',
      'insert',
      `${base()}/global/instanceTemplates/kubernetes-minion-template`,
      undefined,
      undefined,
    ]);
    await gce.finish(
      await templates.insert({ project, instanceTemplateResource: templateResource('kubernetes-minion-template-2') }),
      project,
    );
    await gce.finish(await templates.insert({ project, instanceTemplateResource: templateResource('other-template') }), project);

    const [t] = await templates.get({ project, instanceTemplate: 'kubernetes-minion-template' });
    expect(t).toMatchObject({
      kind: 'compute#instanceTemplate',
      name: 'kubernetes-minion-template',
      selfLink: `${base()}/global/instanceTemplates/kubernetes-minion-template`,
    });
    expect(t.id).toMatch(/^\d+$/);
    const p = t.properties!;
    expect(p.machineType).toBe('e2-small');
    expect(p.disks).toEqual([
      expect.objectContaining({ kind: 'compute#attachedDisk', type: 'PERSISTENT', mode: 'READ_WRITE', boot: true, autoDelete: true }),
    ]);
    expect(p.disks![0]!.initializeParams).toMatchObject({
      sourceImage: 'projects/debian-cloud/global/images/family/debian-12',
      diskSizeGb: '20',
    });
    expect(p.networkInterfaces?.[0]).toMatchObject({ network: `${base()}/global/networks/default`, name: 'nic0' });
    expect(p.networkInterfaces?.[0]?.accessConfigs?.[0]).toMatchObject({
      type: 'ONE_TO_ONE_NAT',
      name: 'external-nat',
      networkTier: 'PREMIUM',
    });
    expect(p.metadata?.items?.map((i) => [i.key, i.value])).toEqual([['kube-env', "NODE: 'true'"]]);
    expect([p.tags?.items, p.labels, p.canIpForward]).toEqual([['kubernetes-minion'], { 'node-pool': 'default' }, false]);

    const [listed] = await templates.list({ project, filter: 'name = kubernetes-minion-*' });
    expect(listed.map((x) => x.name)).toEqual(['kubernetes-minion-template', 'kubernetes-minion-template-2']);
    const page1 = await raw(emu.url, 'GET', `projects/${project}/global/instanceTemplates?maxResults=2`);
    expect([page1.json.kind, page1.json.items.length, typeof page1.json.nextPageToken]).toEqual([
      'compute#instanceTemplateList',
      2,
      'string',
    ]);
    const page2 = await raw(
      emu.url,
      'GET',
      `projects/${project}/global/instanceTemplates?maxResults=2&pageToken=${page1.json.nextPageToken}`,
    );
    expect([page2.json.items.map((i: { name: string }) => i.name), page2.json.nextPageToken]).toEqual([['other-template'], undefined]);

    const dup = await raw(emu.url, 'POST', `projects/${project}/global/instanceTemplates`, templateResource('other-template'));
    expect([dup.status, dup.json.error.errors[0].reason, dup.json.error.message]).toEqual([
      409,
      'alreadyExists',
      `The resource 'projects/${project}/global/instanceTemplates/other-template' already exists`,
    ]);
    expect(
      (await clientError(templates.insert({ project, instanceTemplateResource: templateResource('other-template') }))).httpStatusCode,
    ).toBe(409);
    const missing = await clientError(templates.get({ project, instanceTemplate: 'ghost' }));
    expect(missing).toEqual({
      httpStatusCode: 404,
      message: expect.stringContaining(`The resource 'projects/${project}/global/instanceTemplates/ghost' was not found`),
    });
  });

  test('refuses what GCE refuses: unknown fields, no machine type, missing image, no boot disk', async () => {
    const path = `projects/${project}/global/instanceTemplates`;
    const unknown = await raw(emu.url, 'POST', path, { name: 'bad', properties: { machineType: 'e2-small', machine_type: 'x' } });
    expect([unknown.status, unknown.json.error.message]).toEqual([
      400,
      'Invalid JSON payload received. Unknown name "machine_type" at \'properties\': Cannot find field.',
    ]);
    const noType = await raw(emu.url, 'POST', path, { name: 'bad', properties: { disks: templateResource('x').properties.disks } });
    expect([noType.status, noType.json.error.errors[0].reason, noType.json.error.message]).toEqual([
      400,
      'required',
      "Required field 'resource.properties.machineType' not specified",
    ]);
    const noImage = await raw(emu.url, 'POST', path, {
      name: 'bad',
      properties: {
        machineType: 'e2-small',
        disks: [{ boot: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-99' } }],
      },
    });
    expect([noImage.status, noImage.json.error.errors[0].reason]).toEqual([404, 'notFound']);
    const noBoot = await raw(emu.url, 'POST', path, { name: 'bad', properties: { machineType: 'e2-small', disks: [] } });
    expect([noBoot.status, noBoot.json.error.message]).toEqual([
      400,
      "Invalid value for field 'resource.properties.disks': ''. Boot disk must be specified.",
    ]);
    expect((await clientError(templates.get({ project, instanceTemplate: 'bad' }))).httpStatusCode).toBe(404);
  });
});

describe('managed instance groups', () => {
  test('insert makes targetSize plain VMs from the template, named <base>-<4 chars>, with IPs and disks', async () => {
    const op = await gce.finish(
      await groups.insert({
        project,
        zone,
        instanceGroupManagerResource: {
          name: 'kubernetes-minion-group',
          baseInstanceName: 'kubernetes-minion-group',
          instanceTemplate: `${base()}/global/instanceTemplates/kubernetes-minion-template`,
          targetSize: 2,
        },
      }),
      project,
    );
    expect([op.status, op.operationType, op.targetLink, op.zone]).toEqual([
      'DONE',
      'insert',
      `${base()}/zones/${zone}/instanceGroupManagers/kubernetes-minion-group`,
      `${base()}/zones/${zone}`,
    ]);
    expect(op.error).toBeUndefined();

    const vms = await until(
      'two RUNNING members',
      () => vmsOf('kubernetes-minion-group'),
      (v) => v.length === 2 && v.every((vm) => vm.status === 'RUNNING'),
    );
    for (const vm of vms) {
      expect(vm.name).toMatch(/^kubernetes-minion-group-[a-z0-9]{4}$/);
      expect(vm.machineType).toBe(`${base()}/zones/${zone}/machineTypes/e2-small`);
      expect(vm.networkInterfaces?.[0]?.networkIP).toMatch(/^127\.\d+\.1\.\d+$/);
      expect(vm.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP).toMatch(/^127\.\d+\.2\.\d+$/);
      expect([vm.tags?.items, vm.labels]).toEqual([['kubernetes-minion'], { 'node-pool': 'default' }]);
      expect(Object.fromEntries((vm.metadata?.items ?? []).map((i) => [i.key, i.value]))).toEqual({
        'kube-env': "NODE: 'true'",
        'instance-template': `projects/${project}/global/instanceTemplates/kubernetes-minion-template`,
        'created-by': `projects/${project}/zones/${zone}/instanceGroupManagers/kubernetes-minion-group`,
      });
      expect(vm.disks?.map((d) => [d.boot, d.autoDelete, d.diskSizeGb, d.source])).toEqual([
        [true, true, '20', `${base()}/zones/${zone}/disks/${vm.name}`],
      ]);
      const [disk] = await gce.disks.get({ project, zone, disk: vm.name! });
      expect(disk.users).toEqual([vm.selfLink]);
    }
    // Each VM went through the ordinary instance insert: one zonal insert operation per VM.
    const [zoneOps] = await gce.zoneOperations.list({ project, zone });
    expect(
      zoneOps.filter((o) => o.operationType === 'insert' && o.targetLink?.includes('/instances/kubernetes-minion-group-')).length,
    ).toBe(2);
    await emu.settled();
    const world = runtime.worlds.at(-1)!;
    expect(world.instances.filter((i) => i.name.startsWith('kubernetes-minion-group-')).map((i) => i.status)).toEqual([
      'RUNNING',
      'RUNNING',
    ]);

    const [group] = await groups.get({ project, zone, instanceGroupManager: 'kubernetes-minion-group' });
    expect(group).toMatchObject({
      kind: 'compute#instanceGroupManager',
      name: 'kubernetes-minion-group',
      baseInstanceName: 'kubernetes-minion-group',
      targetSize: 2,
      zone: `${base()}/zones/${zone}`,
      selfLink: `${base()}/zones/${zone}/instanceGroupManagers/kubernetes-minion-group`,
      instanceTemplate: `${base()}/global/instanceTemplates/kubernetes-minion-template`,
      versions: [{ instanceTemplate: `${base()}/global/instanceTemplates/kubernetes-minion-template` }],
      instanceGroup: `${base()}/zones/${zone}/instanceGroups/kubernetes-minion-group`,
      status: { isStable: true },
    });
    expect([group.currentActions?.none, group.currentActions?.creating, group.currentActions?.deleting]).toEqual([2, 0, 0]);
  });

  test('list per zone, aggregatedList keyed zones/<z> with NO_RESULTS_ON_PAGE, name filter', async () => {
    await gce.finish(
      await groups.insert({
        project,
        zone: otherZone,
        instanceGroupManagerResource: {
          name: 'kubernetes-minion-group-east',
          baseInstanceName: 'kubernetes-minion-east',
          versions: [{ instanceTemplate: `projects/${project}/global/instanceTemplates/kubernetes-minion-template-2` }],
          targetSize: 0,
        },
      }),
      project,
    );
    await gce.finish(
      await groups.insert({
        project,
        zone: otherZone,
        instanceGroupManagerResource: {
          name: 'other-group',
          baseInstanceName: 'other',
          instanceTemplate: 'global/instanceTemplates/other-template',
          targetSize: 0,
        },
      }),
      project,
    );
    const [inZone] = await groups.list({ project, zone });
    expect(inZone.map((g) => g.name)).toEqual(['kubernetes-minion-group']);

    const agg = await raw(emu.url, 'GET', `projects/${project}/aggregated/instanceGroupManagers`);
    expect(agg.json.kind).toBe('compute#instanceGroupManagerAggregatedList');
    expect(agg.json.items[`zones/${zone}`].instanceGroupManagers.map((g: { name: string }) => g.name)).toEqual(['kubernetes-minion-group']);
    expect(agg.json.items[`zones/${otherZone}`].instanceGroupManagers.map((g: { name: string }) => g.name)).toEqual([
      'kubernetes-minion-group-east',
      'other-group',
    ]);
    expect(agg.json.items['zones/europe-west1-d']).toEqual({
      warning: {
        code: 'NO_RESULTS_ON_PAGE',
        message: "There are no results for scope 'zones/europe-west1-d' on this page.",
        data: [{ key: 'scope', value: 'zones/europe-west1-d' }],
      },
    });

    const found: string[] = [];
    for await (const [scope, scoped] of groups.aggregatedListAsync({ project, filter: "name eq 'kubernetes-minion.*'" })) {
      for (const g of scoped.instanceGroupManagers ?? []) found.push(`${scope} ${g.name}`);
    }
    expect(found).toEqual([`zones/${zone} kubernetes-minion-group`, `zones/${otherZone} kubernetes-minion-group-east`]);
  });

  test('what gcloud reads beside the group: its instance group, managed instances, (no) autoscalers, aggregated templates', async () => {
    const ig = await raw(emu.url, 'GET', `projects/${project}/zones/${zone}/instanceGroups/kubernetes-minion-group`);
    expect(ig.json).toMatchObject({
      kind: 'compute#instanceGroup',
      name: 'kubernetes-minion-group',
      size: 2,
      zone: `${base()}/zones/${zone}`,
      selfLink: `${base()}/zones/${zone}/instanceGroups/kubernetes-minion-group`,
      network: `${base()}/global/networks/default`,
    });
    const igs = await raw(emu.url, 'GET', `projects/${project}/zones/${zone}/instanceGroups`);
    expect([igs.json.kind, igs.json.items.map((g: { name: string; size: number }) => [g.name, g.size])]).toEqual([
      'compute#instanceGroupList',
      [['kubernetes-minion-group', 2]],
    ]);
    expect((await raw(emu.url, 'GET', `projects/${project}/zones/${zone}/instanceGroups/ghost`)).status).toBe(404);

    const [managed] = await groups.listManagedInstances({ project, zone, instanceGroupManager: 'kubernetes-minion-group' });
    const vms = await vmsOf('kubernetes-minion-group');
    expect(managed.map((m) => [m.instance, m.instanceStatus, m.currentAction, m.version?.instanceTemplate])).toEqual(
      vms.map((vm) => [vm.selfLink, 'RUNNING', 'NONE', `${base()}/global/instanceTemplates/kubernetes-minion-template`]),
    );

    const autoscalers = await raw(emu.url, 'GET', `projects/${project}/zones/${zone}/autoscalers`);
    expect(autoscalers).toEqual({
      status: 200,
      json: {
        kind: 'compute#autoscalerList',
        id: `projects/${project}/zones/${zone}/autoscalers`,
        selfLink: `${base()}/zones/${zone}/autoscalers`,
      },
    });

    const agg = await raw(
      emu.url,
      'GET',
      `projects/${project}/aggregated/instanceTemplates?filter=${encodeURIComponent('name = kubernetes-*')}`,
    );
    expect(agg.json.kind).toBe('compute#instanceTemplateAggregatedList');
    expect(agg.json.items.global.instanceTemplates.map((t: { name: string }) => t.name)).toEqual([
      'kubernetes-minion-template',
      'kubernetes-minion-template-2',
    ]);
    expect(agg.json.items['regions/us-east1']).toEqual({
      warning: {
        code: 'NO_RESULTS_ON_PAGE',
        message: "There are no results for scope 'regions/us-east1' on this page.",
        data: [{ key: 'scope', value: 'regions/us-east1' }],
      },
    });
  });

  test('insert refuses a duplicate (409), a missing template (404), a malformed template URL, no base name', async () => {
    const resource = {
      name: 'kubernetes-minion-group',
      baseInstanceName: 'b',
      instanceTemplate: 'global/instanceTemplates/kubernetes-minion-template',
      targetSize: 1,
    };
    expect((await clientError(groups.insert({ project, zone, instanceGroupManagerResource: resource }))).httpStatusCode).toBe(409);
    const dup = await raw(emu.url, 'POST', `projects/${project}/zones/${zone}/instanceGroupManagers`, resource);
    expect([dup.status, dup.json.error.errors[0].reason]).toEqual([409, 'alreadyExists']);
    const ghost = await raw(emu.url, 'POST', `projects/${project}/zones/${zone}/instanceGroupManagers`, {
      ...resource,
      name: 'g2',
      instanceTemplate: 'global/instanceTemplates/ghost',
    });
    expect([ghost.status, ghost.json.error.message]).toEqual([
      404,
      `The resource 'projects/${project}/global/instanceTemplates/ghost' was not found`,
    ]);
    const malformed = await raw(emu.url, 'POST', `projects/${project}/zones/${zone}/instanceGroupManagers`, {
      ...resource,
      name: 'g2',
      instanceTemplate: 'kubernetes-minion-template',
    });
    expect([malformed.status, malformed.json.error.message]).toEqual([
      400,
      "Invalid value for field 'resource.instanceTemplate': 'kubernetes-minion-template'. The URL is malformed.",
    ]);
    const noBase = await raw(emu.url, 'POST', `projects/${project}/zones/${zone}/instanceGroupManagers`, {
      ...resource,
      name: 'g2',
      baseInstanceName: undefined,
    });
    expect([noBase.status, noBase.json.error.errors[0].reason]).toEqual([400, 'required']);
    expect((await clientError(groups.get({ project, zone, instanceGroupManager: 'g2' }))).httpStatusCode).toBe(404);
  });

  test('a template in use by a group cannot be deleted: 400 resourceInUseByAnotherResource', async () => {
    const inUse = await raw(emu.url, 'DELETE', `projects/${project}/global/instanceTemplates/kubernetes-minion-template`);
    expect([inUse.status, inUse.json.error.errors[0].reason, inUse.json.error.message]).toEqual([
      400,
      'resourceInUseByAnotherResource',
      `The instance_template resource 'projects/${project}/global/instanceTemplates/kubernetes-minion-template' is already being used by 'projects/${project}/zones/${zone}/instanceGroupManagers/kubernetes-minion-group'`,
    ]);
    const viaClient = await clientError(templates.delete({ project, instanceTemplate: 'kubernetes-minion-template-2' }));
    expect(viaClient.httpStatusCode).toBe(400);
    expect(viaClient.message).toContain(
      `is already being used by 'projects/${project}/zones/${otherZone}/instanceGroupManagers/kubernetes-minion-group-east'`,
    );
  });

  test('resize up makes more VMs, resize down deletes the surplus', async () => {
    const up = await gce.finish(await groups.resize({ project, zone, instanceGroupManager: 'kubernetes-minion-group', size: 3 }), project);
    expect([up.status, up.operationType, up.error]).toEqual(['DONE', 'resize', undefined]);
    await until(
      'three RUNNING members',
      () => vmsOf('kubernetes-minion-group'),
      (v) => v.length === 3 && v.every((vm) => vm.status === 'RUNNING'),
    );
    await gce.finish(await groups.resize({ project, zone, instanceGroupManager: 'kubernetes-minion-group', size: 2 }), project);
    await until(
      'two members',
      () => vmsOf('kubernetes-minion-group'),
      (v) => v.length === 2,
    );
    const [group] = await groups.get({ project, zone, instanceGroupManager: 'kubernetes-minion-group' });
    expect([group.targetSize, group.currentActions?.none, group.status?.isStable]).toEqual([2, 2, true]);
    const negative = await raw(
      emu.url,
      'POST',
      `projects/${project}/zones/${zone}/instanceGroupManagers/kubernetes-minion-group/resize?size=-1`,
      '',
    );
    expect([negative.status, negative.json.error.errors[0].reason]).toEqual([400, 'invalid']);
  });

  test('delete is one operation that removes the VMs and their autoDelete disks, then the group; the template is then free', async () => {
    const vms = await vmsOf('kubernetes-minion-group');
    expect(vms.length).toBe(2);
    const diskDirs = vms.map((vm) => String(emu.ctx.store.get(`projects/${project}/zones/${zone}/disks/${vm.name}`)?.__dir));
    expect(diskDirs.every((d) => existsSync(d))).toBe(true);
    const [zoneOpsBefore] = await gce.zoneOperations.list({ project, zone });

    const op = await gce.finish(await groups.delete({ project, zone, instanceGroupManager: 'kubernetes-minion-group' }), project);
    expect([op.status, op.operationType, op.targetLink, op.error]).toEqual([
      'DONE',
      'delete',
      `${base()}/zones/${zone}/instanceGroupManagers/kubernetes-minion-group`,
      undefined,
    ]);
    // At DONE everything is gone already: no VM, no disk, no group, and no other operation was made.
    expect(await vmsOf('kubernetes-minion-group')).toEqual([]);
    const [disks] = await gce.disks.list({ project, zone, filter: 'name = kubernetes-minion-group-*' });
    expect(disks).toEqual([]);
    expect(diskDirs.some((d) => existsSync(d))).toBe(false);
    expect((await clientError(groups.get({ project, zone, instanceGroupManager: 'kubernetes-minion-group' }))).httpStatusCode).toBe(404);
    const [zoneOpsAfter] = await gce.zoneOperations.list({ project, zone });
    expect(zoneOpsAfter.length - zoneOpsBefore.length).toBe(1);
    await emu.settled();
    expect(runtime.worlds.at(-1)!.instances.filter((i) => i.name.startsWith('kubernetes-minion-group-'))).toEqual([]);

    const again = await clientError(groups.delete({ project, zone, instanceGroupManager: 'kubernetes-minion-group' }));
    expect(again.httpStatusCode).toBe(404);
    const freed = await gce.finish(await templates.delete({ project, instanceTemplate: 'kubernetes-minion-template' }), project);
    expect([freed.status, freed.error]).toEqual(['DONE', undefined]);
    expect((await clientError(templates.get({ project, instanceTemplate: 'kubernetes-minion-template' }))).httpStatusCode).toBe(404);
  });
});

test('with the real VM runtime, group members run no processes (they are not master replicas)', async () => {
  const realDir = mkdtempSync(join(tmpdir(), 'emu-nodes-real-'));
  const real = await startEmulator({ port: 0, stateDir: realDir, defaultOperationLatencyMs: 20, vmRuntime: 'process', log: () => {} });
  const options = { apiEndpoint: '127.0.0.1', port: real.port, protocol: 'http', authClient: new PassThroughClient() };
  const realTemplates = new InstanceTemplatesClient({ ...options });
  const realGroups = new InstanceGroupManagersClient({ ...options });
  const realGce = computeClients(real.port);
  try {
    await realGce.finish(await realTemplates.insert({ project, instanceTemplateResource: templateResource('t') }), project);
    await realGce.finish(
      await realGroups.insert({
        project,
        zone,
        instanceGroupManagerResource: { name: 'g', baseInstanceName: 'g', instanceTemplate: 'global/instanceTemplates/t', targetSize: 1 },
      }),
      project,
    );
    const deadline = Date.now() + 5000;
    let vms: Array<{ status?: string | null }> = [];
    while (Date.now() < deadline && !(vms.length === 1 && vms[0]!.status === 'RUNNING')) {
      [vms] = await realGce.instances.list({ project, zone });
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(vms.map((vm) => vm.status)).toEqual(['RUNNING']);
    await real.settled();
    expect(real.runtime.pids()).toEqual([]);
  } finally {
    await realTemplates.close();
    await realGroups.close();
    await realGce.close();
    await real.stop();
    rmSync(realDir, { recursive: true, force: true });
  }
});
