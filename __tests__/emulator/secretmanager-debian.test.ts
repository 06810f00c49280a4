// On the Debian VM runtime, a VM's start-up script reads a secret exactly as it would on GCE:
// a token for its service account from the metadata server, then
// `curl -sSf https://secretmanager.googleapis.com/v1/.../versions/latest:access` (the name resolves
// inside the VPC, the certificate is trusted by the VM's own CA bundle). A VM whose service account
// has no binding on the secret gets 403.
import { rmSync } from 'node:fs';
import { computeClients, type Compute } from './support/compute.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { hostNamesFor } from '../../emulator/vm/names.ts';
import { debianInstanceBody, debianSupport, debianTest, hostLeftovers, startDebianEmulator, waitUntil } from '../support/debian-vms.ts';
import { runnerToken } from '../support/iap-world.ts';

const PROJECT = 'sm-debian';
const ZONE = 'europe-west1-b';
const READER = `replica@${PROJECT}.iam.gserviceaccount.com`;
const STRANGER = `stranger@${PROJECT}.iam.gserviceaccount.com`;
const PAYLOAD = 'etcd peer key for the replica';
let emulator: RunningEmulator;
let compute: Compute;
const lines: string[] = [];

// What a start-up script on GCE does; the only assumption is the secret's name.
const STARTUP = `#!/bin/bash
set -u
md() { curl -sSf -H 'Metadata-Flavor: Google' "http://metadata.google.internal/computeMetadata/v1/$1"; }
TOKEN=$(md instance/service-accounts/default/token | sed -E 's/.*"access_token" *: *"([^"]+)".*/\\1/')
url=https://secretmanager.googleapis.com/v1/projects/${PROJECT}/secrets/replica-key/versions/latest:access
if body=$(curl -sSf -H "Authorization: Bearer $TOKEN" "$url"); then
  echo "secret-payload: $(echo "$body" | sed -E 's/.*"data" *: *"([^"]+)".*/\\1/' | base64 -d)"
else
  echo "secret-status: $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$url")"
fi
`;

beforeAll(async () => {
  if (!debianSupport.ok) return;
  emulator = await startDebianEmulator(lines);
  compute = computeClients(emulator.port);
}, 180_000);

afterAll(async () => {
  if (!emulator) return;
  await compute.close();
  await emulator.stop();
  expect(hostLeftovers(hostNamesFor(emulator.stateDir).prefix, emulator.stateDir)).toEqual([]);
  rmSync(emulator.stateDir, { recursive: true, force: true });
});

async function serial(name: string): Promise<string> {
  const [out] = await compute.instances.getSerialPortOutput({ project: PROJECT, zone: ZONE, instance: name });
  return out.contents ?? '';
}

debianTest(
  'a VM reads its secret at https://secretmanager.googleapis.com with its own token; an unbound one gets 403',
  async () => {
    const owner = { authorization: `Bearer ${await runnerToken(emulator)}`, 'content-type': 'application/json' };
    const secret = `${emulator.url}/v1/projects/${PROJECT}/secrets/replica-key`;
    expect(
      (
        await fetch(`${emulator.url}/v1/projects/${PROJECT}/secrets?secretId=replica-key`, {
          method: 'POST',
          headers: owner,
          body: JSON.stringify({ replication: { automatic: {} } }),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await fetch(`${secret}:addVersion`, {
          method: 'POST',
          headers: owner,
          body: JSON.stringify({ payload: { data: Buffer.from(PAYLOAD).toString('base64') } }),
        })
      ).status,
    ).toBe(200);
    const policy = { bindings: [{ role: 'roles/secretmanager.secretAccessor', members: [`serviceAccount:${READER}`] }] };
    expect((await fetch(`${secret}:setIamPolicy`, { method: 'POST', headers: owner, body: JSON.stringify({ policy }) })).status).toBe(200);

    const asAccount = (email: string) => ({ serviceAccounts: [{ email, scopes: ['https://www.googleapis.com/auth/cloud-platform'] }] });
    await Promise.all(
      [
        compute.instances.insert({
          project: PROJECT,
          zone: ZONE,
          instanceResource: debianInstanceBody('reader', ZONE, { 'startup-script': STARTUP }, asAccount(READER)),
        }),
        compute.instances.insert({
          project: PROJECT,
          zone: ZONE,
          instanceResource: debianInstanceBody('stranger', ZONE, { 'startup-script': STARTUP }, asAccount(STRANGER)),
        }),
      ].map(async (p) => compute.finish(await p, PROJECT)),
    );

    const outcome = (name: string) =>
      waitUntil(`${name}'s start-up script`, 90_000, async () => {
        const m = /startup-script: (secret-(?:payload|status): .*)/.exec(await serial(name));
        return m?.[1];
      });
    const [reader, stranger] = await Promise.all([outcome('reader'), outcome('stranger')]);
    expect(reader).toBe(`secret-payload: ${PAYLOAD}`);
    expect(stranger).toBe('secret-status: 403');
  },
  180_000,
);
