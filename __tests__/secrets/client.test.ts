// The action's Secret Manager client against the emulator's Secret Manager (tokens from the
// emulator's runner metadata through Application Default Credentials), and against canned answers
// for what the emulator does not do (a damaged payload, a disabled API). Also the KeyStore's finding
// of a cluster's keys and certificates with no VM left (loadLatest).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { adcTokenSource } from '../../src/auth/adc.ts';
import { createSecretManager, SECRET_ACCESSOR } from '../../src/secrets/client.ts';
import { SecretManagerError } from '../../src/secrets/errors.ts';
import { crc32c } from '../../src/secrets/crc32c.ts';
import { startCannedServer } from '../gce/canned-server.ts';
import { KeyStore } from '../../src/engine/key-store.ts';
import { newClusterSecrets } from '../../src/engine/secrets.ts';
import { clusterNames } from '../../src/model.ts';

let dir: string;
let emu: RunningEmulator;
const project = 'secrets-client';
const logs: string[] = [];
const masked: string[] = [];

const manager = (over: Partial<Parameters<typeof createSecretManager>[0]> = {}) =>
  createSecretManager({ project, endpoint: emu.url, token: adcTokenSource((s) => masked.push(s)), log: (l) => logs.push(l), ...over });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'secrets-client-'));
  emu = await startEmulator({ port: 0, stateDir: join(dir, 'state'), vmRuntime: 'process', log: () => {} });
  process.env.GCE_METADATA_HOST = `${emu.host}:${emu.port}`;
}, 30_000);

