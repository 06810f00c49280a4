// The ComputeApi methods `down` with delete-nodes uses on kube-up's node groups and templates, end to
// end: the adapter against the real emulator (REST layer, a runtime that starts no processes). The
// groups and templates are made with the official @google-cloud/compute client, since the action
// never creates them.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/instance_group_managers_client.js';
import { InstanceTemplatesClient } from '@google-cloud/compute/build/src/v1/instance_templates_client.js';
import { PassThroughClient } from 'google-auth-library';
import { createNullRuntime, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { createComputeApi, type ComputeApiHandle, type ComputeApiOptions } from '../../src/gce/client.ts';
import { GceError } from '../../src/gce/errors.ts';
import { computeClients, type Compute } from '../emulator/support/compute.ts';
import { startLossyProxy, type LossyProxy } from './lossy-proxy.ts';
import { emulatorAdmin } from '../support/emulator-admin.ts';

const project = 'gce-node-groups';
const zoneA = 'us-central1-a';
const zoneB = 'us-central1-b';

let dir: string;
let emu: RunningEmulator;
let api: ComputeApiHandle;
let gce: Compute;
let templates: InstanceTemplatesClient;
let groups: InstanceGroupManagersClient;
const opened: ComputeApiHandle[] = [];

function newApi(extra: Partial<ComputeApiOptions> = {}): ComputeApiHandle {
  const handle = createComputeApi({
    project,
    endpoint: emu.url,
    retry: { initialDelayMs: 5, maxDelayMs: 20, attempts: 4 },
    pollIntervalMs: 20,
    ...extra,
  });
  opened.push(handle);
  return handle;
}

const admin = (action: string, body?: unknown) => emulatorAdmin(emu.url)(action, body);

/** Method, path and status of every REST call since the last call, operations left out. */
async function requestsSinceLast(): Promise<string[]> {
  const { requests } = (await admin('requests')) as { requests: { method: string; path: string; status: number }[] };
  await admin('reset-requests', {});
  return requests
    .filter((r) => !r.path.includes('/operations/'))
    .map((r) => `${r.method} ${r.path.replace(`/compute/v1/projects/${project}/`, '')} ${r.status}`);
}

async function failure(p: Promise<unknown>): Promise<GceError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof GceError) return e;
    throw e;
  }
  throw new Error('expected a GceError');
}

async function makeTemplate(name: string): Promise<void> {
  await gce.finish(
    await templates.insert({
      project,
      instanceTemplateResource: {
        name,
        properties: {
          machineType: 'e2-small',
          disks: [
            { boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' } },
          ],
          networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ name: 'external-nat' }] }],
        },
      },
    }),
    project,
  );
}

async function makeGroup(zone: string, name: string, template: string, targetSize: number): Promise<void> {
  await gce.finish(
    await groups.insert({
      project,
      zone,
      instanceGroupManagerResource: {
        name,
        baseInstanceName: name,
        instanceTemplate: `global/instanceTemplates/${template}`,
        targetSize,
      },
    }),
    project,
  );
}

async function vmNames(zone: string): Promise<string[]> {
  const [vms] = await gce.instances.list({ project, zone });
  return vms.map((vm) => vm.name ?? '');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gce-node-groups-'));
  emu = await startEmulator({
    port: 0,
    stateDir: dir,
    runtime: createNullRuntime(),
    defaultOperationLatencyMs: 40,
    waitTimeoutMs: 500,
    log: () => {},
  });
  api = newApi();
  gce = computeClients(emu.port);
  const options = () => ({ apiEndpoint: '127.0.0.1', port: emu.port, protocol: 'http', authClient: new PassThroughClient() });
  templates = new InstanceTemplatesClient(options());
  groups = new InstanceGroupManagersClient(options());

  await makeTemplate('kubernetes-minion-template');
  await makeTemplate('kubernetes-windows-node-template');
  await makeTemplate('kubernetes2-minion-template');
  await makeTemplate('other-minion-template');
  await makeGroup(zoneA, 'kubernetes-minion-group', 'kubernetes-minion-template', 2);
  await makeGroup(zoneB, 'kubernetes-minion-group-b', 'kubernetes-minion-template', 1);
  await makeGroup(zoneA, 'kubernetes-windows-node-group', 'kubernetes-windows-node-template', 0);
  await makeGroup(zoneA, 'kubernetes2-minion-group', 'kubernetes2-minion-template', 0);
  await makeGroup(zoneB, 'other-minion-group', 'other-minion-template', 0);
});

