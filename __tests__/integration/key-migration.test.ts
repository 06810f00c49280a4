// Issue 9, migration: a cluster made by an earlier version keeps every private key in its
// instances' metadata (contract v1: kube-env ETCD_CA_KEY, kube-master-certs *_KEY,
// etcd-member-certs ETCD_MEMBER_KEY / APISERVER_KEY). The next `up` moves them to Secret Manager
// one replica at a time and scrubs the metadata without restarting etcd; a run that dies half-way
// is finished by the next one. Real etcd, the engine as main.ts wires it, the emulator's Secret Manager.
import type { Intent } from '../../src/model.ts';
import { replicaKeysSecret } from '../../src/model.ts';
import { intent as baseIntent } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';
import { decodeFlatYaml, encodeFlatYaml, b64 } from '../../src/engine/kube-yaml.ts';
import { storedKeysOf } from '../../src/engine/secrets.ts';
import { privateKeysGcloudSees } from '../support/metadata-scan.ts';
import { createSecretManager } from '../../src/secrets/client.ts';
import { adcTokenSource } from '../../src/auth/adc.ts';
import { createMemberClient } from '../../src/etcd/client.ts';
import { etcdClientTls } from '../../src/engine/secrets.ts';
import { clientUrl, clusterNames } from '../../src/model.ts';
import { request } from 'node:https';

const B = 'europe-west1-b',
  C = 'europe-west1-c';
let world: EngineWorld;
const intent = (over: Partial<Intent>): Intent =>
  baseIntent({
    project: PROJECT,
    requestId: `req-${Math.random().toString(16).slice(2, 10)}`,
    ...(world.release ? { release: world.release } : {}),
    ...over,
  });
const sm = () => createSecretManager({ project: PROJECT, endpoint: world.url, token: adcTokenSource(() => {}) });

beforeAll(async () => {
  world = await startEngineWorld({ vmRuntime: 'process', reach: 'iap', operationLatencyMs: 20 });
  await world.run(intent({ zone: B, replicas: 2, zones: [B, C] }));
}, 300_000);
afterAll(async () => {
  await world?.stop();
}, 60_000);

/** Rewrites every replica's metadata the way an earlier version kept it, and deletes the secrets. */
async function makeItAnOldCluster(): Promise<void> {
  const { secrets, vms } = await world.secrets();
  const stored = vms.map(storedKeysOf).find((s) => s?.where === 'secret-manager')!;
  const etcdCa = await world.keys.withEtcdCaKey(stored, secrets);
  for (const vm of vms) {
    const env = decodeFlatYaml(vm.metadata['kube-env']!);
    const certs = decodeFlatYaml(vm.metadata['kube-master-certs']!);
    const own = decodeFlatYaml(vm.metadata['etcd-member-certs']!);
    const ownKeys = decodeFlatYaml((await sm().access(own.KEYS_SECRET!)).toString());
    const { KEYS_SECRET: _a, ETCD_CA_KEY_SECRET: _b, ...certsOnly } = certs;
    const { KEYS_SECRET: _c, ...ownCerts } = own;
    const metadata = {
      ...vm.metadata,
      'kube-env': encodeFlatYaml({ ...env, ETCD_CA_KEY: b64(etcdCa.key) }),
      'kube-master-certs': encodeFlatYaml({
        ...certsOnly,
        CA_KEY: b64(secrets.apiCa.key),
        MASTER_KEY: b64(secrets.apiServing.key),
        ETCD_APISERVER_CLIENT_KEY: b64(secrets.etcdClient.key),
        SERVICE_ACCOUNT_KEY: b64(secrets.serviceAccountKey),
        KUBE_CONTROLLER_MANAGER_KEY: b64(secrets.controllerManager.key),
        KUBE_SCHEDULER_KEY: b64(secrets.scheduler.key),
      }),
      'etcd-member-certs': encodeFlatYaml({ ...ownCerts, ...ownKeys }),
    };
    await world.compute.setInstanceMetadata(vm.zone, vm.name, metadata, vm.metadataFingerprint);
  }
  for (const id of await world.keys.listCluster(clusterNames('kubernetes'))) await world.keys.deleteSecret(id);
}

/** When each replica's etcd process started (etcd's own /metrics): a restart would change it. */
async function etcdStartTimes(): Promise<Record<string, string>> {
  const { secrets, vms } = await world.secrets();
  const tls = etcdClientTls(secrets);
  const out: Record<string, string> = {};
  for (const vm of vms) {
    const local = new URL(await world.dialUrl(clientUrl(vm.internalIp!)));
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: local.hostname,
          port: local.port,
          path: '/metrics',
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          servername: vm.internalIp,
          checkServerIdentity: () => undefined,
        },
        (res) => {
          let text = '';
          res
            .setEncoding('utf8')
            .on('data', (c: string) => {
              text += c;
            })
            .on('end', () => resolve(text));
        },
      );
      req.on('error', reject).end();
    });
    out[vm.name] = /^process_start_time_seconds (\S+)$/m.exec(body)?.[1] ?? 'none';
  }
  return out;
}

test("an old cluster's keys move to Secret Manager on the next up, one replica at a time, without restarting etcd; a run that dies half-way is finished by the next", async () => {
  await makeItAnOldCluster();
  const leaked = await privateKeysGcloudSees(world.url, PROJECT);
  expect(leaked.length).toBeGreaterThan(10);
  const started = await etcdStartTimes();
  expect(Object.values(started).every((t) => t !== 'none')).toBe(true);

  // The first run dies right after it moved the first replica's keys.
  let moved = 0;
  const dies = await world
    .runWith(intent({ zone: B, replicas: 2, zones: [B, C] }), (deps) => ({
      ...deps,
      compute: {
        ...deps.compute,
        setInstanceMetadata: async (...args: Parameters<typeof deps.compute.setInstanceMetadata>) => {
          await deps.compute.setInstanceMetadata(...args);
          if (++moved === 1) throw new Error('the runner died');
        },
      },
    }))
    .catch((e: unknown) => e);
  expect(String(dies)).toContain('the runner died');
  expect((await privateKeysGcloudSees(world.url, PROJECT)).length).toBeGreaterThan(0);

  const report = await world.run(intent({ zone: B, replicas: 2, zones: [B, C] }));
  expect(report.steps.map((s) => s.step.kind)).toEqual(['moveKeys']);
  expect(report.changed).toBe(true);
  expect(await privateKeysGcloudSees(world.url, PROJECT)).toEqual([]);
  const names = report.state.replicas.map((r) => r.name).sort();
  expect(await world.keys.listCluster(clusterNames('kubernetes'))).toEqual(
    ['kubernetes-master-cluster-keys', 'kubernetes-master-etcd-ca-key', ...names.map(replicaKeysSecret)].sort(),
  );
  expect(await etcdStartTimes()).toEqual(started);
  expect(report.state.etcd.members.every((m) => m.healthy)).toBe(true);

  // Moved is moved: the next run has nothing to do, and the cluster still takes writes.
  const again = await world.run(intent({ zone: B, replicas: 2, zones: [B, C] }));
  expect(again.steps).toEqual([]);
  const { secrets, vms } = await world.secrets();
  const url = clientUrl(vms[0]!.internalIp!);
  const client = createMemberClient(etcdClientTls(secrets), url, await world.dialUrl(url));
  try {
    await client.put('migrated').value('yes');
    expect(await client.get('migrated').string()).toBe('yes');
  } finally {
    client.close();
  }
}, 300_000);