afterAll(async () => {
  delete process.env.GCE_METADATA_HOST;
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('CRC32C is Castagnoli\'s (check value of "123456789")', () => {
  expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
});

test('create (idempotent), add versions, access a pinned version, list by label, delete (idempotent)', async () => {
  const sm = manager();
  expect(await sm.createSecret('c1-cluster-keys', { 'ha-masters-cluster': 'c1' })).toBe(true);
  expect(await sm.createSecret('c1-cluster-keys', { 'ha-masters-cluster': 'c1' })).toBe(false);
  await sm.createSecret('c2-cluster-keys', { 'ha-masters-cluster': 'c2' });
  const v1 = await sm.addVersion('c1-cluster-keys', Buffer.from('first'));
  const v2 = await sm.addVersion('c1-cluster-keys', Buffer.from('second'));
  expect(v1).toMatch(/^projects\/\d+\/secrets\/c1-cluster-keys\/versions\/1$/);
  expect(v2).toMatch(/\/versions\/2$/);
  expect((await sm.access(v1)).toString()).toBe('first');
  expect((await sm.access(v2)).toString()).toBe('second');
  expect(await sm.getSecret('c1-cluster-keys')).toEqual({ id: 'c1-cluster-keys', labels: { 'ha-masters-cluster': 'c1' } });
  expect(await sm.getSecret('nope')).toBeUndefined();
  expect((await sm.listByLabel('ha-masters-cluster', 'c1')).map((s) => s.id)).toEqual(['c1-cluster-keys']);
  expect(await sm.deleteSecret('c1-cluster-keys')).toBe(true);
  expect(await sm.deleteSecret('c1-cluster-keys')).toBe(false);
  expect(await sm.listByLabel('ha-masters-cluster', 'c1')).toEqual([]);
  expect(masked.length).toBeGreaterThan(0);
});

test('grantAccessor adds the member once and keeps other bindings', async () => {
  const sm = manager();
  await sm.createSecret('g-keys', {});
  const policyUrl = `${emu.url}/v1/projects/${project}/secrets/g-keys`;
  const token = await adcTokenSource(() => {})();
  const post = async (verb: string, body: unknown) =>
    (
      await fetch(`${policyUrl}:${verb}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).json() as Promise<{ etag?: string; bindings?: Array<{ role: string; members: string[] }> }>;
  const start = await post('getIamPolicy', {});
  await post('setIamPolicy', {
    policy: { etag: start.etag, bindings: [{ role: 'roles/secretmanager.viewer', members: ['user:ops@example.com'] }] },
  });
  await sm.grantAccessor('g-keys', 'serviceAccount:a@p.iam.gserviceaccount.com');
  await sm.grantAccessor('g-keys', 'serviceAccount:a@p.iam.gserviceaccount.com');
  await sm.grantAccessor('g-keys', 'serviceAccount:b@p.iam.gserviceaccount.com');
  const end = await post('getIamPolicy', {});
  expect(end.bindings).toEqual([
    { role: 'roles/secretmanager.viewer', members: ['user:ops@example.com'] },
    { role: SECRET_ACCESSOR, members: ['serviceAccount:a@p.iam.gserviceaccount.com', 'serviceAccount:b@p.iam.gserviceaccount.com'] },
  ]);
});

test('a 503 is retried; a 403 is not, and says which role to grant', async () => {
  const sm = manager({ attempts: 3 });
  await sm.createSecret('r-keys', {});
  await fetch(`${emu.url}/_emulator/fail`, { method: 'POST', body: JSON.stringify({ path: 'r-keys:addVersion$', status: 503, times: 1 }) });
  expect(await sm.addVersion('r-keys', Buffer.from('x'))).toMatch(/versions\/1$/);
  expect(logs.some((l) => l.includes('r-keys') && l.includes('unavailable, retry 1/2'))).toBe(true);
  await fetch(`${emu.url}/_emulator/fail`, { method: 'POST', body: JSON.stringify({ path: 'r-keys:addVersion$', status: 403, times: 1 }) });
  const err = await sm.addVersion('r-keys', Buffer.from('y')).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SecretManagerError);
  expect((err as SecretManagerError).kind).toBe('permissionDenied');
  expect((err as Error).message).toContain('roles/secretmanager.admin');
});

test('a payload that does not match its checksum is refused; a disabled API says how to enable it', async () => {
  const canned = await startCannedServer();
  try {
    const sm = manager({ endpoint: canned.url, token: async () => 't', attempts: 1 });
    canned.reply({
      status: 200,
      body: {
        name: 'projects/1/secrets/x/versions/1',
        payload: { data: Buffer.from('key').toString('base64'), dataCrc32c: String(crc32c(Buffer.from('kez'))) },
      },
    });
    const corrupt = await sm.access('projects/1/secrets/x/versions/1').catch((e: unknown) => e);
    expect((corrupt as SecretManagerError).kind).toBe('corrupt');
    canned.reply({
      status: 403,
      body: {
        error: {
          code: 403,
          status: 'PERMISSION_DENIED',
          message: 'Secret Manager API has not been used in project 1 before or it is disabled.',
          details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SERVICE_DISABLED' }],
        },
      },
    });
    const disabled = await sm.createSecret('x', {}).catch((e: unknown) => e);
    expect((disabled as SecretManagerError).kind).toBe('disabled');
    expect((disabled as Error).message).toContain('gcloud services enable secretmanager.googleapis.com');
    expect(canned.headers[0]?.authorization).toBe('Bearer t');
  } finally {
    await canned.stop();
  }
});

test('accessLatest: the newest version with its full name; undefined for a secret that does not exist', async () => {
  const sm = manager();
  await sm.createSecret('c3-cluster-keys', { 'ha-masters-cluster': 'c3' });
  await sm.addVersion('c3-cluster-keys', Buffer.from('older'));
  const newest = await sm.addVersion('c3-cluster-keys', Buffer.from('newest'));
  const got = await sm.accessLatest('c3-cluster-keys');
  expect(got?.name).toBe(newest);
  expect(got?.payload.toString()).toBe('newest');
  expect(await sm.accessLatest('no-such-secret')).toBeUndefined();
});

test("a KeyStore finds a cluster's keys and certificates in its secrets' newest versions; a payload without certificates is not enough", async () => {
  const names = clusterNames('c4');
  const keys = new KeyStore(manager(), (s) => masked.push(s));
  const made = await newClusterSecrets(names.master, '34.1.2.3');
  const refs = await keys.saveCluster(names, made, `serviceAccount:vm@${project}.iam.gserviceaccount.com`);
  const found = await new KeyStore(manager(), (s) => masked.push(s)).loadLatest(names);
  expect(found?.stored).toMatchObject({ where: 'secret-manager', refs });
  expect(found?.secrets).toEqual({ ...made, etcdCa: { cert: made.etcdCa.cert } });
  expect(masked).toContain(made.apiCa.key.split('\n')[1]);
  // A cluster made before its payload carried the certificates: nothing to rebuild from.
  await manager().addVersion(names.secretClusterKeys, Buffer.from("CA_KEY: 'eA=='\n"));
  expect(await new KeyStore(manager(), () => {}).loadLatest(names)).toBeUndefined();
  expect(await new KeyStore(manager(), () => {}).loadLatest(clusterNames('never-made'))).toBeUndefined();
});
