// The action's etcd and apiserver clients against one master VM of the emulator's runtime (real
// etcd with mTLS, the kube-apiserver stand-in with identity leases), built with the emulator
// tests' own certificate helpers: the two sides agree only through docs/vm-contract.md.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createVmRuntime } from '../../emulator/runtime/index.ts';
import type { VmRuntimeDetails } from '../../emulator/runtime/index.ts';
import { createEtcdAdmin } from '../../src/etcd/admin.ts';
import { DirectTransport } from '../../src/etcd/transport.ts';
import type { EtcdAdmin } from '../../src/etcd/types.ts';
import { probeReadyz } from '../../src/kube/apiserver.ts';
import { listIdentityLeases } from '../support/official-lease-client.ts';
import { clientUrl, peerUrl } from '../../src/model.ts';
import { makeTestPki, masterMetadata, memberCertsMetadata, randomLoopbackBase } from '../support/runtime-certs.ts';
import type { TestPki } from '../support/runtime-certs.ts';
import { instance, runtimeOptions, tempStateDir, waitFor } from '../support/runtime-vms.ts';

const ZONE = 'us-central1-a';
const MASTER = 'kubernetes-master';
const base = randomLoopbackBase();
const STATIC_IP = `${base}.200`;
const IP = `${base}.21`;
const KEY = `${ZONE}/${MASTER}`;

let stateDir: string;
let pki: TestPki;
let runtime: VmRuntimeDetails;
let admin: EtcdAdmin;

beforeAll(async () => {
  stateDir = tempStateDir('etcd-layer-vm');
  pki = makeTestPki(MASTER, STATIC_IP);
  runtime = createVmRuntime(runtimeOptions(stateDir, { leaseRenewIntervalMs: 500 }));
  const vm = instance(
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
  admin = createEtcdAdmin({ ca: pki.etcdCa.cert, cert: pki.etcdClient.cert, key: pki.etcdClient.key }, new DirectTransport(), {
    callTimeoutMs: 2000,
  });
});

afterAll(async () => {
  await admin?.close();
  await runtime?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

test("probeReadyz on the replica's internal IP (checked against the name 'kubernetes') and on the static IP", async () => {
  await waitFor('apiserver ready', 20_000, async () =>
    (await probeReadyz(`https://${IP}`, pki.apiserverCa.cert, 2000, { serverName: 'kubernetes' })).ready ? true : undefined,
  );
  expect(await probeReadyz(`https://${IP}`, pki.apiserverCa.cert, 2000, { serverName: 'kubernetes' })).toEqual({
    ready: true,
    status: 200,
    body: 'ok',
  });
  expect(await probeReadyz(`https://${STATIC_IP}`, pki.apiserverCa.cert, 2000)).toEqual({ ready: true, status: 200, body: 'ok' });
});

test('listIdentityLeases finds the identity lease the VM keeps', async () => {
  const name = await waitFor('identity lease', 10_000, async () => runtime.identityLeaseName(KEY));
  const leases = await waitFor('lease listed', 10_000, async () => {
    const list = await listIdentityLeases(`https://${STATIC_IP}`, pki.apiserverCa.cert);
    return list.length > 0 ? list : undefined;
  });
  expect(leases).toHaveLength(1);
  expect(leases[0]!.name).toBe(name);
  expect(leases[0]!.holderIdentity).toBe(runtime.identityLeaseHolder(KEY));
  expect(leases[0]!.holderIdentity).toMatch(new RegExp(`^${name}_[0-9a-f-]{36}$`));
  expect(Date.now() - Date.parse(leases[0]!.renewTime!)).toBeLessThan(10_000);
});

test("observe reads the VM's one-member etcd", async () => {
  const view = await admin.observe([clientUrl(IP)]);
  expect(view.reachable).toBe(true);
  expect(view.members).toHaveLength(1);
  expect(view.members[0]).toMatchObject({
    name: `etcd-${MASTER}`,
    peerUrls: [peerUrl(IP)],
    clientUrls: [clientUrl(IP)],
    isLearner: false,
    healthy: true,
    isLeader: true,
    alarms: [],
  });
  expect(view.leaderId).toBe(view.members[0]!.id);
});
