// createComputeApi's wiring: endpoint parsing, links, the requests as they go on the wire, and that
// emulator mode never sends credentials.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createComputeApi, endpointBase } from '../../src/gce/client.ts';
import { canonicalLink, lastSegment } from '../../src/gce/links.ts';
import { startCannedServer, type CannedServer } from './canned-server.ts';
import { INSTANCE } from './fixtures/specs.ts';

describe('endpointBase', () => {
  it('puts /compute/v1/ on the endpoint, and drops a user and password', () => {
    expect(endpointBase('http://127.0.0.1:8085')).toBe('http://127.0.0.1:8085/compute/v1/');
    expect(endpointBase('http://127.3.4.5:9/compute/v1/')).toBe('http://127.3.4.5:9/compute/v1/');
    expect(endpointBase('https://compute.example.test')).toBe('https://compute.example.test/compute/v1/');
    expect(endpointBase('http://[::1]:80')).toBe('http://[::1]/compute/v1/');
    expect(endpointBase('http://user:secret@127.0.0.1:8085')).toBe('http://127.0.0.1:8085/compute/v1/');
  });

  it.each([
    ['127.0.0.1:8085', 'compute endpoint "127.0.0.1:8085" must start with http:// or https://'],
    ['localhost:8085', 'compute endpoint "localhost:8085" must start with http:// or https://'],
    ['http://', 'compute endpoint "http://" is not a URL: give it as http://HOST:PORT'],
    [
      'http://127.0.0.1:8085/v1',
      'compute endpoint "http://127.0.0.1:8085/v1" must be just http://HOST:PORT (the client adds /compute/v1/ itself)',
    ],
  ])('refuses %s', (endpoint, message) => {
    expect(() => endpointBase(endpoint)).toThrow(message);
  });
});

describe('links', () => {
  it('rewrites any selfLink onto one base', () => {
    expect(canonicalLink('http://h:1/compute/v1/', 'https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/x')).toBe(
      'http://h:1/compute/v1/projects/p/zones/z/instances/x',
    );
    expect(canonicalLink('http://h:1/compute/v1/', 'projects/p/global/httpHealthChecks/hc')).toBe(
      'http://h:1/compute/v1/projects/p/global/httpHealthChecks/hc',
    );
    expect(lastSegment('https://x/compute/v1/projects/p/regions/us-central1')).toBe('us-central1');
    expect(lastSegment(undefined)).toBe('');
  });

  it('builds links on the endpoint, or on www.googleapis.com without one', async () => {
    const local = createComputeApi({ project: 'p', endpoint: 'http://127.0.0.1:7' });
    const google = createComputeApi({ project: 'p' });
    expect(local.instanceLink('z-a', 'm')).toBe('http://127.0.0.1:7/compute/v1/projects/p/zones/z-a/instances/m');
    expect(local.httpHealthCheckLink('hc')).toBe('http://127.0.0.1:7/compute/v1/projects/p/global/httpHealthChecks/hc');
    expect(local.targetPoolLink('r', 'tp')).toBe('http://127.0.0.1:7/compute/v1/projects/p/regions/r/targetPools/tp');
    expect(google.instanceLink('z-a', 'm')).toBe('https://www.googleapis.com/compute/v1/projects/p/zones/z-a/instances/m');
    expect(google.project).toBe('p');
    await local.close();
    await google.close();
  });
});

describe('emulator mode sends no credentials', () => {
  let server: CannedServer;
  const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
  beforeAll(async () => {
    server = await startCannedServer();
    // A credentials file that would fail loudly if anything tried to read it.
    process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/ha-masters-test-credentials.json';
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
    await server.stop();
  });

  it('no request carries an authorization header', async () => {
    const api = createComputeApi({ project: 'p', endpoint: server.url });
    server.reply(
      { status: 200, body: { items: [{ name: 'z1-a', region: `${server.url}/compute/v1/projects/p/regions/z1`, status: 'UP' }] } },
      { status: 200, body: { name: 'hc', selfLink: 'https://www.googleapis.com/compute/v1/projects/p/global/httpHealthChecks/hc' } },
    );
    try {
      await expect(api.listZones()).resolves.toEqual([{ name: 'z1-a', region: 'z1', status: 'UP' }]);
      await expect(api.getHttpHealthCheck('hc')).resolves.toEqual({
        name: 'hc',
        selfLink: `${server.url}/compute/v1/projects/p/global/httpHealthChecks/hc`,
      });
    } finally {
      await api.close();
    }
    expect(server.seen).toEqual(['GET /compute/v1/projects/p/zones', 'GET /compute/v1/projects/p/global/httpHealthChecks/hc']);
    expect(server.headers.map((h) => h.authorization)).toEqual([undefined, undefined]);
  });
});

