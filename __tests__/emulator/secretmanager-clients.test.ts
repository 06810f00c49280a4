// Clients nobody here wrote against the emulator's Secret Manager: the official Node client
// (@google-cloud/secret-manager over REST, credentials by ADC from the emulator's metadata server,
// as the action gets them) and `gcloud secrets` (api_endpoint_overrides/secretmanager, a token file).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { startEmulator, type RunningEmulator } from '../../emulator/index.ts';
import { createNullRuntime } from '../../emulator/null-runtime.ts';
import { runnerToken } from '../support/iap-world.ts';

const haveGcloud = spawnSync('gcloud', ['--version'], { stdio: 'ignore' }).status === 0;
if (!haveGcloud) console.warn('gcloud is not on PATH: the gcloud secrets test is SKIPPED on this machine');
const gcloudTest = haveGcloud ? test : test.skip;

const P = 'sm-clients';
const VM_SA = `replica@${P}.iam.gserviceaccount.com`;
let dir: string;
let emu: RunningEmulator;
let number: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'emu-sm-clients-'));
  emu = await startEmulator({ port: 0, stateDir: join(dir, 'state'), runtime: createNullRuntime(), runnerProject: P, log: () => {} });
  number = await (
    await fetch(`${emu.url}/computeMetadata/v1/project/numeric-project-id`, { headers: { 'Metadata-Flavor': 'Google' } })
  ).text();
});

afterAll(async () => {
  delete process.env.GCE_METADATA_HOST;
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the official Node client (REST fallback, ADC from the emulator): create, add, access, list, IAM, delete', async () => {
  // As the action runs: ADC finds the emulator's metadata server, no key file.
  process.env.GCE_METADATA_HOST = `127.0.0.1:${emu.port}`;
  const client = new SecretManagerServiceClient({ fallback: true, apiEndpoint: '127.0.0.1', port: emu.port, protocol: 'http' });
  try {
    const parent = `projects/${P}`;
    const [secret] = await client.createSecret({
      parent,
      secretId: 'etcd-ca-key',
      secret: { replication: { automatic: {} }, labels: { cluster: 'c1' } },
    });
    expect(secret.name).toBe(`projects/${number}/secrets/etcd-ca-key`);
    expect(secret.labels).toEqual({ cluster: 'c1' });
    await expect(
      client.createSecret({ parent, secretId: 'etcd-ca-key', secret: { replication: { automatic: {} } } }),
    ).rejects.toMatchObject({ code: 6 }); // ALREADY_EXISTS

    const key = Buffer.from('-----BEGIN PRIVATE KEY-----\nnode client\n-----END PRIVATE KEY-----\n');
    const [version] = await client.addSecretVersion({ parent: secret.name!, payload: { data: key } });
    expect(version.name).toBe(`projects/${number}/secrets/etcd-ca-key/versions/1`);
    expect(version.state === 'ENABLED' || version.state === 1).toBe(true);
    const [accessed] = await client.accessSecretVersion({ name: `${parent}/secrets/etcd-ca-key/versions/latest` });
    expect(Buffer.from(accessed.payload!.data as Uint8Array).equals(key)).toBe(true);
    expect(accessed.payload!.dataCrc32c).toBeDefined();

    const [listed] = await client.listSecrets({ parent, filter: 'labels.cluster=c1' }, { autoPaginate: true });
    expect(listed.map((s) => s.name)).toEqual([`projects/${number}/secrets/etcd-ca-key`]);

    const [empty] = await client.getIamPolicy({ resource: secret.name! });
    const [policy] = await client.setIamPolicy({
      resource: secret.name!,
      policy: { bindings: [{ role: 'roles/secretmanager.secretAccessor', members: [`serviceAccount:${VM_SA}`] }], etag: empty.etag },
    });
    expect(policy.bindings).toEqual([
      expect.objectContaining({ role: 'roles/secretmanager.secretAccessor', members: [`serviceAccount:${VM_SA}`] }),
    ]);
    const [read] = await client.getIamPolicy({ resource: secret.name! });
    expect(read.bindings?.[0]?.members).toEqual([`serviceAccount:${VM_SA}`]);
    // A stale etag: ABORTED.
    await expect(client.setIamPolicy({ resource: secret.name!, policy: { bindings: [], etag: empty.etag } })).rejects.toMatchObject({
      code: 10,
    });

    await client.deleteSecret({ name: secret.name! });
    await expect(client.getSecret({ name: secret.name! })).rejects.toMatchObject({ code: 5 }); // NOT_FOUND
  } finally {
    await client.close();
    delete process.env.GCE_METADATA_HOST;
  }
});

gcloudTest('gcloud secrets: create, versions add/access, list, add-iam-policy-binding, delete', async () => {
  const home = join(dir, 'gcloud-home');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, await runnerToken(emu), { mode: 0o600 });
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    CLOUDSDK_CONFIG: join(home, 'gcloud'),
    CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
    CLOUDSDK_CORE_PROJECT: P,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER: `${emu.url}/`,
    CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
  };
  const gcloud = (args: string[], input?: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = execFile('gcloud', args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`gcloud ${args.join(' ')} failed: ${stderr}`));
        else resolve(stdout);
      });
      if (input !== undefined) child.stdin?.end(input);
    });

  await gcloud(['secrets', 'create', 'sa-key', '--replication-policy=automatic', '--labels=cluster=c2', '--data-file=-'], 'first payload');
  await gcloud(['secrets', 'versions', 'add', 'sa-key', '--data-file=-'], 'second payload');
  expect(await gcloud(['secrets', 'versions', 'access', 'latest', '--secret=sa-key'])).toBe('second payload');
  expect(await gcloud(['secrets', 'versions', 'access', '1', '--secret=sa-key'])).toBe('first payload');
  const listed = JSON.parse(await gcloud(['secrets', 'list', '--filter=labels.cluster=c2', '--format=json']));
  expect(listed.map((s: { name: string }) => s.name)).toEqual([`projects/${number}/secrets/sa-key`]);
  await gcloud([
    'secrets',
    'add-iam-policy-binding',
    'sa-key',
    `--member=serviceAccount:${VM_SA}`,
    '--role=roles/secretmanager.secretAccessor',
  ]);
  const policy = JSON.parse(await gcloud(['secrets', 'get-iam-policy', 'sa-key', '--format=json']));
  expect(policy.bindings).toEqual([{ role: 'roles/secretmanager.secretAccessor', members: [`serviceAccount:${VM_SA}`] }]);
  // The binding is what lets the replica's account read it.
  const asVm = await fetch(`${emu.url}/v1/projects/${P}/secrets/sa-key/versions/latest:access`, {
    headers: { authorization: `Bearer ${emu.ctx.runner.tokens.issueFor(VM_SA).access_token}` },
  });
  expect(asVm.status).toBe(200);
  await gcloud(['secrets', 'delete', 'sa-key']);
  expect(JSON.parse(await gcloud(['secrets', 'list', '--format=json']))).toEqual([]);
});
