// The emulator's Secret Manager v1 over REST, as Google serves it: secrets, versions, payload
// checksums and limits, list filters and pages, Google's error bodies, per-secret IAM for principals
// other than the owner (the runner), the policy etag, tokens that name their principal, and a
// restart on the same state dir. Also: payloads never reach the logs, and the default Compute
// Engine service account is the project number's, as on GCE.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { createNullRuntime } from '../../emulator/null-runtime.ts';
import { admin, raw } from './support/compute.ts';
import { runnerToken } from '../support/iap-world.ts';

const P = 'sm-project';
const VM_SA = `vm-reader@${P}.iam.gserviceaccount.com`;
const OTHER_SA = `other@${P}.iam.gserviceaccount.com`;
let dir: string;
let emu: RunningEmulator;
let owner: string;
const logLines: string[] = [];

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

async function start(): Promise<RunningEmulator> {
  return startEmulator({
    port: 0,
    stateDir: join(dir, 'state'),
    runtime: createNullRuntime(),
    runnerProject: P,
    debug: true,
    log: (l) => logLines.push(l),
  });
}

async function call(method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const as = (token: string | undefined) => ({
  get: (path: string) => call('GET', path, token),
  post: (path: string, body?: unknown) => call('POST', path, token, body ?? {}),
  del: (path: string) => call('DELETE', path, token),
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-sm-'));
  emu = await start();
  owner = await runnerToken(emu);
});

afterAll(async () => {
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const secrets = `/v1/projects/${P}/secrets`;

test('secrets and versions: create, duplicate, get, addVersion with checksums and limits, access, list, delete', async () => {
  const o = as(owner);
  const number = (await raw(emu.url, 'GET', `projects/${P}`)).json.id as string;
  const created = await o.post(`${secrets}?secretId=ca-key`, { replication: { automatic: {} }, labels: { 'ha-masters-cluster': 'c1' } });
  expect(created.status).toBe(200);
  // Google names the project by its number in every name it returns.
  expect(created.json).toEqual({
    name: `projects/${number}/secrets/ca-key`,
    replication: { automatic: {} },
    labels: { 'ha-masters-cluster': 'c1' },
    createTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    etag: expect.stringMatching(/^"[0-9a-f]+"$/),
  });
  expect(await o.post(`${secrets}?secretId=ca-key`, { replication: { automatic: {} } })).toEqual({
    status: 409,
    json: { error: { code: 409, status: 'ALREADY_EXISTS', message: `Secret [projects/${number}/secrets/ca-key] already exists.` } },
  });
  expect((await o.post(`${secrets}?secretId=no-replication`, {})).status).toBe(400);
  expect((await o.post(`${secrets}?secretId=bad`, { replication: { automatic: {} }, lables: {} })).json.error.message).toContain(
    'Unknown name "lables"',
  );
  expect((await o.get(`${secrets}/ca-key`)).json.name).toBe(`projects/${number}/secrets/ca-key`);
  // A project's number names it as well as its id.
  expect((await o.get(`/v1/projects/${number}/secrets/ca-key`)).json.name).toBe(`projects/${number}/secrets/ca-key`);

  // Nothing to read yet.
  expect(await o.get(`${secrets}/ca-key/versions/latest:access`)).toEqual({
    status: 404,
    json: {
      error: { code: 404, status: 'NOT_FOUND', message: `Secret [projects/${number}/secrets/ca-key] not found or has no versions.` },
    },
  });

  const key1 = '-----BEGIN EC PRIVATE KEY-----\nfirst\n-----END EC PRIVATE KEY-----\n';
  // CRC32C("hello") is 0x9a71bb4c: a wrong checksum is refused, a right one kept and echoed.
  expect((await o.post(`${secrets}/ca-key:addVersion`, { payload: { data: b64('hello'), dataCrc32c: '12345' } })).status).toBe(400);
  const v1 = await o.post(`${secrets}/ca-key:addVersion`, { payload: { data: b64('hello'), dataCrc32c: String(0x9a71bb4c) } });
  expect(v1.json).toMatchObject({
    name: `projects/${number}/secrets/ca-key/versions/1`,
    state: 'ENABLED',
    clientSpecifiedPayloadChecksum: true,
  });
  const v2 = await o.post(`${secrets}/ca-key:addVersion`, { payload: { data: b64(key1) } });
  expect(v2.json).toMatchObject({
    name: `projects/${number}/secrets/ca-key/versions/2`,
    state: 'ENABLED',
    replicationStatus: { automatic: {} },
  });
  // At most 64 KiB.
  expect((await o.post(`${secrets}/ca-key:addVersion`, { payload: { data: b64(Buffer.alloc(64 * 1024 + 1)) } })).status).toBe(400);
  expect((await o.post(`${secrets}/ca-key:addVersion`, { payload: { data: b64(Buffer.alloc(64 * 1024)) } })).status).toBe(200);

  expect((await o.get(`${secrets}/ca-key/versions/1:access`)).json).toEqual({
    name: `projects/${number}/secrets/ca-key/versions/1`,
    payload: { data: b64('hello'), dataCrc32c: String(0x9a71bb4c) },
  });
  const latest = await o.get(`${secrets}/ca-key/versions/2:access`);
  expect(Buffer.from(latest.json.payload.data, 'base64').toString()).toBe(key1);
  expect((await o.get(`${secrets}/ca-key/versions/latest:access`)).json.name).toBe(`projects/${number}/secrets/ca-key/versions/3`);
  expect((await o.get(`${secrets}/ca-key/versions/latest`)).json).toMatchObject({
    name: `projects/${number}/secrets/ca-key/versions/3`,
    state: 'ENABLED',
  });
  expect((await o.get(`${secrets}/ca-key/versions/9:access`)).json.error).toEqual({
    code: 404,
    status: 'NOT_FOUND',
    message: `Secret Version [projects/${number}/secrets/ca-key/versions/9] not found.`,
  });
  const versions = await o.get(`${secrets}/ca-key/versions`);
  expect(versions.json.versions.map((v: { name: string }) => v.name.split('/').pop())).toEqual(['3', '2', '1']);
  expect(versions.json.totalSize).toBe(3);

  // list: label filters and pages.
  await o.post(`${secrets}?secretId=other-cluster`, { replication: { automatic: {} }, labels: { 'ha-masters-cluster': 'c2' } });
  await o.post(`${secrets}?secretId=unlabelled`, { replication: { automatic: {} } });
  const names = (r: { json: any }): string[] => (r.json.secrets ?? []).map((s: { name: string }) => s.name.split('/').pop());
  expect(names(await o.get(`${secrets}?filter=${encodeURIComponent('labels.ha-masters-cluster=c1')}`))).toEqual(['ca-key']);
  expect(names(await o.get(`${secrets}?filter=${encodeURIComponent('labels.ha-masters-cluster:*')}`))).toEqual(['ca-key', 'other-cluster']);
  expect(names(await o.get(`${secrets}?filter=${encodeURIComponent('NOT labels.ha-masters-cluster:*')}`))).toEqual(['unlabelled']);
  expect((await o.get(`${secrets}?filter=${encodeURIComponent('create_time>x')}`)).status).toBe(400);
  const page1 = await o.get(`${secrets}?pageSize=2`);
  expect(names(page1)).toEqual(['ca-key', 'other-cluster']);
  expect(page1.json.totalSize).toBe(3);
  const page2 = await o.get(`${secrets}?pageSize=2&pageToken=${page1.json.nextPageToken}`);
  expect(names(page2)).toEqual(['unlabelled']);
  expect(page2.json.nextPageToken).toBeUndefined();

  expect(await o.del(`${secrets}/unlabelled`)).toEqual({ status: 200, json: {} });
  expect((await o.del(`${secrets}/unlabelled`)).json.error).toEqual({
    code: 404,
    status: 'NOT_FOUND',
    message: `Secret [projects/${number}/secrets/unlabelled] not found.`,
  });
  expect((await o.get(`${secrets}/unlabelled`)).status).toBe(404);
});

test('IAM: tokens name their principal; others read only a secret bound to them; setIamPolicy checks the etag', async () => {
  const o = as(owner);
  await o.post(`${secrets}?secretId=replica-key`, { replication: { automatic: {} } });
  await o.post(`${secrets}/replica-key:addVersion`, { payload: { data: b64('replica secret') } });
  const vm = as(emu.ctx.runner.tokens.issueFor(VM_SA).access_token);
  const other = as(emu.ctx.runner.tokens.issueFor(OTHER_SA).access_token);
  const denied = (permission: string, resource: string) => ({
    status: 403,
    json: {
      error: {
        code: 403,
        status: 'PERMISSION_DENIED',
        message: `Permission '${permission}' denied for resource '${resource}' (or it may not exist).`,
      },
    },
  });

  expect(await vm.get(`${secrets}/replica-key/versions/latest:access`)).toEqual(
    denied('secretmanager.versions.access', `projects/${P}/secrets/replica-key/versions/latest`),
  );
  // Without a token, or with one the emulator did not issue (the principal swapped), nobody is known.
  expect((await as(undefined).get(`${secrets}/replica-key/versions/latest:access`)).json.error).toMatchObject({
    code: 401,
    status: 'UNAUTHENTICATED',
  });
  const ownerPrincipal = owner.split('.')[1] as string;
  const forged = emu.ctx.runner.tokens.issueFor(VM_SA).access_token.replace(/^emulator\.[^.]+\./, `emulator.${ownerPrincipal}.`);
  expect((await as(forged).get(`${secrets}/replica-key/versions/latest:access`)).status).toBe(401);
  expect((await as('emulator-token-0123').get(`${secrets}`)).status).toBe(401);

  const empty = await o.get(`${secrets}/replica-key:getIamPolicy`);
  expect(empty.json).toEqual({ etag: 'ACAB' });
  const set = await o.post(`${secrets}/replica-key:setIamPolicy`, {
    policy: { bindings: [{ role: 'roles/secretmanager.secretAccessor', members: [`serviceAccount:${VM_SA}`] }], etag: empty.json.etag },
  });
  expect(set.status).toBe(200);
  expect(set.json).toEqual({
    version: 1,
    etag: expect.any(String),
    bindings: [{ role: 'roles/secretmanager.secretAccessor', members: [`serviceAccount:${VM_SA}`] }],
  });
  expect(set.json.etag).not.toBe('ACAB');
  // The POST form of getIamPolicy answers the same policy.
  expect((await o.post(`${secrets}/replica-key:getIamPolicy`, { options: { requestedPolicyVersion: 3 } })).json).toEqual(set.json);

  // A read-modify-write from the stale policy is refused, as Google does.
  const stale = await o.post(`${secrets}/replica-key:setIamPolicy`, { policy: { bindings: [], etag: empty.json.etag } });
  expect(stale.status).toBe(409);
  expect(stale.json.error).toMatchObject({ code: 409, status: 'ABORTED' });
  expect((await o.get(`${secrets}/replica-key:getIamPolicy`)).json).toEqual(set.json);
  expect(
    (await o.post(`${secrets}/replica-key:setIamPolicy`, { policy: { bindings: [{ role: 'roles/x', members: ['nobody'] }] } })).status,
  ).toBe(400);

  // The bound principal reads the payload; nothing else.
  const read = await vm.get(`${secrets}/replica-key/versions/latest:access`);
  expect(read.status).toBe(200);
  expect(Buffer.from(read.json.payload.data, 'base64').toString()).toBe('replica secret');
  expect(await vm.get(`${secrets}/replica-key`)).toEqual(denied('secretmanager.secrets.get', `projects/${P}/secrets/replica-key`));
  expect((await vm.post(`${secrets}/replica-key:addVersion`, { payload: { data: b64('x') } })).status).toBe(403);
  expect((await vm.post(`${secrets}/replica-key:setIamPolicy`, { policy: { bindings: [] } })).status).toBe(403);
  expect((await vm.get(secrets)).status).toBe(403);
  expect((await vm.del(`${secrets}/replica-key`)).status).toBe(403);
  // A secret that does not exist looks the same as one not bound.
  expect(await vm.get(`${secrets}/nope/versions/latest:access`)).toEqual(
    denied('secretmanager.versions.access', `projects/${P}/secrets/nope/versions/latest`),
  );
  expect(await other.get(`${secrets}/replica-key/versions/latest:access`)).toEqual(
    denied('secretmanager.versions.access', `projects/${P}/secrets/replica-key/versions/latest`),
  );
});

test('payloads never reach the logs; every call is in the request log', async () => {
  const o = as(owner);
  const marker = 'payload-that-must-not-be-logged-7f3a';
  await o.post(`${secrets}?secretId=logged`, { replication: { automatic: {} } });
  await o.post(`${secrets}/logged:addVersion`, { payload: { data: b64(marker) } });
  await o.get(`${secrets}/logged/versions/latest:access`);
  const text = logLines.join('\n');
  expect(text).toContain(`POST ${secrets}/logged:addVersion -> 200`);
  expect(text).not.toContain(marker);
  expect(text).not.toContain(b64(marker));
  const { requests } = await admin(emu.url, 'requests');
  expect(requests).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ method: 'POST', path: `${secrets}/logged:addVersion`, status: 200 }),
      expect.objectContaining({ method: 'GET', path: `${secrets}/logged/versions/latest:access`, status: 200 }),
    ]),
  );
  expect(JSON.stringify(await admin(emu.url, 'state'))).not.toContain(b64(marker));
});

