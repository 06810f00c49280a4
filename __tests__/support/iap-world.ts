// What the IAP tests need from an emulator, made through its public doors only: a token from the
// runner's metadata endpoint, the firewall rule IAP needs, and a master replica with its PKI.
import type { RunningEmulator } from '../../emulator/index.ts';
import type { Compute } from '../emulator/support/compute.ts';
import { makeTestPki, type TestPki } from './runtime-certs.ts';
import { insertMasterReplica } from './master-replica.ts';

/** An access token, fetched as google-auth-library fetches one on GCE. */
export async function runnerToken(emu: RunningEmulator): Promise<string> {
  const res = await fetch(`${emu.url}/computeMetadata/v1/instance/service-accounts/default/token`, {
    headers: { 'Metadata-Flavor': 'Google' },
  });
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Inserts (or removes, without `ports`) the firewall rule that lets IAP's range in. */
export async function setIapRule(
  gce: Compute,
  project: string,
  name: string,
  ports?: string[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  const op = ports
    ? await gce.firewalls.insert({
        project,
        firewallResource: {
          name,
          network: 'global/networks/default',
          sourceRanges: ['35.235.240.0/20'],
          allowed: [{ IPProtocol: 'tcp', ports }],
          ...extra,
        },
      })
    : await gce.firewalls.delete({ project, firewall: name });
  await gce.finish(op, project);
}

/** A single master replica with etcd, on a static IP of its own; its internal IP and the PKI its etcd trusts. */
export async function singleMaster(gce: Compute, project: string, zone: string, name: string): Promise<{ ip: string; pki: TestPki }> {
  const region = zone.replace(/-[a-z]$/, '');
  await gce.finish(await gce.addresses.insert({ project, region, addressResource: { name: `${name}-ip` } }), project);
  const staticIp = (await gce.addresses.get({ project, region, address: `${name}-ip` }))[0].address as string;
  const pki = makeTestPki(name, staticIp);
  return { ip: await insertMasterReplica(gce, { project, zone, name, pki, staticIp }), pki };
}
