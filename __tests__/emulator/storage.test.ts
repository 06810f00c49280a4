// The emulator's Cloud Storage JSON API, the part a restore and snapshot retention use: buckets,
// media uploads, object lists by prefix, deletes by generation, object metadata (generation, MD5
// and CRC32C as Google encodes them), media downloads of one generation, Google's error bodies,
// bucket IAM for principals other than the owner (the runner), the project's default Compute Engine
// account, and a restart on the same state dir. Also the action's own client (src/storage/client.ts)
// against it: what it reads, and the errors a user acts on; and gcloud's `storage cat`, a real
// third-party client.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { createNullRuntime } from '../../emulator/null-runtime.ts';
import { defaultComputeServiceAccount } from '../../emulator/project-number.ts';
import { crc32c } from '../../emulator/secretmanager/crc32c.ts';
import { createStorage } from '../../src/storage/client.ts';
import { StorageError } from '../../src/storage/errors.ts';
import { runnerToken } from '../support/iap-world.ts';
import { startCannedServer } from '../gce/canned-server.ts';

const P = 'gcs-project';
const READER = `reader@${P}.iam.gserviceaccount.com`;
const STRANGER = `stranger@${P}.iam.gserviceaccount.com`;
const DATA = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
let dir: string;
let emu: RunningEmulator;
let owner: string;

const start = (): Promise<RunningEmulator> =>
  startEmulator({ port: 0, stateDir: join(dir, 'state'), runtime: createNullRuntime(), runnerProject: P, log: () => {} });