afterAll(async () => {
  for (const handle of opened) await handle.close();
  await templates?.close();
  await groups?.close();
  await gce?.close();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('listing', () => {
  it('lists the managed instance groups with the prefix in every zone as {name, zone}, and only those', async () => {
    await requestsSinceLast();
    expect(await api.listInstanceGroupManagers('kubernetes-')).toEqual([
      { name: 'kubernetes-minion-group', zone: zoneA },
      { name: 'kubernetes-windows-node-group', zone: zoneA },
      { name: 'kubernetes-minion-group-b', zone: zoneB },
    ]);
    // The prefix goes to GCE as a filter on one aggregatedList call (RE2, full match).
    expect(await requestsSinceLast()).toEqual(['GET aggregated/instanceGroupManagers 200']);
    expect(await api.listInstanceGroupManagers('nothing-here')).toEqual([]);
  });

  it('follows every page of the aggregated list', async () => {
    await requestsSinceLast();
    const all = await newApi({ pageSize: 1 }).listInstanceGroupManagers('kubernetes');
    expect(all.map((g) => g.name)).toEqual([
      'kubernetes-minion-group',
      'kubernetes-windows-node-group',
      'kubernetes2-minion-group',
      'kubernetes-minion-group-b',
    ]);
    expect((await requestsSinceLast()).length).toBe(4);
  });

  it('lists the instance templates with the prefix, across pages, and only those', async () => {
    expect(await api.listInstanceTemplates('kubernetes-')).toEqual([
      { name: 'kubernetes-minion-template' },
      { name: 'kubernetes-windows-node-template' },
    ]);
    await requestsSinceLast();
    const paged = await newApi({ pageSize: 1 }).listInstanceTemplates('kubernetes');
    expect(paged.map((t) => t.name)).toEqual([
      'kubernetes-minion-template',
      'kubernetes-windows-node-template',
      'kubernetes2-minion-template',
    ]);
    expect((await requestsSinceLast()).length).toBe(3);
  });

  it('a list that meets 429 is retried and answers', async () => {
    await requestsSinceLast();
    await admin('fail', { method: 'GET', path: '/global/instanceTemplates$', status: 429, times: 1 });
    expect(await api.listInstanceTemplates('kubernetes-minion')).toEqual([{ name: 'kubernetes-minion-template' }]);
    expect(await requestsSinceLast()).toEqual(['GET global/instanceTemplates 429', 'GET global/instanceTemplates 200']);
  });
});

describe('teardown', () => {
  it('a template still used by a group is a resourceInUse GceError and stays', async () => {
    const e = await failure(api.deleteInstanceTemplate('kubernetes-minion-template'));
    expect([e.kind, e.httpStatus, e.reason, e.resource]).toEqual([
      'resourceInUse',
      400,
      'resourceInUseByAnotherResource',
      `projects/${project}/global/instanceTemplates/kubernetes-minion-template`,
    ]);
    expect(e.message).toBe(
      `failed to delete instance template projects/${project}/global/instanceTemplates/kubernetes-minion-template: ` +
        `The instance_template resource 'projects/${project}/global/instanceTemplates/kubernetes-minion-template' is already being used by ` +
        `'projects/${project}/zones/${zoneA}/instanceGroupManagers/kubernetes-minion-group'`,
    );
    expect(await api.listInstanceTemplates('kubernetes-minion')).toEqual([{ name: 'kubernetes-minion-template' }]);
  });

  it('deleting a group removes it and the VMs it manages, in one call', async () => {
    const members = (await vmNames(zoneA)).filter((n) => n.startsWith('kubernetes-minion-group-'));
    expect(members).toHaveLength(2);
    await requestsSinceLast();
    await api.deleteInstanceGroupManager(zoneA, 'kubernetes-minion-group');
    const calls = await requestsSinceLast();
    expect(calls).toEqual([`DELETE zones/${zoneA}/instanceGroupManagers/kubernetes-minion-group 200`]);
    expect((await vmNames(zoneA)).filter((n) => n.startsWith('kubernetes-minion-group-'))).toEqual([]);
    const [disks] = await gce.disks.list({ project, zone: zoneA });
    expect(disks.filter((d) => members.includes(d.name ?? ''))).toEqual([]);
    expect(await api.listInstanceGroupManagers('kubernetes-minion')).toEqual([{ name: 'kubernetes-minion-group-b', zone: zoneB }]);
  });

  it('a group that is gone is a notFound GceError (the engine treats it as done)', async () => {
    const e = await failure(api.deleteInstanceGroupManager(zoneA, 'kubernetes-minion-group'));
    expect([e.kind, e.httpStatus, e.resource]).toEqual([
      'notFound',
      404,
      `projects/${project}/zones/${zoneA}/instanceGroupManagers/kubernetes-minion-group`,
    ]);
    expect(e.message).toMatch(
      /^failed to delete managed instance group projects\/gce-node-groups\/zones\/us-central1-a\/instanceGroupManagers\/kubernetes-minion-group: /,
    );
  });

  it('a delete whose answer was lost is retried with the same requestId; GCE does it once', async () => {
    const proxy: LossyProxy = await startLossyProxy(emu.url);
    try {
      const viaProxy = newApi({ endpoint: proxy.url });
      proxy.loseResponses('DELETE', /\/instanceGroupManagers\/kubernetes-minion-group-b$/);
      await viaProxy.deleteInstanceGroupManager(zoneB, 'kubernetes-minion-group-b');
      const deletes = proxy.seen.filter((line) =>
        line.startsWith(`DELETE /compute/v1/projects/${project}/zones/${zoneB}/instanceGroupManagers/kubernetes-minion-group-b?`),
      );
      expect(deletes).toHaveLength(2);
      expect(deletes[0]).toMatch(/\?requestId=[0-9a-f-]{36}$/);
      expect(deletes[1]).toBe(deletes[0]);
      const { resources } = await admin('state');
      const ops = Object.entries(resources as Record<string, any>).filter(
        ([p, op]) =>
          p.includes('/operations/') &&
          op.operationType === 'delete' &&
          op.targetLink?.endsWith('/instanceGroupManagers/kubernetes-minion-group-b'),
      );
      expect(ops).toHaveLength(1);
      expect((await vmNames(zoneB)).filter((n) => n.startsWith('kubernetes-minion-group-b-'))).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('once no group uses it, the template is deleted; a second delete is notFound', async () => {
    await api.deleteInstanceTemplate('kubernetes-minion-template');
    expect(await api.listInstanceTemplates('kubernetes-minion')).toEqual([]);
    const e = await failure(api.deleteInstanceTemplate('kubernetes-minion-template'));
    expect([e.kind, e.httpStatus, e.resource]).toEqual([
      'notFound',
      404,
      `projects/${project}/global/instanceTemplates/kubernetes-minion-template`,
    ]);
    // Other clusters' groups and templates are untouched.
    expect(await api.listInstanceTemplates('other-')).toEqual([{ name: 'other-minion-template' }]);
    expect(await api.listInstanceGroupManagers('other-')).toEqual([{ name: 'other-minion-group', zone: zoneB }]);
  });
});
