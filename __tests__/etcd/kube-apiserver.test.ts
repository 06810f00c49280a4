// src/kube/apiserver.ts against a small real HTTPS server standing in for kube-apiserver, with a
// serving certificate from src/etcd/certs.ts on a random loopback address.
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import type { Server as TcpServer, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createCa, issueServingCert } from '../../src/etcd/certs.ts';
import type { CertificateAuthority } from '../../src/etcd/certs.ts';
import { probeReadyz } from '../../src/kube/apiserver.ts';
import { listIdentityLeases } from '../support/official-lease-client.ts';
import { freeLoopbackAddress } from '../support/etcd-cluster.ts';

let ca: CertificateAuthority;
let ip: string;
let server: Server;
let base: string;
let readyStatus = 200;
const seenQueries: string[] = [];

const LEASES = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'LeaseList',
  metadata: { resourceVersion: '7' },
  items: [
    {
      metadata: {
        name: 'apiserver-mpzb65c4laynqu6rnedjohxo3e',
        namespace: 'kube-system',
        labels: { 'apiserver.kubernetes.io/identity': 'kube-apiserver', 'kubernetes.io/hostname': 'kubernetes-master' },
      },
      spec: {
        holderIdentity: 'apiserver-mpzb65c4laynqu6rnedjohxo3e_3f1c',
        leaseDurationSeconds: 3600,
        renewTime: '2026-11-24T08:00:00.123456Z',
      },
    },
    {
      metadata: {
        name: 'apiserver-wj467rbl25eeviqacfhvg2yvnm',
        namespace: 'kube-system',
        labels: { 'apiserver.kubernetes.io/identity': 'kube-apiserver', 'kubernetes.io/hostname': 'master-1' },
      },
      spec: { holderIdentity: 'apiserver-wj467rbl25eeviqacfhvg2yvnm_9a0b', renewTime: '2026-11-24T08:00:05.000000Z' },
    },
  ],
};

async function listen(s: Server | TcpServer, host: string): Promise<number> {
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  return (s.address() as { port: number }).port;
}

beforeAll(async () => {
  ca = await createCa('kubernetes-ca');
  ip = await freeLoopbackAddress();
  const serving = await issueServingCert(ca, { ips: [ip], dnsNames: ['kubernetes', 'kubernetes.default'] });
  server = createServer({ key: serving.key, cert: serving.cert }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    if (url.pathname === '/readyz') {
      res.writeHead(readyStatus, { 'content-type': 'text/plain' });
      res.end(readyStatus === 200 ? 'ok' : '[-]etcd failed: reason withheld\nreadyz check failed');
      return;
    }
    if (url.pathname === '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases') {
      seenQueries.push(url.searchParams.get('labelSelector') ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(LEASES));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  base = `https://${ip}:${await listen(server, ip)}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

describe('probeReadyz', () => {
  test('200 is ready', async () => {
    readyStatus = 200;
    expect(await probeReadyz(base, ca.cert, 2000)).toEqual({ ready: true, status: 200, body: 'ok' });
  });

  test('500 is not ready, with the body for the health table', async () => {
    readyStatus = 500;
    expect(await probeReadyz(`${base}/readyz`, ca.cert, 2000)).toEqual({
      ready: false,
      status: 500,
      body: '[-]etcd failed: reason withheld\nreadyz check failed',
    });
    readyStatus = 200;
  });

  test('a server certificate from another CA is refused', async () => {
    const other = await createCa('other-ca');
    const result = await probeReadyz(base, other.cert, 2000);
    expect(result.ready).toBe(false);
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/^UNABLE_TO_VERIFY_LEAF_SIGNATURE: /);
  });

  test('dialled by an address the certificate does not name: refused, unless told the name to check', async () => {
    // 127.0.0.1 is not in this certificate; the server listens on `ip` only, so use a second server.
    const serving = await issueServingCert(ca, { ips: ['10.99.0.1'], dnsNames: ['kubernetes'] });
    const other = createServer({ key: serving.key, cert: serving.cert }, (_req, res) => res.end('ok'));
    const otherIp = await freeLoopbackAddress();
    const url = `https://${otherIp}:${await listen(other, otherIp)}`;
    try {
      const refused = await probeReadyz(url, ca.cert, 2000);
      expect(refused.ready).toBe(false);
      expect(refused.error).toMatch(/^ERR_TLS_CERT_ALTNAME_INVALID: /);
      expect(await probeReadyz(url, ca.cert, 2000, { serverName: 'kubernetes' })).toEqual({ ready: true, status: 200, body: 'ok' });
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  test('nothing listening: an error, at once', async () => {
    const started = Date.now();
    const result = await probeReadyz(`https://${ip}:1`, ca.cert, 2000);
    expect(result.ready).toBe(false);
    expect(result.error).toBe(`connect ECONNREFUSED ${ip}:1`);
    expect(Date.now() - started).toBeLessThan(1900); // well before the 2000 ms timeout
  });

  test('a server that never answers: not ready once the timeout passes', async () => {
    const sockets: Socket[] = [];
    const hole = createTcpServer((s) => sockets.push(s));
    const url = `https://${ip}:${await listen(hole, ip)}`;
    try {
      const started = Date.now();
      const result = await probeReadyz(url, ca.cert, 700);
      const ms = Date.now() - started;
      expect(result).toEqual({ ready: false, error: `no answer from ${url}/readyz within 700 ms` });
      expect(ms).toBeGreaterThanOrEqual(690);
      expect(ms).toBeLessThan(3000); // returned at its timeout rather than hanging
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => hole.close(resolve));
    }
  });
});

describe('listIdentityLeases', () => {
  test('lists the kube-apiserver identity leases of kube-system with the identity label selector', async () => {
    const leases = await listIdentityLeases(base, ca.cert);
    expect(leases).toEqual([
      {
        name: 'apiserver-mpzb65c4laynqu6rnedjohxo3e',
        holderIdentity: 'apiserver-mpzb65c4laynqu6rnedjohxo3e_3f1c',
        renewTime: '2026-11-24T08:00:00.123Z',
      },
      {
        name: 'apiserver-wj467rbl25eeviqacfhvg2yvnm',
        holderIdentity: 'apiserver-wj467rbl25eeviqacfhvg2yvnm_9a0b',
        renewTime: '2026-11-24T08:00:05.000Z',
      },
    ]);
    expect(seenQueries.at(-1)).toBe('apiserver.kubernetes.io/identity=kube-apiserver');
  });

  test('a server certificate from another CA fails with a sentence that names the URL', async () => {
    const other = await createCa('other-ca');
    await expect(listIdentityLeases(base, other.cert)).rejects.toThrow(`listing apiserver identity leases at ${base} failed: `);
  });
});
