// Every ComputeApi method end to end: the adapter against the real emulator (its REST layer; a
// runtime that starts no VM processes, since only the API is under test here). Faults come from the
// emulator's admin API; a lost response from a proxy.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNullRuntime, startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { createComputeApi, type ComputeApiHandle, type ComputeApiOptions } from '../../src/gce/client.ts';
import { GceError } from '../../src/gce/errors.ts';
import type { InstanceSpec } from '../../src/gce/types.ts';
import { healthCheck } from './fixtures/specs.ts';
import { startLossyProxy, type LossyProxy } from './lossy-proxy.ts';
import { emulatorAdmin } from '../support/emulator-admin.ts';

const project = 'gce-adapter';
const zoneA = 'us-central1-a';
const zoneB = 'us-central1-b';
const region = 'us-central1';
const prefix = 'kubernetes-master';

let dir: string;
let emu: RunningEmulator;
let api: ComputeApiHandle;
const logs: string[] = [];
const opened: ComputeApiHandle[] = [];

function newApi(extra: Partial<ComputeApiOptions> = {}): ComputeApiHandle {
  const handle = createComputeApi({
    project,
    endpoint: emu.url,
    retry: { initialDelayMs: 5, maxDelayMs: 20, attempts: 4 },
    pollIntervalMs: 20,
    log: (line) => void logs.push(line),
    ...extra,
  });
  opened.push(handle);
  return handle;
}

const admin = (action: string, body?: unknown) => emulatorAdmin(emu.url)(action, body);

/** Method, path and status of every REST call the emulator served since the last call. */
async function requestsSinceLast(): Promise<string[]> {
  const { requests } = (await admin('requests')) as { requests: { method: string; path: string; status: number }[] };
  await admin('reset-requests', {});
  return requests.map((r) => `${r.method} ${r.path.replace(`/compute/v1/projects/${project}/`, '')} ${r.status}`);
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

function replica(zone: string, name: string, extra: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    zone,
    name,
    machineType: 'e2-small',
    image: 'projects/debian-cloud/global/images/family/debian-12',
    serviceAccount: 'masters@p.iam.gserviceaccount.com',
    network: 'default',
    tags: [prefix],
    labels: { 'ha-masters-cluster': prefix, 'ha-masters-role': 'master' },
    metadata: { 'kube-env': "MASTER_NAME: 'kubernetes-master'" },
    dataDiskSizeGb: 10,
    ...extra,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gce-adapter-'));
  emu = await startEmulator({
    port: 0,
    stateDir: dir,
    runtime: createNullRuntime(),
    defaultOperationLatencyMs: 40,
    waitTimeoutMs: 500,
    log: () => {},
  });
  api = newApi();
});