async function call(method: string, path: string, token: string | undefined, body?: Buffer | string) {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body === undefined ? {} : { body }),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.startsWith('application/json') && bytes.length ? JSON.parse(bytes.toString()) : undefined;
  return { status: res.status, bytes, json };
}
const tokenOf = (who: string): string => emu.ctx.runner.tokens.issueFor(who).access_token;
const OBJECT = `/storage/v1/b/backups/o/${encodeURIComponent('etcd/snap.db')}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-gcs-'));
  emu = await start();
  owner = await runnerToken(emu);
});
afterAll(async () => {
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('bucket, upload, metadata with Google-encoded checksums, download by generation; another upload is a new generation', async () => {
  expect((await call('POST', `/storage/v1/b?project=${P}`, owner, JSON.stringify({ name: 'backups' }))).status).toBe(200);
  expect((await call('POST', `/storage/v1/b?project=${P}`, owner, JSON.stringify({ name: 'backups' }))).status).toBe(409);
  const up = await call('POST', `/upload/storage/v1/b/backups/o?uploadType=media&name=${encodeURIComponent('etcd/snap.db')}`, owner, DATA);
  expect(up.status).toBe(200);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32c(DATA));
  expect(up.json).toMatchObject({
    kind: 'storage#object',
    bucket: 'backups',
    name: 'etcd/snap.db',
    size: String(DATA.length),
    md5Hash: createHash('md5').update(DATA).digest('base64'),
    crc32c: crc.toString('base64'),
    generation: expect.stringMatching(/^\d{16}$/),
  });
  const meta = await call('GET', OBJECT, owner);
  expect(meta.json).toEqual(up.json);
  const media = await call('GET', `${OBJECT}?alt=media&generation=${up.json.generation}`, owner);
  expect(media.status).toBe(200);
  expect(media.bytes.equals(DATA)).toBe(true);

  const again = await call(
    'POST',
    `/upload/storage/v1/b/backups/o?uploadType=media&name=${encodeURIComponent('etcd/snap.db')}`,
    owner,
    'newer',
  );
  expect(BigInt(again.json.generation)).toBeGreaterThan(BigInt(up.json.generation));
  // The older generation is not kept: asking for it is a 404 rather than other bytes.
  const old = await call('GET', `${OBJECT}?alt=media&generation=${up.json.generation}`, owner);
  expect(old.status).toBe(404);
  expect(old.json.error).toMatchObject({ code: 404, message: 'No such object: backups/etcd/snap.db' });
  await call('POST', `/upload/storage/v1/b/backups/o?uploadType=media&name=${encodeURIComponent('etcd/snap.db')}`, owner, DATA);
});

test('who may read: not anonymous, not a stranger; a bucket binding or the project default Compute Engine account may', async () => {
  const anonymous = await call('GET', OBJECT, undefined);
  expect(anonymous.status).toBe(401);
  expect(anonymous.json.error.message).toContain('Anonymous caller does not have storage.objects.get access');
  const stranger = await call('GET', `${OBJECT}?alt=media`, tokenOf(STRANGER));
  expect(stranger.status).toBe(403);
  expect(stranger.json.error.message).toBe(
    `${STRANGER} does not have storage.objects.get access to the Google Cloud Storage object. Permission 'storage.objects.get' denied on resource (or it may not exist).`,
  );
  expect((await call('GET', `${OBJECT}?alt=media`, tokenOf(READER))).status).toBe(403);
  const policy = { bindings: [{ role: 'roles/storage.objectViewer', members: [`serviceAccount:${READER}`] }] };
  expect((await call('PUT', '/storage/v1/b/backups/iam', tokenOf(READER), JSON.stringify(policy))).status).toBe(403);
  expect((await call('PUT', '/storage/v1/b/backups/iam', owner, JSON.stringify(policy))).status).toBe(200);
  const read = await call('GET', `${OBJECT}?alt=media`, tokenOf(READER));
  expect(read.status).toBe(200);
  expect(read.bytes.equals(DATA)).toBe(true);
  // A viewer may not write.
  expect((await call('POST', '/upload/storage/v1/b/backups/o?uploadType=media&name=x', tokenOf(READER), 'x')).status).toBe(403);
  expect((await call('GET', `${OBJECT}?alt=media`, tokenOf(defaultComputeServiceAccount(P)))).status).toBe(200);
});

test("the action's client reads generation, size and MD5, and says what to fix for a missing object or bucket and a refusal", async () => {
  const storage = createStorage({ endpoint: emu.url, token: async () => owner, attempts: 1 });
  const info = await storage.objectInfo({ bucket: 'backups', object: 'etcd/snap.db' });
  expect(info).toEqual({
    bucket: 'backups',
    object: 'etcd/snap.db',
    generation: expect.stringMatching(/^\d+$/),
    size: DATA.length,
    md5Hash: createHash('md5').update(DATA).digest('base64'),
  });
  const missing = storage.objectInfo({ bucket: 'backups', object: 'nope.db' });
  await expect(missing).rejects.toThrow(StorageError);
  await expect(missing).rejects.toThrow(
    'Cloud Storage refused to read the metadata of gs://backups/nope.db (HTTP 404: No such object: backups/nope.db); check the bucket and object name',
  );
  await expect(storage.objectInfo({ bucket: 'no-such-bucket', object: 'x' })).rejects.toThrow('The specified bucket does not exist');
  const asStranger = createStorage({ endpoint: emu.url, token: async () => tokenOf(STRANGER), attempts: 1 });
  await expect(asStranger.objectInfo({ bucket: 'backups', object: 'etcd/snap.db' })).rejects.toThrow(
    /HTTP 403: .*; grant the workflow's identity and the masters' service account roles\/storage.objectViewer on the bucket/,
  );
});

test('an upload is streamed from its file and checked against the MD5 Cloud Storage reports; a 503 is retried', async () => {
  const file = join(dir, 'upload.db');
  writeFileSync(file, DATA);
  const storage = createStorage({ endpoint: emu.url, token: async () => owner, attempts: 1 });
  const stored = await storage.uploadFile({ bucket: 'backups', object: 'up/one.db' }, file);
  expect(stored).toMatchObject({
    bucket: 'backups',
    object: 'up/one.db',
    size: DATA.length,
    md5Hash: createHash('md5').update(DATA).digest('base64'),
  });
  expect((await call('GET', `/storage/v1/b/backups/o/${encodeURIComponent('up/one.db')}?alt=media`, owner)).bytes.equals(DATA)).toBe(true);
  // What the emulator never does: answer with another MD5 (damaged on the way), or fail once.
  const canned = await startCannedServer();
  try {
    const answer = {
      bucket: 'backups',
      name: 'up/two.db',
      generation: '7',
      size: String(DATA.length),
      md5Hash: 'AAAAAAAAAAAAAAAAAAAAAA==',
    };
    canned.reply({ status: 503, body: { error: { code: 503, message: 'backend' } } }, { status: 200, body: answer });
    const flaky = createStorage({ endpoint: canned.url, token: async () => 't', attempts: 2 });
    await expect(flaky.uploadFile({ bucket: 'backups', object: 'up/two.db' }, file)).rejects.toThrow(
      'gs://backups/up/two.db was damaged on the way: Cloud Storage holds MD5 AAAAAAAAAAAAAAAAAAAAAA==, the file has',
    );
    expect(canned.seen).toHaveLength(2);
    expect(canned.bodies[1]!.length).toBe(DATA.toString().length);
  } finally {
    await canned.stop();
  }
});

test('objects.list by prefix, page after page, for those who may list; a delete names its generation', async () => {
  const put = async (name: string) =>
    (await call('POST', `/upload/storage/v1/b/backups/o?uploadType=media&name=${encodeURIComponent(name)}`, owner, 'x')).json as {
      generation: string;
    };
  for (const n of ['list/c.db', 'list/a.db', 'list/b.db', 'other/a.db']) await put(n);
  const first = await call('GET', `/storage/v1/b/backups/o?prefix=list%2F&maxResults=2`, owner);
  expect(first.status).toBe(200);
  expect(first.json.items.map((o: { name: string }) => o.name)).toEqual(['list/a.db', 'list/b.db']);
  const second = await call('GET', `/storage/v1/b/backups/o?prefix=list%2F&maxResults=2&pageToken=${first.json.nextPageToken}`, owner);
  expect(second.json.items.map((o: { name: string }) => o.name)).toEqual(['list/c.db']);
  expect(second.json.nextPageToken).toBeUndefined();
  expect((await call('GET', `/storage/v1/b/backups/o?prefix=list%2F`, tokenOf(STRANGER))).status).toBe(403);

  // The action's client: every page, and a delete of exactly the version it listed.
  const storage = createStorage({ endpoint: emu.url, token: async () => owner, attempts: 1 });
  const listed = await storage.listObjects('backups', 'list/');
  expect(listed.map((o) => o.object)).toEqual(['list/a.db', 'list/b.db', 'list/c.db']);
  const a = listed[0]!;
  const newer = await put('list/a.db'); // written again since the list: a newer generation
  expect(await storage.deleteObject(a)).toBe(false);
  expect((await storage.listObjects('backups', 'list/a')).map((o) => o.generation)).toEqual([newer.generation]);
  expect(await storage.deleteObject({ ...a, generation: newer.generation })).toBe(true);
  expect((await storage.listObjects('backups', 'list/')).map((o) => o.object)).toEqual(['list/b.db', 'list/c.db']);

  // Refused, each error names the role its call needs.
  const asStranger = createStorage({ endpoint: emu.url, token: async () => tokenOf(STRANGER), attempts: 1 });
  await expect(asStranger.listObjects('backups', 'list/')).rejects.toThrow(
    /^Cloud Storage refused to list gs:\/\/backups\/list\/\* \(HTTP 403: .*\); grant the workflow's identity roles\/storage.objectAdmin on the bucket \(etcd-snapshot-keep lists and deletes\)/,
  );
  const file = join(dir, 'stranger.db');
  writeFileSync(file, 'x');
  await expect(asStranger.uploadFile({ bucket: 'backups', object: 'list/d.db' }, file)).rejects.toThrow(
    /refused to write gs:\/\/backups\/list\/d.db \(HTTP 403: .*\); grant the workflow's identity roles\/storage.objectCreator on the bucket$/,
  );
});

/** gcloud in a child process, awaited: the emulator answering it lives in this process's event loop. */
function gcloud(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('gcloud', args, { env });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr }));
  });
}

test('gcloud storage reads an object from it: metadata, then the bytes from its mediaLink', async () => {
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, owner);
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    CLOUDSDK_CONFIG: join(dir, 'gcloud'),
    CLOUDSDK_CORE_PROJECT: P,
    CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
  };
  expect((await gcloud(['config', 'set', 'api_endpoint_overrides/storage', `${emu.url}/storage/v1/`], env)).status).toBe(0);
  const cat = await gcloud(['storage', 'cat', 'gs://backups/etcd/snap.db'], env);
  expect(cat.stderr).toBe('');
  expect(cat.status).toBe(0);
  expect(cat.stdout.equals(DATA)).toBe(true);
  const missing = await gcloud(['storage', 'cat', 'gs://backups/nope.db'], env);
  expect(missing.status).toBe(1);
  // After the 404 gcloud lists the bucket for the name (objects.list) and says what it found: nothing.
  expect(missing.stderr).toContain('The following URLs matched no objects or files:\ngs://backups/nope.db');
}, 60_000);

test('buckets, objects and bindings outlive a restart on the same state dir', async () => {
  await emu.stop();
  emu = await start();
  owner = await runnerToken(emu);
  const read = await call('GET', `${OBJECT}?alt=media`, tokenOf(READER));
  expect(read.status).toBe(200);
  expect(read.bytes.equals(DATA)).toBe(true);
});
