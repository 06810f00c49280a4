// One master VM's kube-apiserver stand-in: health endpoints that follow the local etcd, the
// health sidecar on 3990, one-to-one NAT from the external IP, and identity leases that the real
// @kubernetes/client-node can list, read and delete.
import { rmSync } from 'node:fs';
import { ApiException, CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { createVmRuntime } from '../../emulator/runtime/index.ts';
import type { VmRuntimeDetails } from '../../emulator/runtime/index.ts';
import type { RuntimeInstance } from '../../emulator/runtime/types.ts';
import { makeTestPki, masterMetadata, memberCertsMetadata, randomLoopbackBase } from '../support/runtime-certs.ts';
import type { TestPki } from '../support/runtime-certs.ts';
import { httpGet, httpsGet, instance, processAlive, runtimeOptions, sleep, tempStateDir, waitFor } from '../support/runtime-vms.ts';

const ZONE = 'us-central1-a';
const MASTER = 'kubernetes-master';
const base = randomLoopbackBase();
const STATIC_IP = `${base}.200`;
const IP = `${base}.21`;
const KEY = `${ZONE}/${MASTER}`;

let stateDir: string;
let pki: TestPki;
let runtime: VmRuntimeDetails;
let vm: RuntimeInstance;

/** The official client, anonymous or as the cluster admin. */
function coordination(as: 'anyone' | 'admin' = 'anyone'): CoordinationV1Api {
  const kc = new KubeConfig();
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  kc.loadFromOptions({
    clusters: [{ name: 'emulated', server: `https://${STATIC_IP}`, caData: b64(pki.apiserverCa.cert), skipTLSVerify: false }],
    users: [as === 'admin' ? { name: 'anyone', certData: b64(pki.admin.cert), keyData: b64(pki.admin.key) } : { name: 'anyone' }],
    contexts: [{ name: 'emulated', cluster: 'emulated', user: 'anyone' }],
    currentContext: 'emulated',
  });
  return kc.makeApiClient(CoordinationV1Api);
}

const readyz = async (): Promise<{ status: number; body: string }> => httpsGet(IP, 443, '/readyz', pki.apiserverCa.cert);

beforeAll(async () => {
  stateDir = tempStateDir('runtime-apiserver');
  pki = makeTestPki(MASTER, STATIC_IP);
  runtime = createVmRuntime(runtimeOptions(stateDir, { leaseRenewIntervalMs: 500 }));
  vm = instance(
    stateDir,
    ZONE,
    MASTER,
    IP,
    {
      ...masterMetadata({ pki, master: MASTER, staticIp: STATIC_IP, state: 'new', initialCluster: [MASTER] }),
      ...memberCertsMetadata(pki.member(MASTER, IP)),
    },
    { externalIps: [STATIC_IP] },
  );
  await runtime.apply({ instances: [vm], forwardingRules: [], firewalls: [] });
  await waitFor('apiserver ready', 20_000, async () => ((await readyz()).status === 200 ? true : undefined));
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

test('health endpoints, /version, the sidecar and the external IP', async () => {
  expect(await readyz()).toEqual({ status: 200, body: 'ok' });
  expect(await httpsGet(IP, 443, '/livez', pki.apiserverCa.cert)).toEqual({ status: 200, body: 'ok' });
  expect(await httpsGet(IP, 443, '/healthz', pki.apiserverCa.cert)).toEqual({ status: 200, body: 'ok' });
  const version = await httpsGet(IP, 443, '/version', pki.apiserverCa.cert);
  expect(version.status).toBe(200);
  expect(JSON.parse(version.body)).toMatchObject({ major: '1', minor: '31', gitVersion: 'v1.31.0', platform: 'linux/amd64' });
  expect(await httpGet(IP, 3990, '/readyz')).toEqual({ status: 200, body: 'ok' });
  expect((await httpGet(IP, 3990, '/other')).status).toBe(404);
  // The external IP is NATed to the VM: the serving certificate's IP SAN is that static IP.
  expect(await httpsGet(STATIC_IP, 443, '/readyz', pki.apiserverCa.cert, null)).toEqual({ status: 200, body: 'ok' });
  const unknown = await httpsGet(IP, 443, '/api/v1/pods', pki.apiserverCa.cert);
  expect(unknown.status).toBe(404);
  expect(JSON.parse(unknown.body)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404 });
});

test('/readyz is 500 while the local etcd is down (kept down) and 200 again once it is back', async () => {
  const pid = runtime.etcdPid(KEY)!;
  expect(processAlive(pid)).toBe(true);
  await runtime.killEtcd(KEY, true);
  expect(processAlive(pid)).toBe(false);
  const down = await readyz();
  expect(down.status).toBe(500);
  expect(down.body).toMatch(/^\[\+\]ping ok\n\[-\]etcd failed: .+\nreadyz check failed\n$/);
  const viaSidecar = await httpGet(IP, 3990, '/readyz');
  expect(viaSidecar.status).toBe(500);
  expect(viaSidecar.body).toContain('[-]etcd failed');
  // Kept down: no restart.
  await sleep(1500);
  expect(runtime.etcdPid(KEY)).toBeUndefined();
  expect((await readyz()).status).toBe(500);

  await runtime.killEtcd(KEY, false);
  await waitFor('ready again', 15_000, async () => ((await readyz()).status === 200 ? true : undefined));
  expect(runtime.etcdPid(KEY)).not.toBe(pid);
  expect(await httpGet(IP, 3990, '/readyz')).toEqual({ status: 200, body: 'ok' });
});

test('a killed etcd (not kept down) is restarted by the runtime', async () => {
  const pid = runtime.etcdPid(KEY)!;
  await runtime.killEtcd(KEY, false);
  const next = await waitFor('a new etcd', 10_000, async () => {
    const p = runtime.etcdPid(KEY);
    return p !== undefined && p !== pid ? p : undefined;
  });
  expect(processAlive(next)).toBe(true);
  await waitFor('ready again', 15_000, async () => ((await readyz()).status === 200 ? true : undefined));
});

test('identity leases: list with a label selector, read, delete as admin (404 Status after) with @kubernetes/client-node', async () => {
  const api = coordination();
  const name = runtime.identityLeaseName(KEY)!;
  // kube-apiserver's own name for the identity of host kubernetes-master (an independent derivation).
  expect(name).toBe('apiserver-mpzb65c4laynqu6rnedjohxo3e');

  const list = await waitFor('the lease', 10_000, async () => {
    const l = await api.listNamespacedLease({ namespace: 'kube-system', labelSelector: 'apiserver.kubernetes.io/identity=kube-apiserver' });
    return l.items.length > 0 ? l : undefined;
  });
  expect(list.items.map((l) => l.metadata?.name)).toEqual([name]);
  expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);
  const none = await api.listNamespacedLease({
    namespace: 'kube-system',
    labelSelector: 'apiserver.kubernetes.io/identity!=kube-apiserver',
  });
  expect(none.items).toEqual([]);

  const lease = await api.readNamespacedLease({ name, namespace: 'kube-system' });
  expect(lease.spec?.holderIdentity).toBe(runtime.identityLeaseHolder(KEY));
  expect(lease.spec?.holderIdentity).toMatch(new RegExp(`^${name}_[0-9a-f-]{36}$`));
  expect(lease.spec?.leaseDurationSeconds).toBe(3600);
  expect(lease.metadata?.labels).toEqual({ 'apiserver.kubernetes.io/identity': 'kube-apiserver', 'kubernetes.io/hostname': MASTER });
  expect(lease.metadata?.namespace).toBe('kube-system');

  // Raw JSON: renewTime is RFC 3339 with microseconds, and it moves on each renewal.
  const raw1 = JSON.parse(
    (await httpsGet(IP, 443, `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`, pki.apiserverCa.cert)).body,
  );
  expect(raw1).toMatchObject({ kind: 'Lease', apiVersion: 'coordination.k8s.io/v1' });
  expect(raw1.spec.renewTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  await sleep(1200);
  const raw2 = JSON.parse(
    (await httpsGet(IP, 443, `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`, pki.apiserverCa.cert)).body,
  );
  expect(Date.parse(raw2.spec.renewTime)).toBeGreaterThan(Date.parse(raw1.spec.renewTime));
  expect(Number(raw2.metadata.resourceVersion)).toBeGreaterThan(Number(raw1.metadata.resourceVersion));

  // A stale lease (as a vanished apiserver leaves behind) is deleted; 404 afterwards.
  const stale = 'apiserver-aaaaaaaaaaaaaaaaaaaaaaaaaa';
  const missing = await api.readNamespacedLease({ name: stale, namespace: 'kube-system' }).catch((e: unknown) => e);
  expect(missing).toBeInstanceOf(ApiException);
  expect((missing as ApiException<unknown>).code).toBe(404);
  const body = (missing as ApiException<string>).body;
  expect(typeof body === 'string' ? JSON.parse(body) : body).toMatchObject({
    kind: 'Status',
    status: 'Failure',
    reason: 'NotFound',
    code: 404,
    message: `leases.coordination.k8s.io "${stale}" not found`,
  });
  const admin = coordination('admin');
  const deleteMissing = await admin.deleteNamespacedLease({ name: stale, namespace: 'kube-system' }).catch((e: unknown) => e);
  expect((deleteMissing as ApiException<unknown>).code).toBe(404);

  // Writes need a certificate the cluster CA signed: anonymous is 403, as RBAC words it.
  const anonymous = await api.deleteNamespacedLease({ name, namespace: 'kube-system' }).catch((e: unknown) => e);
  expect((anonymous as ApiException<unknown>).code).toBe(403);
  const refusal = (anonymous as ApiException<string>).body;
  expect(typeof refusal === 'string' ? JSON.parse(refusal) : refusal).toMatchObject({
    reason: 'Forbidden',
    message: `leases.coordination.k8s.io "${name}" is forbidden: User "system:anonymous" cannot delete resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system"`,
  });
  expect((await api.readNamespacedLease({ name, namespace: 'kube-system' })).metadata?.name).toBe(name);

  // Deleting the live lease as admin works; the running apiserver puts it back on its next renewal.
  const status = await admin.deleteNamespacedLease({ name, namespace: 'kube-system' });
  expect(status).toMatchObject({ status: 'Success', details: { name, kind: 'leases' } });
  await waitFor(
    'lease renewed again',
    5000,
    async () => (await api.readNamespacedLease({ name, namespace: 'kube-system' })).metadata?.name,
  );
});