afterAll(async () => {
  for (const handle of opened) await handle.close();
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('zones', () => {
  it('lists every zone with its region and status, DOWN zones included', async () => {
    await admin('zone-down', { zone: 'us-east1-c' });
    try {
      const zones = await api.listZones();
      expect(zones.map((z) => z.name)).toEqual([
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
      expect(zones.find((z) => z.name === 'us-east1-c')).toEqual({ name: 'us-east1-c', region: 'us-east1', status: 'DOWN' });
      expect(zones.find((z) => z.name === zoneA)).toEqual({ name: zoneA, region, status: 'UP' });
    } finally {
      await admin('zone-up', { zone: 'us-east1-c' });
    }
  });

  it('follows every page', async () => {
    await requestsSinceLast();
    const zones = await newApi({ pageSize: 4 }).listZones();
    expect(zones).toHaveLength(10);
    expect(await requestsSinceLast()).toEqual(['GET zones 200', 'GET zones 200', 'GET zones 200']);
  });
});

describe('instances', () => {
  beforeAll(async () => {
    await api.insertInstance(replica(zoneA, prefix));
    await api.insertInstance(replica(zoneB, `${prefix}-a1b`, { labels: { 'ha-masters-request': 'r1' } }));
    // Another cluster's master: must not be listed.
    await api.insertInstance(replica(zoneA, 'other-master', { tags: ['other-master'], labels: {} }));
  });

  it('reads an instance as plain data', async () => {
    const vm = await api.getInstance(zoneA, prefix);
    expect(vm).toEqual({
      name: prefix,
      zone: zoneA,
      status: 'RUNNING',
      internalIp: expect.stringMatching(/^127\.\d+\.\d+\.\d+$/),
      accessConfigs: [{ name: 'external-nat', natIP: expect.stringMatching(/^127\.\d+\.\d+\.\d+$/) }],
      labels: { 'ha-masters-cluster': prefix, 'ha-masters-role': 'master' },
      labelFingerprint: expect.any(String),
      metadata: { 'kube-env': "MASTER_NAME: 'kubernetes-master'" },
      metadataFingerprint: expect.any(String),
      tags: [prefix],
      serviceAccount: 'masters@p.iam.gserviceaccount.com',
      // The shape a new replica copies when the run does not name it (src/plan/shape.ts).
      machineType: 'e2-small',
      network: 'default',
      dataDiskSizeGb: 10,
      creationTimestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      selfLink: api.instanceLink(zoneA, prefix),
    });
    expect(vm!.labelFingerprint).not.toBe('');
    expect(vm!.metadataFingerprint).not.toBe('');
  });

  it("reads the project's default Compute Engine service account", async () => {
    expect(await api.getDefaultServiceAccount()).toMatch(/^\d+-compute@developer\.gserviceaccount\.com$/);
  });

  it('creates the data disk inline and deletes it with the VM', async () => {
    const { resources } = await admin('state');
    const disks = Object.keys(resources).filter((p) => p.includes(`/zones/${zoneA}/disks/${prefix}`));
    expect(disks.sort()).toEqual([
      `projects/${project}/zones/${zoneA}/disks/${prefix}`,
      `projects/${project}/zones/${zoneA}/disks/${prefix}-pd`,
    ]);
  });

  it('getInstance of a missing VM is undefined', async () => {
    await expect(api.getInstance(zoneA, `${prefix}-fff`)).resolves.toBeUndefined();
  });

  it('lists the instances with the prefix across zones and pages, and only those', async () => {
    await requestsSinceLast();
    const all = await newApi({ pageSize: 1 }).listInstances(prefix);
    expect(all.map((vm) => [vm.zone, vm.name])).toEqual([
      [zoneA, prefix],
      [zoneB, `${prefix}-a1b`],
    ]);
    expect(all[1]!.labels['ha-masters-request']).toBe('r1');
    expect(await requestsSinceLast()).toEqual(['GET aggregated/instances 200', 'GET aggregated/instances 200']);
    await expect(api.listInstances('nothing-here')).resolves.toEqual([]);
  });

  it('an insert of an existing name is alreadyExists', async () => {
    const e = await failure(api.insertInstance(replica(zoneA, prefix)));
    expect([e.kind, e.httpStatus, e.reason, e.resource]).toEqual([
      'alreadyExists',
      409,
      'alreadyExists',
      `projects/${project}/zones/${zoneA}/instances/${prefix}`,
    ]);
    expect(e.message).toMatch(new RegExp(`^failed to insert instance projects/${project}/zones/${zoneA}/instances/${prefix}: `));
  });

  it('sets metadata with the current fingerprint and refuses a stale one', async () => {
    const before = (await api.getInstance(zoneA, prefix))!;
    await api.setInstanceMetadata(
      zoneA,
      prefix,
      { ...before.metadata, 'etcd-member-certs': "ETCD_MEMBER_CERT: 'x'" },
      before.metadataFingerprint,
    );
    const after = (await api.getInstance(zoneA, prefix))!;
    expect(after.metadata).toEqual({ 'kube-env': "MASTER_NAME: 'kubernetes-master'", 'etcd-member-certs': "ETCD_MEMBER_CERT: 'x'" });
    expect(after.metadataFingerprint).not.toBe(before.metadataFingerprint);

    const e = await failure(api.setInstanceMetadata(zoneA, prefix, {}, before.metadataFingerprint));
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['conditionNotMet', 412, 'conditionNotMet']);
    expect((await api.getInstance(zoneA, prefix))!.metadata).toEqual(after.metadata);
  });

  it('sets labels with the current fingerprint and refuses a stale one', async () => {
    const before = (await api.getInstance(zoneB, `${prefix}-a1b`))!;
    await api.setInstanceLabels(zoneB, `${prefix}-a1b`, { ...before.labels, 'ha-masters-request': 'r2' }, before.labelFingerprint);
    const after = (await api.getInstance(zoneB, `${prefix}-a1b`))!;
    expect(after.labels['ha-masters-request']).toBe('r2');
    const e = await failure(api.setInstanceLabels(zoneB, `${prefix}-a1b`, {}, before.labelFingerprint));
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['conditionNotMet', 412, 'conditionNotMet']);
  });

  it('deletes an instance; a second delete is notFound', async () => {
    await api.insertInstance(replica(zoneB, `${prefix}-0ff`));
    await api.deleteInstance(zoneB, `${prefix}-0ff`);
    await expect(api.getInstance(zoneB, `${prefix}-0ff`)).resolves.toBeUndefined();
    const e = await failure(api.deleteInstance(zoneB, `${prefix}-0ff`));
    expect([e.kind, e.httpStatus, e.reason, e.resource]).toEqual([
      'notFound',
      404,
      'notFound',
      `projects/${project}/zones/${zoneB}/instances/${prefix}-0ff`,
    ]);
  });
});

describe('static address, access configs and the load balancer', () => {
  const addressName = `${prefix}-ip`;
  const hc = `${prefix}-hc`;

  it('reserves the address with labels; a second insert is alreadyExists', async () => {
    await api.insertAddress(region, addressName, { 'ha-masters-cluster': prefix });
    const a = (await api.getAddress(region, addressName))!;
    expect(a).toEqual({
      name: addressName,
      region,
      address: expect.stringMatching(/^127\.\d+\.\d+\.\d+$/),
      status: 'RESERVED',
      users: [],
      labels: { 'ha-masters-cluster': prefix },
      labelFingerprint: expect.any(String),
    });
    const e = await failure(api.insertAddress(region, addressName, {}));
    expect([e.kind, e.httpStatus, e.resource]).toEqual([
      'alreadyExists',
      409,
      `projects/${project}/regions/${region}/addresses/${addressName}`,
    ]);
    await expect(api.getAddress(region, 'no-such-ip')).resolves.toBeUndefined();
  });

  it('keeps the journal in the address labels, fingerprint-checked', async () => {
    const before = (await api.getAddress(region, addressName))!;
    await api.setAddressLabels(region, addressName, { ...before.labels, 'ha-masters-journal-r1': 'adding' }, before.labelFingerprint);
    const after = (await api.getAddress(region, addressName))!;
    expect(after.labels).toEqual({ 'ha-masters-cluster': prefix, 'ha-masters-journal-r1': 'adding' });
    const e = await failure(api.setAddressLabels(region, addressName, {}, before.labelFingerprint));
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['conditionNotMet', 412, 'conditionNotMet']);
  });

  it('moves the static IP onto a VM; the address in use cannot be deleted', async () => {
    const ip = (await api.getAddress(region, addressName))!.address;
    await api.deleteAccessConfig(zoneA, prefix, 'external-nat');
    expect((await api.getInstance(zoneA, prefix))!.accessConfigs).toEqual([]);
    await api.addAccessConfig(zoneA, prefix, 'external-nat', ip);
    expect((await api.getInstance(zoneA, prefix))!.accessConfigs).toEqual([{ name: 'external-nat', natIP: ip }]);
    const a = (await api.getAddress(region, addressName))!;
    expect([a.status, a.users]).toEqual(['IN_USE', [api.instanceLink(zoneA, prefix)]]);

    const e = await failure(api.deleteAddress(region, addressName));
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['resourceInUse', 400, 'resourceInUseByAnotherResource']);
    expect(e.message).toMatch(new RegExp(`^failed to delete address projects/${project}/regions/${region}/addresses/${addressName}: `));

    // Back to an ephemeral IP, as when the cluster goes HA and the IP moves to the forwarding rule.
    await api.deleteAccessConfig(zoneA, prefix, 'external-nat');
    await api.addAccessConfig(zoneA, prefix, 'external-nat');
    const vm = (await api.getInstance(zoneA, prefix))!;
    expect(vm.accessConfigs).toHaveLength(1);
    expect(vm.accessConfigs[0]!.natIP).not.toBe(ip);
    expect((await api.getAddress(region, addressName))!.status).toBe('RESERVED');
  });

  it('creates a VM on the static IP (single-master mode)', async () => {
    const ip = (await api.getAddress(region, addressName))!.address;
    await api.insertInstance(replica(zoneA, `${prefix}-5a5`, { natIP: ip }));
    expect((await api.getInstance(zoneA, `${prefix}-5a5`))!.accessConfigs).toEqual([{ name: 'external-nat', natIP: ip }]);
    expect((await api.getAddress(region, addressName))!.users).toEqual([api.instanceLink(zoneA, `${prefix}-5a5`)]);
    await api.deleteInstance(zoneA, `${prefix}-5a5`);
    expect((await api.getAddress(region, addressName))!.status).toBe('RESERVED');
  });

  it('creates firewalls; a second insert is alreadyExists; delete then notFound', async () => {
    await api.insertFirewall({
      name: `${prefix}-etcd`,
      network: 'default',
      description: 'etcd between masters',
      allowed: [{ IPProtocol: 'tcp', ports: ['2379', '2380'] }],
      targetTags: [prefix],
      sourceTags: [prefix],
    });
    await api.insertFirewall({
      name: `${prefix}-health-checks`,
      network: 'default',
      description: 'health checks',
      allowed: [{ IPProtocol: 'tcp', ports: ['3990'] }],
      targetTags: [prefix],
      sourceRanges: ['35.191.0.0/16', '209.85.152.0/22', '209.85.204.0/22'],
    });
    await expect(api.getFirewall(`${prefix}-etcd`)).resolves.toEqual({ name: `${prefix}-etcd` });
    const e = await failure(
      api.insertFirewall({
        name: `${prefix}-etcd`,
        network: 'default',
        description: '',
        allowed: [{ IPProtocol: 'tcp', ports: ['1'] }],
        targetTags: [],
      }),
    );
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['alreadyExists', 409, 'alreadyExists']);
    await api.deleteFirewall(`${prefix}-health-checks`);
    await expect(api.getFirewall(`${prefix}-health-checks`)).resolves.toBeUndefined();
    expect((await failure(api.deleteFirewall(`${prefix}-health-checks`))).kind).toBe('notFound');
    // Read back as the IAP diagnosis needs them: GCE's defaults filled in, this network's rules only.
    const mine = (await api.listFirewalls('default')).filter((r) => r.name.startsWith(prefix));
    expect(mine).toEqual([
      {
        name: `${prefix}-etcd`,
        network: 'default',
        direction: 'INGRESS',
        priority: 1000,
        disabled: false,
        action: 'allow',
        rules: [{ protocol: 'tcp', ports: ['2379', '2380'] }],
        sourceRanges: [],
        sourceTags: [prefix],
        targetTags: [prefix],
        byServiceAccount: false,
      },
    ]);
    expect((await api.listFirewalls('projects/p/global/networks/another')).filter((r) => r.name.startsWith(prefix))).toEqual([]);
  });

  it('builds health check, target pool and forwarding rule, and tears them down in order', async () => {
    await api.insertHttpHealthCheck(healthCheck(hc));
    await expect(api.getHttpHealthCheck(hc)).resolves.toEqual({ name: hc, selfLink: api.httpHealthCheckLink(hc) });
    expect((await failure(api.insertHttpHealthCheck(healthCheck(hc)))).kind).toBe('alreadyExists');

    await api.insertTargetPool(region, prefix, [api.instanceLink(zoneA, prefix)], [api.httpHealthCheckLink(hc)]);
    expect(await api.getTargetPool(region, prefix)).toEqual({
      name: prefix,
      region,
      instances: [api.instanceLink(zoneA, prefix)],
      healthChecks: [api.httpHealthCheckLink(hc)],
      selfLink: api.targetPoolLink(region, prefix),
    });
    await api.addTargetPoolInstance(region, prefix, api.instanceLink(zoneB, `${prefix}-a1b`));
    await api.removeTargetPoolInstance(region, prefix, api.instanceLink(zoneA, prefix));
    expect((await api.getTargetPool(region, prefix))!.instances).toEqual([api.instanceLink(zoneB, `${prefix}-a1b`)]);

    const ip = (await api.getAddress(region, addressName))!.address;
    await api.insertForwardingRule(region, prefix, ip, api.targetPoolLink(region, prefix), '443-443');
    expect(await api.getForwardingRule(region, prefix)).toEqual({
      name: prefix,
      region,
      IPAddress: ip,
      target: api.targetPoolLink(region, prefix),
      portRange: '443-443',
    });
    expect((await api.getAddress(region, addressName))!.users).toEqual([
      `${emu.url}/compute/v1/projects/${project}/regions/${region}/forwardingRules/${prefix}`,
    ]);

    // Things in use refuse to go.
    const hcInUse = await failure(api.deleteHttpHealthCheck(hc));
    expect([hcInUse.kind, hcInUse.httpStatus, hcInUse.reason]).toEqual(['resourceInUse', 400, 'resourceInUseByAnotherResource']);
    const poolInUse = await failure(api.deleteTargetPool(region, prefix));
    expect([poolInUse.kind, poolInUse.reason]).toEqual(['resourceInUse', 'resourceInUseByAnotherResource']);
    expect((await failure(api.deleteAddress(region, addressName))).kind).toBe('resourceInUse');

    await api.deleteForwardingRule(region, prefix);
    await api.deleteTargetPool(region, prefix);
    await api.deleteHttpHealthCheck(hc);
    await api.deleteAddress(region, addressName);
    await expect(api.getForwardingRule(region, prefix)).resolves.toBeUndefined();
    await expect(api.getTargetPool(region, prefix)).resolves.toBeUndefined();
    await expect(api.getHttpHealthCheck(hc)).resolves.toBeUndefined();
    await expect(api.getAddress(region, addressName)).resolves.toBeUndefined();
    expect((await failure(api.deleteTargetPool(region, prefix))).kind).toBe('notFound');
    expect((await failure(api.deleteForwardingRule(region, prefix))).kind).toBe('notFound');
    expect((await failure(api.deleteHttpHealthCheck(hc))).kind).toBe('notFound');
  });
});

