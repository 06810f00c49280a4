// world.test.ts on the Debian runtime: three master replicas, driven only through the Compute API
// (official client) with the metadata and start-up script the action ships, boot as Debian VMs in a
// VPC the test process cannot route to, behind GCE's firewall. Their etcd forms one cluster (the
// test adds learners by hand, through a tunnel into the VPC as a self-hosted runner would), the
// forwarding rule on the static IP forwards to the pool's healthy members, a zone going down powers
// its VM off while the others keep quorum, and stop() leaves nothing on the host.
import { rmSync } from 'node:fs';
import { computeClients, admin } from './support/compute.ts';
import type { Compute } from './support/compute.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { DebianRuntime } from '../../emulator/vm/runtime.ts';
import { hostNamesFor } from '../../emulator/vm/names.ts';
import { debianSupport, debianTest, hostLeftovers, startDebianEmulator } from '../support/debian-vms.ts';
import { httpsGet, processAlive, waitFor } from '../support/runtime-vms.ts';
import { allowSelfHostedRunner } from '../../scripts/runner-firewall.ts';
import { clusterNames, clientUrl, peerUrl } from '../../src/model.ts';
import { etcdClientTls, memberCertFor, newClusterSecrets, replicaServingCertFor } from '../../src/engine/secrets.ts';
import type { ClusterSecrets, KeyPair, KeyRefs } from '../../src/engine/secrets.ts';
import { KeyStore } from '../../src/engine/key-store.ts';
import { createSecretManager } from '../../src/secrets/client.ts';
import { adcTokenSource } from '../../src/auth/adc.ts';
import { memberCertsMetadata, replicaMetadata } from '../../src/engine/replica-metadata.ts';
import { loadReleaseManifest } from '../../src/release/load.ts';
import type { ReleaseManifest } from '../../src/release/manifest.ts';
import { createEtcdAdmin } from '../../src/etcd/admin.ts';
import { createMemberClient } from '../../src/etcd/client.ts';
import type { Etcd3 } from 'etcd3';
import { TunnelTransport } from '../../src/etcd/tunnel-transport.ts';
import type { EtcdAdmin } from '../../src/etcd/types.ts';

const project = 'world-debian';
const region = 'europe-west1';
const names = clusterNames('kubernetes');
const MASTER = names.master;
const replicas = [
  { name: MASTER, zone: 'europe-west1-b' },
  { name: `${MASTER}-1a2`, zone: 'europe-west1-c' },
  { name: `${MASTER}-3f4`, zone: 'europe-west1-d' },
];

let emu: RunningEmulator;
let gce: Compute;
let tunnel: TunnelTransport;
let etcd: EtcdAdmin;
let secrets: ClusterSecrets & { etcdCa: KeyPair };
let keys: KeyStore;
let refs: KeyRefs;
/** The VMs run as the project's default Compute Engine account, as the action's default. */
let account = '';
let release: ReleaseManifest;
let staticIp = '';
const ips: Record<string, string> = {};

beforeAll(async () => {
  if (!debianSupport.ok) return;
  emu = await startDebianEmulator();
  gce = computeClients(emu.port);
  release = await loadReleaseManifest(emu.releaseManifestUrl!);
  const runtime = emu.runtime as DebianRuntime;
  tunnel = new TunnelTransport((host, port) => runtime.dial('default', host, port, 'runner'));
  await allowSelfHostedRunner(emu.url, project);
  // The action's own key store: the keys go to the emulator's Secret Manager, the VMs read them there.
  process.env.GCE_METADATA_HOST = `${emu.host}:${emu.port}`;
  keys = new KeyStore(createSecretManager({ project, endpoint: emu.url, token: adcTokenSource(() => {}) }), () => {});
  account = ((await (await fetch(`${emu.url}/compute/v1/projects/${project}`)).json()) as { defaultServiceAccount: string })
    .defaultServiceAccount;
}, 180_000);

afterAll(async () => {
  if (!emu) return;
  await etcd?.close();
  await tunnel.close();
  await gce.close();
  const pids = emu.runtime.pids();
  await emu.stop();
  expect(pids.some(processAlive)).toBe(false);
  expect(hostLeftovers(hostNamesFor(emu.stateDir).prefix, emu.stateDir)).toEqual([]);
  rmSync(emu.stateDir, { recursive: true, force: true });
}, 60_000);

