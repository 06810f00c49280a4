// The engine end to end against the emulator with real etcd: create, grow 1 -> 2 -> 3 (the load
// balancer appears at 2 and takes the static IP), refuse bad requests without writing, remove,
// scale, replace a broken replica, tear down. Each step builds on the previous one, as a user's
// workflow would; data written to etcd at the start must still be there at the end.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { clientUrl } from '../../src/model.ts';
import type { Intent, RunReport } from '../../src/model.ts';
import { etcdClientTls } from '../../src/engine/secrets.ts';
import { createMemberClient } from '../../src/etcd/client.ts';
import { probeReadyz } from '../../src/kube/apiserver.ts';
import { RefusedError } from '../../src/errors.ts';
import { issueClientCert } from '../../src/etcd/certs.ts';
import { listKubeSystemLeases } from '../../src/kube/lease-api.ts';
import { controlPlaneLeases } from '../../src/kube/control-plane-leases.ts';
import { renderSummary } from '../../src/report/summary.ts';
import { intent as baseIntent } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import { computeClients } from '../emulator/support/compute.ts';
import { InstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/instance_group_managers_client.js';
import { InstanceTemplatesClient } from '@google-cloud/compute/build/src/v1/instance_templates_client.js';
import { PassThroughClient } from 'google-auth-library';
import type { EngineWorld } from '../support/engine-world.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const intent = (over: Partial<Intent>) =>
  baseIntent({ project: PROJECT, requestId: `req-${Math.random().toString(16).slice(2, 10)}`, ...over });

let world: EngineWorld;
let staticIp = '';

beforeAll(async () => {
  world = await startEngineWorld();
}, 60_000);
afterAll(async () => {
  await world?.stop();
}, 60_000);

const clusterSecrets = () => world.secrets();

async function withEtcd<T>(f: (client: ReturnType<typeof createMemberClient>) => Promise<T>): Promise<T> {
  const { secrets, vms } = await clusterSecrets();
  const vm = vms.find((v) => v.status === 'RUNNING' && v.internalIp)!;
  const url = clientUrl(vm.internalIp!);
  const client = createMemberClient(etcdClientTls(secrets), url, await world.dialUrl(url));
  try {
    return await f(client);
  } finally {
    client.close();
  }
}

/** The control plane's leases as an admin sees them through the static IP. */
async function apiLeases() {
  const { secrets } = await clusterSecrets();
  const admin = await issueClientCert(secrets.apiCa, 'test-admin', { organizations: ['system:masters'] });
  const items = await listKubeSystemLeases(
    { url: `https://${staticIp}`, caPem: secrets.apiCa.cert, serverName: 'kubernetes', clientCert: admin.cert, clientKey: admin.key },
    3000,
  );
  return controlPlaneLeases(items);
}

function replicas(report: RunReport) {
  return report.state.replicas.map((r) => r.name).sort();
}

test('up creates an HA-compatible cluster: static IP, firewalls, health check, first master with one-member etcd', async () => {
  const report = await world.run(intent({ zone: B }));
  expect(report.changed).toBe(true);
  expect(replicas(report)).toEqual(['kubernetes-master']);
  expect(report.state.address?.ip).toMatch(/^127\./);
  staticIp = report.state.address!.ip;
  expect(report.state.replicas[0]!.hasStaticIp).toBe(true);
  expect(report.state.firewalls).toHaveLength(world.reach === 'iap' ? 4 : 3); // through IAP the run keeps kubernetes-master-iap too
  expect(report.state.etcd.members).toHaveLength(1);
  expect(report.state.etcd.members[0]!.healthy).toBe(true);
  const { secrets } = await clusterSecrets();
  expect((await probeReadyz(`https://${staticIp}:443`, secrets.apiCa.cert, 3000)).ready).toBe(true);
  await withEtcd(async (c) => {
    await c.put('/registry/test/before').value('kept');
  });
}, 180_000);

test('a second identical up makes no write', async () => {
  await world.resetRequests();
  const report = await world.run(intent({ zone: B }));
  expect(report.changed).toBe(false);
  expect(await world.writes()).toEqual([]);
}, 60_000);

test('replicate into another region is refused and writes nothing; a dry run says so too', async () => {
  await world.resetRequests();
  await expect(world.run(intent({ zone: 'us-central1-a', replicate: true }))).rejects.toThrow(
    /us-central1-a is in region us-central1.*Nothing was changed/s,
  );
  const preview = await world.dryRun(intent({ zone: 'us-central1-a', replicate: true }));
  expect(preview.plan).toMatchObject({ steps: [], refused: true });
  expect(preview.plan!.outcome).toContain('us-central1-a is in region us-central1');
  expect(await world.writes()).toEqual([]);
}, 60_000);

test('1 -> 2 builds the load balancer on the same static IP; the API answers through it; a run that died is finished by the next', async () => {
  // The first attempt dies on the forwarding rule (a non-retryable 500), after the VM, the etcd
  // learner, its promotion, the pool and the IP detach were done.
  const add = intent({ zone: C, replicate: true });
  await world.admin('fail', { method: 'POST', path: '/forwardingRules$', status: 500, times: 1 });
  await expect(world.run(add)).rejects.toThrow(
    /forwarding rule.*Earlier steps of this run changed the cluster \(see the job summary\)\. Re-run with the same inputs to continue/s,
  );
  await world.admin('clear-faults', {});
  const report = await world.run(add);
  expect(report.steps.map((s) => s.step.kind)).not.toContain('createReplica');
  expect(report.steps.map((s) => s.step.kind)).toContain('createForwardingRule');
  expect(report.state.replicas).toHaveLength(2);
  expect(report.state.forwardingRule?.ip).toBe(staticIp);
  expect(report.state.etcd.members.filter((m) => !m.isLearner && m.healthy)).toHaveLength(2);
  const { secrets } = await clusterSecrets();
  let ready = false;
  for (let i = 0; i < 40 && !ready; i++) {
    ready = (await probeReadyz(`https://${staticIp}:443`, secrets.apiCa.cert, 2000)).ready;
    if (!ready) await new Promise((r) => setTimeout(r, 250));
  }
  expect(ready).toBe(true);
  await world.resetRequests();
  const again = await world.run(add);
  expect(again.changed).toBe(false);
  expect(await world.writes()).toEqual([]);
}, 240_000);

test('2 -> 3 in a third zone, announced first by a dry run that writes nothing; the old data is on every member', async () => {
  const add = intent({ zone: D, replicate: true });
  await world.resetRequests();
  const preview = await world.dryRun(add);
  expect(await world.writes()).toEqual([]);
  expect(preview.changed).toBe(false);
  expect(preview.plan?.refused).toBe(false);
  await world.resetRequests();
  const report = await world.run(add);
  // Many passes, one read of the zone catalogue.
  const log = (await world.admin('requests')) as { requests: { method: string; path: string }[] };
  expect(log.requests.filter((r) => r.method === 'GET' && /\/projects\/[^/]+\/zones$/.test(r.path))).toHaveLength(1);
  // The dry run announced exactly the steps the real run then took.
  expect(preview.plan!.steps.map((s) => s.step.kind)).toEqual(report.steps.map((s) => s.step.kind));
  expect(new Set(report.state.replicas.map((r) => r.zone))).toEqual(new Set([B, C, D]));
  expect(report.warnings).toEqual([]);
  expect(await withEtcd(async (c) => c.get('/registry/test/before').string())).toBe('kept');
}, 240_000);

test('down without delete-nodes removes the replica in the zone: snapshot, member, VM, then its apiserver identity lease at once', async () => {
  const snapshotDir = join(world.stateDir, 'backups');
  // Each apiserver writes its identity lease once it runs, a moment after it is ready: the third
  // replica's may not be there yet right after the run that added it.
  const before = await waitForValue(30_000, async () => {
    const leases = await apiLeases();
    return leases.identities.length >= 3 ? leases : undefined;
  }).catch(() => apiLeases());
  const hostsBefore = before.identities.map((l) => l.hostname).sort();
  expect(hostsBefore).toHaveLength(3);
  const report = await world.run(intent({ operation: 'down', deleteNodes: false, zone: D }), { snapshotDir });
  expect(report.snapshot?.path.startsWith(snapshotDir)).toBe(true);
  expect(statSync(report.snapshot!.path).mode & 0o777).toBe(0o600);
  expect(report.snapshot!.bytes).toBe(statSync(report.snapshot!.path).size);
  const logged = world.logs.findIndex((l) => l.startsWith('etcd snapshot: '));
  expect(logged).toBeGreaterThanOrEqual(0);
  expect(world.logs.slice(logged).some((l) => l.includes('remove etcd member'))).toBe(true);
  expect(report.state.replicas.map((r) => r.zone).sort()).toEqual([B, C]);
  expect(report.state.etcd.members).toHaveLength(2);
  const kinds = report.steps.map((s) => s.step.kind);
  expect(kinds.indexOf('removeMember')).toBeLessThan(kinds.indexOf('deleteReplica'));
  expect(report.warnings.join(' ')).toContain('even number');

  // The removed replica's identity lease went right after its VM, not an hour later.
  const removed = report.replicaName!;
  expect(kinds[kinds.indexOf('deleteReplica') + 1]).toBe('deleteIdentityLease');
  expect(report.steps.find((s) => s.step.kind === 'deleteIdentityLease')?.step).toMatchObject({ replica: removed });
  const after = await apiLeases();
  expect(after.identities.map((l) => l.hostname).sort()).toEqual(hostsBefore.filter((h) => h !== removed));
  expect(report.state.leases).toMatchObject({ readable: true });

  // The summary names the replicas that lead kube-controller-manager and kube-scheduler.
  const leases = report.state.leases as Extract<NonNullable<RunReport['state']['leases']>, { readable: true }>;
  const summary = renderSummary(report);
  for (const [lease, leader] of [
    ['kube-controller-manager', leases.controllerManager],
    ['kube-scheduler', leases.scheduler],
  ] as const) {
    expect(hostsBefore).toContain(leader?.hostname);
    const held =
      leader!.hostname === removed
        ? `| ${leader!.hostname}, which is no replica of this cluster now`
        : `| replica \`${leader!.hostname}\` |`;
    expect(summary).toContain(`| \`kube-system/${lease}\` ${held}`);
  }
  // Once a lease the removed replica held has expired, a remaining replica leads.
  const remaining = replicas(report);
  const settled = await waitForValue(30_000, async () => {
    const status = await world.run(intent({ operation: 'status' }));
    const l = status.state.leases;
    return l?.readable && remaining.includes(l.controllerManager?.hostname ?? '') && remaining.includes(l.scheduler?.hostname ?? '')
      ? status
      : undefined;
  });
  const text = renderSummary(settled);
  expect(text).toMatch(new RegExp(`\\| \`kube-system/kube-controller-manager\` \\| replica \`(${remaining.join('|')})\` \\|`));
  expect(text).toMatch(new RegExp(`\\| \`kube-system/kube-scheduler\` \\| replica \`(${remaining.join('|')})\` \\|`));
}, 240_000);

async function waitForValue<T>(ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not settled within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

test('replicas: 3 brings the third zone back', async () => {
  const report = await world.run(intent({ replicas: 3 }));
  expect(new Set(report.state.replicas.map((r) => r.zone))).toEqual(new Set([B, C, D]));
}, 240_000);

test('replace swaps a broken replica for a new one in its zone, keeping quorum and data', async () => {
  const before = await world.run(intent({ operation: 'status' }));
  const victim = before.state.replicas.find((r) => r.zone === C)!;
  await world.admin('kill-etcd', { zone: victim.zone, instance: victim.name, keepDown: true });
  const report = await world.run(intent({ operation: 'replace', zone: C }));
  const names = report.state.replicas.map((r) => r.name);
  expect(names).not.toContain(victim.name);
  expect(names).toContain(report.replicaName);
  expect(report.state.replicas.filter((r) => r.zone === C)).toHaveLength(1);
  expect(report.state.etcd.members.every((m) => m.healthy && !m.isLearner)).toBe(true);
  expect(report.state.etcd.members).toHaveLength(3);
  expect(await withEtcd(async (c) => c.get('/registry/test/before').string())).toBe('kept');
}, 300_000);

test("down with delete-nodes tears everything down, its node groups included (another cluster's stay); a re-run writes nothing", async () => {
  // kube-up's node groups: this cluster's, and one of a cluster whose prefix extends this one.
  const port = Number(new URL(world.url).port);
  const gce = computeClients(port);
  const opts = { apiEndpoint: '127.0.0.1', port, protocol: 'http', authClient: new PassThroughClient() };
  const templates = new InstanceTemplatesClient(opts);
  const groups = new InstanceGroupManagersClient(opts);
  for (const prefix of ['kubernetes', 'kubernetes-foo']) {
    await gce.finish(
      await templates.insert({
        project: PROJECT,
        instanceTemplateResource: {
          name: `${prefix}-minion-template`,
          properties: {
            machineType: 'e2-small',
            disks: [
              { boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' } },
            ],
            networkInterfaces: [{ network: 'global/networks/default' }],
          },
        },
      }),
      PROJECT,
    );
    await gce.finish(
      await groups.insert({
        project: PROJECT,
        zone: C,
        instanceGroupManagerResource: {
          name: `${prefix}-minion-group`,
          baseInstanceName: `${prefix}-minion`,
          instanceTemplate: `global/instanceTemplates/${prefix}-minion-template`,
          targetSize: 2,
        },
      }),
      PROJECT,
    );
  }
  const report = await world.run(intent({ operation: 'down', deleteNodes: true, zone: B }));
  expect(report.steps.slice(0, 2).map((s) => s.step.kind)).toEqual(['deleteNodeGroup', 'deleteNodeTemplate']);
  expect(await world.compute.listInstanceGroupManagers('kubernetes-')).toEqual([{ name: 'kubernetes-foo-minion-group', zone: C }]);
  expect(await world.compute.listInstanceTemplates('kubernetes-')).toEqual([{ name: 'kubernetes-foo-minion-template' }]);
  const nodes = (await world.compute.listInstances('kubernetes-')).map((vm) => vm.name);
  expect(nodes).toHaveLength(2);
  expect(nodes.every((n) => n.startsWith('kubernetes-foo-minion-'))).toBe(true);
  await Promise.all([templates.close(), groups.close()]);
  expect(report.state.replicas).toEqual([]);
  expect(report.state.address).toBeUndefined();
  expect(report.state.firewalls).toEqual([]);
  await world.resetRequests();
  const again = await world.run(intent({ operation: 'down', deleteNodes: true, zone: B }));
  expect(again.changed).toBe(false);
  expect(await world.writes()).toEqual([]);
}, 240_000);

test('replicate with no cluster is refused as kube-up did, nothing changed', async () => {
  const err = await world.run(intent({ zone: C, replicate: true })).catch((e) => e);
  expect(err).toBeInstanceOf(RefusedError);
  expect(err.nothingChanged).toBe(true);
}, 60_000);