describe('retries, de-duplication and operation errors', () => {
  it('a read that meets 429 twice is retried and answers', async () => {
    await requestsSinceLast();
    logs.length = 0;
    await admin('fail', { method: 'GET', path: `/zones/${zoneA}/instances/${prefix}$`, status: 429, times: 2 });
    const vm = await api.getInstance(zoneA, prefix);
    expect(vm?.name).toBe(prefix);
    expect(await requestsSinceLast()).toEqual([
      `GET zones/${zoneA}/instances/${prefix} 429`,
      `GET zones/${zoneA}/instances/${prefix} 429`,
      `GET zones/${zoneA}/instances/${prefix} 200`,
    ]);
    expect(logs).toEqual([
      expect.stringMatching(
        new RegExp(`^get instance projects/${project}/zones/${zoneA}/instances/${prefix}: rateLimited \\(429\\), retry 1/3 in \\d+ ms$`),
      ),
      expect.stringMatching(/: rateLimited \(429\), retry 2\/3 in \d+ ms$/),
    ]);
  });

  it('a write refused with 503 is retried with the same requestId and done once', async () => {
    const ids: string[] = [];
    const w = newApi({
      newRequestId: () => {
        const id = crypto.randomUUID();
        ids.push(id);
        return id;
      },
    });
    await requestsSinceLast();
    await admin('fail', { method: 'POST', path: '/global/firewalls$', status: 503, times: 1 });
    await w.insertFirewall({
      name: `${prefix}-https`,
      network: 'default',
      description: 'api',
      allowed: [{ IPProtocol: 'tcp', ports: ['443'] }],
      targetTags: [prefix],
    });
    expect(ids).toHaveLength(1);
    const calls = (await requestsSinceLast()).filter((r) => !r.includes('/operations/'));
    expect(calls).toEqual(['POST global/firewalls 503', 'POST global/firewalls 200']);
    const { resources } = await admin('state');
    const ops = Object.entries(resources as Record<string, any>).filter(
      ([p, op]) => p.includes('/global/operations/') && op.targetLink?.endsWith(`/firewalls/${prefix}-https`),
    );
    expect(ops.map(([, op]) => [op.operationType, op.__requestId])).toEqual([['insert', ids[0]]]);
  });

  it('a write whose answer was lost is retried with the same requestId; GCE does it once', async () => {
    const proxy: LossyProxy = await startLossyProxy(emu.url);
    try {
      const viaProxy = newApi({ endpoint: proxy.url });
      proxy.loseResponses('POST', new RegExp(`/zones/${zoneB}/instances$`));
      await viaProxy.insertInstance(replica(zoneB, `${prefix}-d0e`));
      const inserts = proxy.seen.filter((s) => s.startsWith(`POST /compute/v1/projects/${project}/zones/${zoneB}/instances?`));
      expect(inserts).toHaveLength(2);
      expect(inserts[0]).toMatch(/\?requestId=[0-9a-f-]{36}$/);
      expect(inserts[1]).toBe(inserts[0]);
      const all = await api.listInstances(`${prefix}-d0e`);
      expect(all.map((vm) => vm.name)).toEqual([`${prefix}-d0e`]);
      const { resources } = await admin('state');
      const ops = Object.entries(resources as Record<string, any>).filter(
        ([p, op]) => p.includes('/operations/') && op.targetLink?.endsWith(`/instances/${prefix}-d0e`),
      );
      expect(ops).toHaveLength(1);
    } finally {
      await proxy.stop();
    }
  });

  it('a wait for an operation that meets 503 is retried', async () => {
    await requestsSinceLast();
    await admin('fail', { method: 'POST', path: '/global/operations/[^/]+/wait$', status: 503, times: 1 });
    await api.insertFirewall({
      name: `${prefix}-w503`,
      network: 'default',
      description: '',
      allowed: [{ IPProtocol: 'tcp', ports: ['1'] }],
      targetTags: [prefix],
    });
    const seen = (await requestsSinceLast()).map((r) => r.replace(/operations\/[^/]+\//, 'operations/OP/'));
    expect(seen.slice(0, 3)).toEqual([
      'POST global/firewalls 200',
      'POST global/operations/OP/wait 503',
      'POST global/operations/OP/wait 200',
    ]);
    await expect(api.getFirewall(`${prefix}-w503`)).resolves.toEqual({ name: `${prefix}-w503` });
  });

  it('gives up after the configured attempts with the last error', async () => {
    await requestsSinceLast();
    await admin('fail', { method: 'GET', path: `/global/firewalls/${prefix}-etcd$`, status: 503, times: 10 });
    try {
      const e = await failure(api.getFirewall(`${prefix}-etcd`));
      expect([e.kind, e.httpStatus, e.resource]).toEqual(['unavailable', 503, `projects/${project}/global/firewalls/${prefix}-etcd`]);
      expect(await requestsSinceLast()).toEqual(Array(4).fill(`GET global/firewalls/${prefix}-etcd 503`));
    } finally {
      await admin('clear-faults', {});
    }
  });

  it('never retries a conditionNotMet', async () => {
    const vm = (await api.getInstance(zoneA, prefix))!;
    await requestsSinceLast();
    expect((await failure(api.setInstanceLabels(zoneA, prefix, {}, 'c3RhbGU='))).kind).toBe('conditionNotMet');
    expect(await requestsSinceLast()).toEqual([`POST zones/${zoneA}/instances/${prefix}/setLabels 412`]);
    expect((await api.getInstance(zoneA, prefix))!.labels).toEqual(vm.labels);
  });

  it('an insert whose operation ends in QUOTA_EXCEEDED is a quota GceError and leaves nothing', async () => {
    await admin('operation-error', { operationType: 'insert', target: `/instances/${prefix}-ccc$`, code: 'QUOTA_EXCEEDED' });
    const e = await failure(api.insertInstance(replica(zoneA, `${prefix}-ccc`)));
    expect([e.kind, e.httpStatus, e.reason, e.resource]).toEqual([
      'quota',
      403,
      'QUOTA_EXCEEDED',
      `projects/${project}/zones/${zoneA}/instances/${prefix}-ccc`,
    ]);
    expect(e.message).toMatch(
      new RegExp(`^failed to insert instance projects/${project}/zones/${zoneA}/instances/${prefix}-ccc: Quota 'CPUS' exceeded\\.`),
    );
    await expect(api.getInstance(zoneA, `${prefix}-ccc`)).resolves.toBeUndefined();
  });

  it('waits across several RUNNING answers of operations.wait', async () => {
    await admin('latency', { operationType: 'insert', ms: 600, waitTimeoutMs: 100 });
    try {
      await requestsSinceLast();
      await api.insertFirewall({
        name: `${prefix}-slow`,
        network: 'default',
        description: '',
        allowed: [{ IPProtocol: 'tcp', ports: ['1'] }],
        targetTags: [prefix],
      });
      const waits = (await requestsSinceLast()).filter((r) => /^POST global\/operations\/[^/]+\/wait 200$/.test(r));
      expect(waits.length).toBeGreaterThanOrEqual(3);
      await expect(api.getFirewall(`${prefix}-slow`)).resolves.toEqual({ name: `${prefix}-slow` });
    } finally {
      await admin('latency', { operationType: 'insert', ms: 40, waitTimeoutMs: 500 });
    }
  });

  it('an operation that outlives the deadline is reported, not waited on forever', async () => {
    await admin('latency', { operationType: 'delete', ms: 3000, waitTimeoutMs: 100 });
    try {
      const impatient = newApi({ operationTimeoutMs: 300 });
      const e = await failure(impatient.deleteFirewall(`${prefix}-slow`));
      expect([e.kind, e.reason, e.resource]).toEqual([
        'other',
        'OPERATION_DEADLINE_EXCEEDED',
        `projects/${project}/global/firewalls/${prefix}-slow`,
      ]);
      expect(e.message).toMatch(
        new RegExp(
          `^failed to delete firewall projects/${project}/global/firewalls/${prefix}-slow: operation operation-\\S+ still (PENDING|RUNNING) after 0\\.3 s; it may yet finish`,
        ),
      );
    } finally {
      await admin('latency', { operationType: 'delete', ms: 40, waitTimeoutMs: 500 });
    }
  });
});
