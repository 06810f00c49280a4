// VM power: a STOPPED instance loses every process and socket at once; RUNNING again boots on
// the same data disk. A changed internal IP or certificate restarts the VM's processes.
import { rmSync } from 'node:fs';
import type { Etcd3 } from 'etcd3';
import { createVmRuntime } from '../../emulator/runtime/index.ts';
import type { VmRuntimeDetails } from '../../emulator/runtime/index.ts';
import type { RuntimeInstance } from '../../emulator/runtime/types.ts';
import { makeTestPki, masterMetadata, memberCertsMetadata, randomLoopbackBase } from '../support/runtime-certs.ts';
import type { TestPki } from '../support/runtime-certs.ts';
import {
  adminClient,
  httpsGet,
  instance,
  processAlive,
  runtimeOptions,
  tcpConnectResult,
  tempStateDir,
  waitFor,
} from '../support/runtime-vms.ts';

const ZONE = 'europe-west1-c';
const MASTER = 'kubernetes-master';
const base = randomLoopbackBase();
const STATIC_IP = `${base}.200`;
const IP = `${base}.31`;
const EXTERNAL_IP = `${base}.131`;
const KEY = `${ZONE}/${MASTER}`;

let stateDir: string;
let pki: TestPki;
let runtime: VmRuntimeDetails;
const clients: Etcd3[] = [];

function vmAt(ip: string, status: string): RuntimeInstance {
  return instance(
    stateDir,
    ZONE,
    MASTER,
    ip,
    {
      ...masterMetadata({ pki, master: MASTER, staticIp: STATIC_IP, state: 'new', initialCluster: [MASTER] }),
      ...memberCertsMetadata(pki.member(MASTER, ip)),
    },
    { status, externalIps: [EXTERNAL_IP] },
  );
}

const ready = (ip: string) => async () => ((await httpsGet(ip, 443, '/readyz', pki.apiserverCa.cert)).status === 200 ? true : undefined);

beforeAll(() => {
  stateDir = tempStateDir('runtime-power');
  pki = makeTestPki(MASTER, STATIC_IP);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

test('STOPPED kills everything of the VM; RUNNING again restarts on the same data; apply is idempotent', async () => {
  runtime = createVmRuntime(runtimeOptions(stateDir));
  const running = vmAt(IP, 'RUNNING');
  await runtime.apply({ instances: [running], forwardingRules: [], firewalls: [] });
  await waitFor('apiserver ready', 20_000, ready(IP));
  const client = adminClient(pki, [IP]);
  clients.push(client);
  await client.put('survivor').value('still here').exec();

  // Same world again: nothing restarts.
  const pid = runtime.etcdPid(KEY)!;
  const lease = runtime.identityLeaseName(KEY);
  const holder = runtime.identityLeaseHolder(KEY);
  await runtime.apply({ instances: [running], forwardingRules: [], firewalls: [] });
  expect(runtime.etcdPid(KEY)).toBe(pid);
  expect(runtime.identityLeaseHolder(KEY)).toBe(holder);

  await runtime.apply({ instances: [vmAt(IP, 'STOPPED')], forwardingRules: [], firewalls: [] });
  expect(processAlive(pid)).toBe(false);
  expect(runtime.pids()).toEqual([]);
  expect(await tcpConnectResult(IP, 2379)).toBe('ECONNREFUSED');
  expect(await tcpConnectResult(IP, 443)).toBe('ECONNREFUSED');
  expect(await tcpConnectResult(IP, 3990)).toBe('ECONNREFUSED');
  expect(await tcpConnectResult(EXTERNAL_IP, 443)).toBe('ECONNREFUSED');

  await runtime.apply({ instances: [running], forwardingRules: [], firewalls: [] });
  await waitFor('apiserver ready after the restart', 20_000, ready(IP));
  expect(runtime.etcdPid(KEY)).not.toBe(pid);
  // A new apiserver process on the same host: the same identity lease, a new holder.
  expect(runtime.identityLeaseName(KEY)).toBe(lease);
  expect(runtime.identityLeaseHolder(KEY)).not.toBe(holder);
  expect(await client.get('survivor').string()).toBe('still here');
  expect((await httpsGet(EXTERNAL_IP, 443, '/readyz', pki.apiserverCa.cert)).status).toBe(200);

  // A replaced member certificate restarts etcd only; the apiserver keeps its identity.
  const beforeCert = runtime.etcdPid(KEY)!;
  const leaseBefore = runtime.identityLeaseHolder(KEY);
  await runtime.apply({ instances: [vmAt(IP, 'RUNNING')], forwardingRules: [], firewalls: [] });
  expect(processAlive(beforeCert)).toBe(false);
  await waitFor('etcd back with the new certificate', 20_000, ready(IP));
  expect(runtime.etcdPid(KEY)).not.toBe(beforeCert);
  expect(runtime.identityLeaseHolder(KEY)).toBe(leaseBefore);
  expect(await client.get('survivor').string()).toBe('still here');

  // An instance that disappears from the world is gone too.
  const last = runtime.etcdPid(KEY)!;
  await runtime.apply({ instances: [], forwardingRules: [], firewalls: [] });
  expect(processAlive(last)).toBe(false);
  expect(await tcpConnectResult(IP, 443)).toBe('ECONNREFUSED');
}, 60_000);

test('a changed internal IP restarts the VM on the new address', async () => {
  const NEW_IP = `${base}.32`;
  await runtime.apply({ instances: [vmAt(IP, 'RUNNING')], forwardingRules: [], firewalls: [] });
  await waitFor('ready on the old IP', 20_000, ready(IP));
  const pid = runtime.etcdPid(KEY)!;
  // A one-member cluster keeps its data, but its peer URL was recorded for the old IP; the
  // client URL (what the apiserver uses) follows the flags, so the VM becomes ready again.
  await runtime.apply({ instances: [vmAt(NEW_IP, 'RUNNING')], forwardingRules: [], firewalls: [] });
  expect(processAlive(pid)).toBe(false);
  expect(await tcpConnectResult(IP, 443)).toBe('ECONNREFUSED');
  await waitFor('ready on the new IP', 20_000, ready(NEW_IP));
  expect(await tcpConnectResult(NEW_IP, 2379)).toBe('connected');
}, 60_000);