test('the default Compute Engine service account is <project number>-compute@developer.gserviceaccount.com', async () => {
  const number = (await raw(emu.url, 'GET', `projects/${P}`)).json.id as string;
  const md = await fetch(`${emu.url}/computeMetadata/v1/project/numeric-project-id`, { headers: { 'Metadata-Flavor': 'Google' } });
  expect(await md.text()).toBe(number);
  const insert = await raw(emu.url, 'POST', `projects/${P}/zones/us-central1-a/instances`, {
    name: 'with-default-sa',
    machineType: 'zones/us-central1-a/machineTypes/e2-small',
    disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' } }],
    networkInterfaces: [{ network: 'global/networks/default' }],
    serviceAccounts: [{ email: 'default', scopes: ['https://www.googleapis.com/auth/cloud-platform'] }],
  });
  expect(insert.status).toBe(200);
  await emu.settled();
  const vm = await raw(emu.url, 'GET', `projects/${P}/zones/us-central1-a/instances/with-default-sa`);
  expect(vm.json.serviceAccounts).toEqual([
    { email: `${number}-compute@developer.gserviceaccount.com`, scopes: ['https://www.googleapis.com/auth/cloud-platform'] },
  ]);
});

test('a restart on the same state dir keeps secrets, versions, policies, and accepts the tokens it issued', async () => {
  const vmToken = emu.ctx.runner.tokens.issueFor(VM_SA).access_token;
  await emu.stop();
  emu = await start();
  expect(Buffer.from((await as(owner).get(`${secrets}/ca-key/versions/2:access`)).json.payload.data, 'base64').toString()).toContain(
    'first',
  );
  expect((await as(owner).get(`${secrets}/ca-key/versions`)).json.totalSize).toBe(3);
  expect((await as(vmToken).get(`${secrets}/replica-key/versions/latest:access`)).status).toBe(200);
  expect((await as(vmToken).get(`${secrets}/ca-key/versions/latest:access`)).status).toBe(403);
  // Version numbers go on where they stopped.
  expect((await as(owner).post(`${secrets}/ca-key:addVersion`, { payload: { data: b64('again') } })).json.name).toMatch(/\/versions\/4$/);
});
