// Contract v2 on real Debian VMs running vm/startup.sh: a master whose private keys are in Secret
// Manager reads them at https://secretmanager.googleapis.com with its metadata-server token and
// boots to a ready apiserver (its /readyz reads etcd), with no private key in its metadata; one
// whose service account is not bound fails its start-up, the guest attribute naming the version
// and the account; a reboot after the binding was removed starts from the keys on its boot disk.
import { rmSync } from 'node:fs';
import { computeClients, type Compute } from './support/compute.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { defaultComputeServiceAccount, projectNumber } from '../../emulator/project-number.ts';
import { hostNamesFor } from '../../emulator/vm/names.ts';
import { debianSupport, debianTest, hostLeftovers, startDebianEmulator, waitUntil } from '../support/debian-vms.ts';
import { insertMasterReplica } from '../support/master-replica.ts';
import { makeTestPki } from '../support/runtime-certs.ts';
import { httpsGet } from '../support/runtime-vms.ts';
import { runnerToken } from '../support/iap-world.ts';
import { bindVmAccount, privateKeysIn, type SecretKeys } from '../support/secret-keys.ts';

const PROJECT = 'sm-keys-debian';
const ZONE = 'europe-west1-b';
const TAG = 'sm-master';
const STATIC_IP = '34.1.2.3';
const ACCOUNT = defaultComputeServiceAccount(PROJECT);
const version = (secret: string): string => `projects/${projectNumber(PROJECT)}/secrets/${secret}/versions/1`;
let emu: RunningEmulator;
let gce: Compute;
let sk: SecretKeys;
let release = '';
const pki = makeTestPki('a-master', STATIC_IP);

beforeAll(async () => {
  if (!debianSupport.ok) return;
  emu = await startDebianEmulator();
  gce = computeClients(emu.port);
  sk = { emulatorUrl: emu.url, token: await runnerToken(emu) };
  // ha-masters-release as the action writes it from the mirror's manifest.
  const m = emu.ctx.mirror!.manifest;
  const k8s = m.artifacts['kubernetes-server']!;
  const etcd = m.artifacts.etcd!;
  release = `kubernetes-server ${m.kubernetesVersion} sha512 ${k8s.sha512} ${k8s.url}\netcd ${m.etcdVersion} sha256 ${etcd.sha256} ${etcd.url}\n`;
  // Clients of external IPs reach the apiservers (as the action's <master>-https rule allows).
  await gce.finish(
    await gce.firewalls.insert({
      project: PROJECT,
      firewallResource: {
        name: 'sm-https',
        network: 'global/networks/default',
        sourceRanges: ['0.0.0.0/0'],
        allowed: [{ IPProtocol: 'tcp', ports: ['443'] }],
        targetTags: [TAG],
      },
    }),
    PROJECT,
  );
}, 180_000);

afterAll(async () => {
  if (!emu) return;
  await gce.close();
  await emu.stop();
  expect(hostLeftovers(hostNamesFor(emu.stateDir).prefix, emu.stateDir)).toEqual([]);
  rmSync(emu.stateDir, { recursive: true, force: true });
}, 60_000);

const instance = async (name: string) => (await gce.instances.get({ project: PROJECT, zone: ZONE, instance: name }))[0];
const serial = async (name: string): Promise<string> =>
  (await gce.instances.getSerialPortOutput({ project: PROJECT, zone: ZONE, instance: name }))[0].contents ?? '';
const startup = async (name: string): Promise<string | undefined> =>
  (
    await gce.instances
      .getGuestAttributes({ project: PROJECT, zone: ZONE, instance: name, variableKey: 'ha-masters/startup' })
      .catch(() => [undefined])
  )[0]?.variableValue ?? undefined;
const finished = (name: string): Promise<string> =>
  waitUntil(
    `${name}'s start-up script to finish`,
    150_000,
    async () => {
      const s = await startup(name);
      return s === 'ok' || s?.startsWith('failed') ? s : undefined;
    },
    1000,
  );

async function readyz(name: string): Promise<string> {
  const ip = (await instance(name)).networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP as string;
  return waitUntil(
    `${name}'s apiserver /readyz on ${ip}`,
    60_000,
    async () => {
      const res = await httpsGet(ip, 443, '/readyz', pki.apiserverCa.cert).catch(() => undefined);
      return res?.status === 200 ? res.body : undefined;
    },
    500,
  );
}

debianTest(
  'keys in Secret Manager: the bound VM boots ready with no key in its metadata; the unbound one fails naming the version and its account',
  async () => {
    await Promise.all([
      insertMasterReplica(gce, {
        project: PROJECT,
        zone: ZONE,
        name: 'a-master',
        pki,
        staticIp: STATIC_IP,
        startup: { release },
        keys: sk,
        externalIp: true,
        tags: [TAG],
      }),
      insertMasterReplica(gce, {
        project: PROJECT,
        zone: ZONE,
        name: 'b-master',
        pki: makeTestPki('b-master', STATIC_IP),
        staticIp: STATIC_IP,
        startup: { release },
        keys: { ...sk, bind: false },
        tags: [TAG],
      }),
    ]);
    const [a, b] = await Promise.all([finished('a-master'), finished('b-master')]);
    expect(a).toBe('ok');
    expect(await readyz('a-master')).toBe('ok');
    expect(b).toBe(
      `failed: cannot read ${version('b-master-cluster-keys')}: HTTP 403 (the VM's service account ${ACCOUNT} needs roles/secretmanager.secretAccessor on it)`,
    );

    for (const name of ['a-master', 'b-master']) expect(privateKeysIn((await instance(name)).metadata?.items ?? [])).toEqual([]);
    const console = await serial('a-master');
    expect(console).toContain(`ha-masters-startup: read the keys of kube-master-certs from ${version('a-master-cluster-keys')}`);
    expect(console).toContain(`ha-masters-startup: read the keys of etcd-member-certs from ${version('a-master-replica-keys')}`);
    expect(console).not.toMatch(/PRIVATE KEY|emulator\.[A-Za-z0-9_-]+\.\d+\./);
  },
  240_000,
);

debianTest(
  'a reboot after the binding was removed starts from the keys on the boot disk, and says so',
  async () => {
    await bindVmAccount(sk, PROJECT, 'a-master-cluster-keys', false);
    await bindVmAccount(sk, PROJECT, 'a-master-replica-keys', false);
    const before = (await serial('a-master')).length;
    await gce.finish(await gce.instances.stop({ project: PROJECT, zone: ZONE, instance: 'a-master' }), PROJECT);
    await emu.settled();
    await gce.finish(await gce.instances.start({ project: PROJECT, zone: ZONE, instance: 'a-master' }), PROJECT);
    // The attribute of the first boot is 'ok' too: wait for this boot's own line first.
    const fallback = `cannot read ${version('a-master-cluster-keys')}: HTTP 403 (the VM's service account ${ACCOUNT} needs roles/secretmanager.secretAccessor on it); the keys on the boot disk match the certificates in metadata: using them`;
    await waitUntil(
      'the second boot to fall back to its disk keys',
      150_000,
      async () => ((await serial('a-master')).slice(before).includes(fallback) ? true : undefined),
      1000,
    );
    expect(await finished('a-master')).toBe('ok');
    expect(await readyz('a-master')).toBe('ok');
    expect((await serial('a-master')).slice(before)).toContain(`cannot read ${version('a-master-replica-keys')}: HTTP 403`);
  },
  240_000,
);
