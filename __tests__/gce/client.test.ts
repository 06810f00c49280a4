// createComputeApi's wiring: endpoint parsing, links, and that emulator mode never sends credentials.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createComputeApi, parseEndpoint } from '../../src/gce/client.ts';
import { canonicalLink, lastSegment } from '../../src/gce/links.ts';
import { startCannedServer, type CannedServer } from './canned-server.ts';

describe('parseEndpoint', () => {
  it('splits host, port and protocol for the client library', () => {
    expect(parseEndpoint('http://127.0.0.1:8085')).toEqual({ apiEndpoint: '127.0.0.1', port: 8085, protocol: 'http', base: 'http://127.0.0.1:8085/compute/v1/' });
    expect(parseEndpoint('http://127.3.4.5:9/compute/v1/')).toEqual({ apiEndpoint: '127.3.4.5', port: 9, protocol: 'http', base: 'http://127.3.4.5:9/compute/v1/' });
    expect(parseEndpoint('https://compute.example.test')).toEqual({ apiEndpoint: 'compute.example.test', port: 443, protocol: 'https', base: 'https://compute.example.test/compute/v1/' });
    expect(parseEndpoint('http://[::1]:80')).toEqual({ apiEndpoint: '::1', port: 80, protocol: 'http', base: 'http://[::1]/compute/v1/' });
  });

  it.each([
    ['127.0.0.1:8085', 'compute endpoint "127.0.0.1:8085" must start with http:// or https://'],
    ['localhost:8085', 'compute endpoint "localhost:8085" must start with http:// or https://'],
    ['http://', 'compute endpoint "http://" is not a URL: give it as http://HOST:PORT'],
    ['http://127.0.0.1:8085/v1', 'compute endpoint "http://127.0.0.1:8085/v1" must be just http://HOST:PORT (the client adds /compute/v1/ itself)'],
  ])('refuses %s', (endpoint, message) => {
    expect(() => parseEndpoint(endpoint)).toThrow(message);
  });
});

describe('links', () => {
  it('rewrites any selfLink onto one base', () => {
    expect(canonicalLink('http://h:1/compute/v1/', 'https://www.googleapis.com/compute/v1/projects/p/zones/z/instances/x')).toBe(
      'http://h:1/compute/v1/projects/p/zones/z/instances/x',
    );
    expect(canonicalLink('http://h:1/compute/v1/', 'projects/p/global/httpHealthChecks/hc')).toBe('http://h:1/compute/v1/projects/p/global/httpHealthChecks/hc');
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

  it('neither the library clients nor raw REST carry an authorization header', async () => {
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
    expect(server.seen).toEqual(['GET /compute/v1/projects/p/zones?', 'GET /compute/v1/projects/p/global/httpHealthChecks/hc']);
    expect(server.headers.map((h) => h.authorization)).toEqual([undefined, undefined]);
  });
});

describe('Application Default Credentials mode', () => {
  it('a credentials problem is a catchable GceError with a fix, and does not crash the process', async () => {
    const script = fileURLToPath(new URL('./fixtures/missing-credentials.ts', import.meta.url));
    // A credentials file that does not exist: google-auth-library fails before any network call.
    const env = { ...process.env, GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/ha-masters-test-credentials.json' };
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [script], { env, timeout: 60_000 }, (_e, out, err) => resolve({ code: child.exitCode, stdout: out, stderr: err }));
    });
    expect({ code, stderr: stderr.includes('Error') ? stderr : '' }).toEqual({ code: 0, stderr: '' });
    const results = JSON.parse(stdout) as { name: string; kind: string; message: string }[];
    const hint = '(authenticate to Google Cloud before this step, e.g. with google-github-actions/auth, or set compute-endpoint to use an emulator)';
    expect(results.map((r) => [r.name, r.kind, r.message.split(':')[0], r.message.endsWith(hint)])).toEqual([
      ['GceError', 'other', 'failed to get instance projects/p/zones/z/instances/x', true],
      ['GceError', 'other', 'failed to list zones projects/p/zones', true],
      ['GceError', 'other', 'failed to delete firewall projects/p/global/firewalls/f', true],
      ['GceError', 'other', 'failed to get http health check projects/p/global/httpHealthChecks/hc', true],
    ]);
  });
});
