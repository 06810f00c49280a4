// Contract v2 on the process runtime: a master whose private keys are in Secret Manager reads them
// as its service account at boot (no key in its metadata), one whose account is not bound fails
// its start-up with the reason vm/startup.sh gives, and a reboot after the binding is gone still
// starts from the keys its first boot kept on the boot disk.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { defaultComputeServiceAccount, projectNumber } from '../../emulator/project-number.ts';
import { computeClients, type Compute } from './support/compute.ts';
import { insertMasterReplica } from '../support/master-replica.ts';
import { makeTestPki } from '../support/runtime-certs.ts';
import { httpsGet, waitFor } from '../support/runtime-vms.ts';
import { runnerToken } from '../support/iap-world.ts';
import { bindVmAccount, privateKeysIn, type SecretKeys } from '../support/secret-keys.ts';

const PROJECT = 'sm-process';
const ZONE = 'europe-west1-b';
const STATIC_IP = '34.1.2.3';
let emu: RunningEmulator;
let gce: Compute;
let sk: SecretKeys;
const lines: string[] = [];

beforeAll(async () => {
  emu = await startEmulator({
    port: 0,
    stateDir: mkdtempSync(join(tmpdir(), 'sm-process-')),
    vmRuntime: 'process',
    log: (l) => lines.push(l),
  });
  gce = computeClients(emu.port);
  sk = { emulatorUrl: emu.url, token: await runnerToken(emu) };
});

afterAll(async () => {
  await gce?.close();
  await emu?.stop();
  if (emu) rmSync(emu.stateDir, { recursive: true, force: true });
});

async function startupStatus(name: string): Promise<string | undefined> {
  const [attrs] = await gce.instances
    .getGuestAttributes({ project: PROJECT, zone: ZONE, instance: name, variableKey: 'ha-masters/startup' })
    .catch(() => [undefined]);
  return attrs?.variableValue ?? undefined;
}

const pki = makeTestPki('a-master', STATIC_IP);
let ipA = '';

test('keys in Secret Manager, account bound: etcd and a ready apiserver; no private key in the metadata', async () => {
  ipA = await insertMasterReplica(gce, { project: PROJECT, zone: ZONE, name: 'a-master', pki, staticIp: STATIC_IP, keys: sk });
  const ready = await waitFor('the apiserver /readyz (it reads its etcd)', 20_000, async () => {
    const res = await httpsGet(ipA, 443, '/readyz', pki.apiserverCa.cert).catch(() => undefined);
    return res?.status === 200 ? res.body : undefined;
  });
  expect(ready).toBe('ok');
  expect(await startupStatus('a-master')).toBe('ok');
  const [vm] = await gce.instances.get({ project: PROJECT, zone: ZONE, instance: 'a-master' });
  expect(vm.serviceAccounts?.[0]?.email).toBe(defaultComputeServiceAccount(PROJECT));
  const items = vm.metadata?.items ?? [];
  expect(items.map((i) => i.key)).toEqual(expect.arrayContaining(['kube-env', 'kube-master-certs', 'etcd-member-certs']));
  expect(privateKeysIn(items)).toEqual([]);
  // The reads went through Secret Manager's API, as a VM's would.
  const { requests: reads } = (await (await fetch(`${emu.url}/_emulator/requests`)).json()) as {
    requests: Array<{ path: string; status: number }>;
  };
  expect(reads.filter((r) => r.path.endsWith(':access')).map((r) => `${r.path} ${r.status}`)).toEqual([
    `/v1/projects/${projectNumber(PROJECT)}/secrets/a-master-cluster-keys/versions/1:access 200`,
    `/v1/projects/${projectNumber(PROJECT)}/secrets/a-master-replica-keys/versions/1:access 200`,
  ]);
}, 60_000);

test('an account without the binding: the start-up fails, its guest attribute names the version and the account', async () => {
  const other = makeTestPki('b-master', STATIC_IP);
  await insertMasterReplica(gce, {
    project: PROJECT,
    zone: ZONE,
    name: 'b-master',
    pki: other,
    staticIp: STATIC_IP,
    keys: { ...sk, bind: false },
  });
  const status = await waitFor('the start-up to fail', 10_000, async () =>
    (await startupStatus('b-master'))?.startsWith('failed') ? startupStatus('b-master') : undefined,
  );
  expect(status).toBe(
    `failed: cannot read projects/${projectNumber(PROJECT)}/secrets/b-master-cluster-keys/versions/1: HTTP 403 (the VM's service account ${defaultComputeServiceAccount(PROJECT)} needs roles/secretmanager.secretAccessor on it)`,
  );
  expect(emu.runtime.pids().length).toBe(1); // a-master's etcd only
}, 60_000);

test('a reboot after the binding was removed starts from the keys on the boot disk', async () => {
  await bindVmAccount(sk, PROJECT, 'a-master-cluster-keys', false);
  await bindVmAccount(sk, PROJECT, 'a-master-replica-keys', false);
  await gce.finish(await gce.instances.stop({ project: PROJECT, zone: ZONE, instance: 'a-master' }), PROJECT);
  await emu.settled();
  await gce.finish(await gce.instances.start({ project: PROJECT, zone: ZONE, instance: 'a-master' }), PROJECT);
  const [vm] = await gce.instances.get({ project: PROJECT, zone: ZONE, instance: 'a-master' });
  const ip = vm.networkInterfaces?.[0]?.networkIP as string;
  expect(
    await waitFor('the apiserver again', 20_000, async () => {
      const res = await httpsGet(ip, 443, '/readyz', pki.apiserverCa.cert).catch(() => undefined);
      return res?.status === 200 ? res.body : undefined;
    }),
  ).toBe('ok');
  expect(await startupStatus('a-master')).toBe('ok');
  expect(lines.filter((l) => l.includes('the keys on the boot disk match'))).toEqual([
    `${ZONE}/a-master: cannot read projects/${projectNumber(PROJECT)}/secrets/a-master-cluster-keys/versions/1: HTTP 403 (the VM's service account ${defaultComputeServiceAccount(PROJECT)} needs roles/secretmanager.secretAccessor on it); the keys on the boot disk match the certificates in metadata: using them`,
    `${ZONE}/a-master: cannot read projects/${projectNumber(PROJECT)}/secrets/a-master-replica-keys/versions/1: HTTP 403 (the VM's service account ${defaultComputeServiceAccount(PROJECT)} needs roles/secretmanager.secretAccessor on it); the keys on the boot disk match the certificates in metadata: using them`,
  ]);
}, 60_000);