/** The three rules the action creates (src/engine/apply.ts): the API for all, etcd between replicas, health checks. */
async function createClusterFirewalls(): Promise<void> {
  const rules = [
    { name: names.firewallHttps, allowed: [{ IPProtocol: 'tcp', ports: ['443'] }], sourceRanges: ['0.0.0.0/0'] },
    { name: names.firewallEtcd, allowed: [{ IPProtocol: 'tcp', ports: ['2379', '2380'] }], sourceTags: [names.tag] },
    {
      name: names.firewallHealthChecks,
      allowed: [{ IPProtocol: 'tcp', ports: ['3990'] }],
      sourceRanges: ['35.191.0.0/16', '209.85.152.0/22', '209.85.204.0/22'],
    },
  ];
  for (const rule of rules) {
    await gce.finish(
      await gce.firewalls.insert({ project, firewallResource: { ...rule, network: 'global/networks/default', targetTags: [names.tag] } }),
      project,
    );
  }
}

/** Inserts a replica with the action's metadata, then gives it its certificates once its IP is known. */
async function createReplica(i: number): Promise<string> {
  const { name, zone } = replicas[i]!;
  const seeds = replicas.slice(0, i).map((r) => r.name);
  const metadata = replicaMetadata({
    names,
    vm: name,
    first: i === 0,
    seeds,
    seedEndpoints: seeds.map((s) => clientUrl(ips[s]!)),
    release,
    staticIp,
    settings: { multizone: true, quorumRead: true },
    secrets,
    refs,
    zone,
  });
  await gce.finish(
    await gce.instances.insert({
      project,
      zone,
      instanceResource: {
        name,
        machineType: `zones/${zone}/machineTypes/e2-standard-2`,
        disks: [
          { boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' } },
          { autoDelete: true, deviceName: `${name}-pd`, initializeParams: { diskName: `${name}-pd`, diskSizeGb: '20' } },
        ],
        networkInterfaces: [
          {
            network: 'global/networks/default',
            ...(i === 0 ? { accessConfigs: [{ type: 'ONE_TO_ONE_NAT', name: 'external-nat', natIP: staticIp }] } : {}),
          },
        ],
        tags: { items: [names.tag] },
        labels: { 'ha-masters-cluster': MASTER, 'ha-masters-role': 'master' },
        serviceAccounts: [{ email: 'default', scopes: ['https://www.googleapis.com/auth/cloud-platform'] }],
        metadata: { items: Object.entries(metadata).map(([key, value]) => ({ key, value })) },
      },
    }),
    project,
  );
  const [vm] = await gce.instances.get({ project, zone, instance: name });
  const ip = vm.networkInterfaces?.[0]?.networkIP as string;
  expect(ip).toMatch(/^10\.132\.0\.\d+$/);
  const member = await memberCertFor(secrets.etcdCa, name, ip);
  const serving = await replicaServingCertFor(secrets, MASTER, staticIp, ip);
  const certs = memberCertsMetadata(member, serving, await keys.saveReplica(names, name, member, serving, `serviceAccount:${account}`));
  const items = (vm.metadata?.items ?? []).map(({ key, value }) => ({ key, value }));
  await gce.finish(
    await gce.instances.setMetadata({
      project,
      zone,
      instance: name,
      metadataResource: {
        fingerprint: vm.metadata?.fingerprint,
        items: [...items, { key: 'etcd-member-certs', value: certs }],
      },
    }),
    project,
  );
  ips[name] = ip;
  return ip;
}

const endpointsOf = (vms: string[]): string[] => vms.map((n) => clientUrl(ips[n]!));

async function put(via: string[], key: string, value: string): Promise<void> {
  const client = await etcdClientFor(via);
  await client.put(key).value(value);
}

async function get(via: string, key: string): Promise<string | null> {
  return (await etcdClientFor([via])).get(key).string();
}

// A plain etcd3 client through the tunnel, for data (the admin only does membership).
const clients = new Map<string, Etcd3>();
async function etcdClientFor(members: string[]): Promise<Etcd3> {
  const key = members.join(',');
  const existing = clients.get(key);
  if (existing) return existing;
  const url = clientUrl(ips[members[0]!]!);
  const client = createMemberClient(etcdClientTls(secrets), url, await tunnel.dialUrl(url));
  clients.set(key, client);
  return client;
}
afterAll(() => {
  for (const c of clients.values()) c.close();
});

debianTest(
  'three Debian master replicas form one etcd cluster; the forwarding rule forwards; zone down/up; no leaks',
  async () => {
    await gce.finish(await gce.addresses.insert({ project, region, addressResource: { name: names.address } }), project);
    staticIp = (await gce.addresses.get({ project, region, address: names.address }))[0].address as string;
    secrets = await newClusterSecrets(MASTER, staticIp);
    refs = await keys.saveCluster(names, secrets, `serviceAccount:${account}`);
    etcd = createEtcdAdmin(etcdClientTls(secrets), tunnel);
    await createClusterFirewalls();

    const ipA = await createReplica(0);
    await waitFor(
      'etcd on the first replica',
      60_000,
      async () => ((await etcd.observe([clientUrl(ipA)])).members[0]?.healthy ? true : undefined),
      500,
    );
    // Through the static IP on the first replica, from outside the VPC.
    expect(
      (
        await waitFor(
          'the apiserver on the static IP',
          30_000,
          async () => {
            const res = await httpsGet(staticIp, 443, '/readyz', secrets.apiCa.cert).catch(() => undefined);
            return res?.status === 200 ? res : undefined;
          },
          500,
        )
      ).body,
    ).toBe('ok');

    for (const i of [1, 2]) {
      const ip = await createReplica(i);
      const voters = endpointsOf(replicas.slice(0, i).map((r) => r.name));
      const { id } = await etcd.addLearner(voters, peerUrl(ip));
      await etcd.promote(voters, id, 60_000);
    }
    const view = await waitFor(
      'three healthy voters',
      60_000,
      async () => {
        const v = await etcd.observe(endpointsOf([MASTER]));
        return v.members.length === 3 && v.members.every((m) => m.healthy && !m.isLearner) ? v : undefined;
      },
      500,
    );
    expect(view.members.map((m) => m.name).sort()).toEqual(replicas.map((r) => `etcd-${r.name}`).sort());
    await put([MASTER], 'greeting', 'hello');
    expect(await get(replicas[2]!.name, 'greeting')).toBe('hello');

    // Load balancer: the static IP moves from the first VM to a forwarding rule in front of all three.
    await gce.finish(
      await gce.instances.deleteAccessConfig({
        project,
        zone: replicas[0]!.zone,
        instance: MASTER,
        accessConfig: 'external-nat',
        networkInterface: 'nic0',
      }),
      project,
    );
    const hc = await fetch(`${emu.url}/compute/v1/projects/${project}/global/httpHealthChecks`, {
      method: 'POST',
      body: JSON.stringify({ name: names.healthCheck, port: 3990, requestPath: '/readyz', checkIntervalSec: 1, timeoutSec: 1 }),
    });
    expect(hc.status).toBe(200);
    await waitFor(
      'health check',
      5000,
      async () =>
        (await fetch(`${emu.url}/compute/v1/projects/${project}/global/httpHealthChecks/${names.healthCheck}`)).status === 200 || undefined,
    );
    await gce.finish(
      await gce.targetPools.insert({
        project,
        region,
        targetPoolResource: {
          name: names.targetPool,
          healthChecks: [`global/httpHealthChecks/${names.healthCheck}`],
          instances: replicas.map((r) => `projects/${project}/zones/${r.zone}/instances/${r.name}`),
        },
      }),
      project,
    );
    await gce.finish(
      await gce.forwardingRules.insert({
        project,
        region,
        forwardingRuleResource: {
          name: names.forwardingRule,
          IPAddress: names.address,
          IPProtocol: 'TCP',
          portRange: '443-443',
          target: `regions/${region}/targetPools/${names.targetPool}`,
        },
      }),
      project,
    );
    const health = await waitFor(
      'pool healthy (the health checkers get through the firewall)',
      30_000,
      async () => {
        const states = await Promise.all(
          replicas.map(
            async (r) =>
              (
                await gce.targetPools.getHealth({
                  project,
                  region,
                  targetPool: names.targetPool,
                  instanceReferenceResource: { instance: `projects/${project}/zones/${r.zone}/instances/${r.name}` },
                })
              )[0].healthStatus?.[0]?.healthState,
          ),
        );
        return states.every((s) => s === 'HEALTHY') ? states : undefined;
      },
      500,
    );
    expect(health).toEqual(['HEALTHY', 'HEALTHY', 'HEALTHY']);
    expect(
      (
        await waitFor(
          'the apiserver through the forwarding rule',
          30_000,
          async () => {
            const res = await httpsGet(staticIp, 443, '/readyz', secrets.apiCa.cert).catch(() => undefined);
            return res?.status === 200 ? res : undefined;
          },
          300,
        )
      ).body,
    ).toBe('ok');

    // Zone down: the VM there is TERMINATED and powered off; the two others keep quorum.
    const third = replicas[2]!;
    await admin(emu.url, 'zone-down', { zone: third.zone });
    await emu.settled();
    expect((await gce.instances.get({ project, zone: third.zone, instance: third.name }))[0].status).toBe('TERMINATED');
    await put([MASTER], 'during-outage', 'ok');
    await admin(emu.url, 'zone-up', { zone: third.zone });
    // It boots again, its start-up script finds its data on the disk, and it catches up.
    await waitFor(
      'the third replica serves again',
      90_000,
      async () => ((await get(third.name, 'during-outage').catch(() => null)) === 'ok' ? true : undefined),
      500,
    );
  },
  300_000,
);