describe('requests on the wire', () => {
  let server: CannedServer;
  beforeAll(async () => {
    server = await startCannedServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  const api = () => createComputeApi({ project: 'p', endpoint: server.url, pageSize: 2, pollIntervalMs: 1, newRequestId: () => 'req-1' });

  it('a write sends JSON with its requestId, int64 fields as strings; the wait is a POST without a body', async () => {
    server.seen.length = server.bodies.length = server.headers.length = 0;
    const zone = `${server.url}/compute/v1/projects/p/zones/z1-a`;
    server.reply(
      { status: 200, body: { name: 'op-1', zone, status: 'RUNNING' } },
      { status: 200, body: { name: 'op-1', zone, status: 'DONE' } },
    );
    await api().insertInstance(INSTANCE);
    expect(server.seen).toEqual([
      'POST /compute/v1/projects/p/zones/z1-a/instances?requestId=req-1',
      'POST /compute/v1/projects/p/zones/z1-a/operations/op-1/wait',
    ]);
    expect(server.headers.map((h) => [h['content-type'], h['content-length']])).toEqual([
      ['application/json', String(server.bodies[0]!.length)],
      [undefined, '0'],
    ]);
    const sent = JSON.parse(server.bodies[0]!) as { disks: { initializeParams: { diskSizeGb?: unknown } }[] };
    expect(sent.disks.map((d) => d.initializeParams.diskSizeGb)).toEqual([undefined, '10']);
    expect(server.bodies[1]).toBe('');
  });

  it('a query goes with every attempt; aggregatedList follows nextPageToken across scopes', async () => {
    server.seen.length = 0;
    const vm = (name: string, zone: string) => ({ name, zone: `${server.url}/compute/v1/projects/p/zones/${zone}`, status: 'RUNNING' });
    server.reply(
      {
        status: 200,
        body: {
          items: { 'zones/z1-a': { instances: [vm('m-1', 'z1-a')] }, 'zones/z1-b': { warning: { code: 'NO_RESULTS_ON_PAGE' } } },
          nextPageToken: 't2',
        },
      },
      { status: 200, body: { items: { 'zones/z1-b': { instances: [vm('m-2', 'z1-b'), vm('not-m', 'z1-b')] } } } },
    );
    const found = await api().listInstances('m-');
    expect(found.map((i) => [i.zone, i.name])).toEqual([
      ['z1-a', 'm-1'],
      ['z1-b', 'm-2'],
    ]);
    expect(server.seen).toEqual([
      'GET /compute/v1/projects/p/aggregated/instances?filter=name%20eq%20%27m-.*%27&maxResults=2',
      'GET /compute/v1/projects/p/aggregated/instances?filter=name%20eq%20%27m-.*%27&maxResults=2&pageToken=t2',
    ]);
  });

  it('query parameters of an instance method: accessConfig and networkInterface', async () => {
    server.seen.length = 0;
    server.reply({ status: 200, body: { name: 'op-2', zone: 'zones/z1-a', status: 'DONE' } });
    await api().deleteAccessConfig('z1-a', 'vm', 'external-nat');
    expect(server.seen).toEqual([
      'POST /compute/v1/projects/p/zones/z1-a/instances/vm/deleteAccessConfig?accessConfig=external-nat&networkInterface=nic0&requestId=req-1',
    ]);
  });
});

describe('Application Default Credentials mode', () => {
  it('a credentials problem is a catchable GceError with a fix, and does not crash the process', async () => {
    const script = fileURLToPath(new URL('./fixtures/missing-credentials.ts', import.meta.url));
    // A credentials file that does not exist: google-auth-library fails before any network call.
    const env = { ...process.env, GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/ha-masters-test-credentials.json' };
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [script], { env, timeout: 60_000 }, (_e, out, err) =>
        resolve({ code: child.exitCode, stdout: out, stderr: err }),
      );
    });
    expect({ code, stderr: stderr.includes('Error') ? stderr : '' }).toEqual({ code: 0, stderr: '' });
    const results = JSON.parse(stdout) as { name: string; kind: string; message: string }[];
    const hint =
      '(authenticate to Google Cloud before this step, e.g. with google-github-actions/auth, or set compute-endpoint to use an emulator)';
    expect(results.map((r) => [r.name, r.kind, r.message.split(':')[0], r.message.endsWith(hint)])).toEqual([
      ['GceError', 'other', 'failed to get instance projects/p/zones/z/instances/x', true],
      ['GceError', 'other', 'failed to list zones projects/p/zones', true],
      ['GceError', 'other', 'failed to delete firewall projects/p/global/firewalls/f', true],
      ['GceError', 'other', 'failed to get http health check projects/p/global/httpHealthChecks/hc', true],
    ]);
  });
});
