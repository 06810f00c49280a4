// Certificates from src/etcd/certs.ts: their contents, Node's TLS verifying them, and real etcd
// accepting them for mTLS between peers and from clients.
import { checkServerIdentity, createServer, connect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { certificateInfo, createCa, issueClientCert, issueMemberCert, issueServingCert } from '../../src/etcd/certs.ts';
import type { CertificateAuthority } from '../../src/etcd/certs.ts';
import { freeLoopbackAddress, startEtcdCluster } from '../support/etcd-cluster.ts';
import type { EtcdTestCluster } from '../support/etcd-cluster.ts';

const FIVE_YEARS_MS = 5 * 365.25 * 24 * 3600_000;

describe('certificate contents', () => {
  let ca: CertificateAuthority;
  beforeAll(async () => {
    ca = await createCa('etcd-ca');
  });

  test('the CA is a self-signed CA valid for 5 years', () => {
    const info = certificateInfo(ca.cert);
    expect(info.subject).toBe('CN=etcd-ca');
    expect(info.issuer).toBe('CN=etcd-ca');
    expect(info.isCa).toBe(true);
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBeGreaterThanOrEqual(FIVE_YEARS_MS - 2 * 24 * 3600_000);
    expect(info.notAfter.getTime() - info.notBefore.getTime()).toBeLessThanOrEqual(FIVE_YEARS_MS + 2 * 24 * 3600_000);
    expect(ca.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  test('a member certificate has the contract SANs and both usages', async () => {
    const member = await issueMemberCert(ca, { vmName: 'kubernetes-master-1a2', internalIp: '10.40.0.7' });
    const info = certificateInfo(member.cert);
    expect(info).toMatchObject({
      subject: 'CN=kubernetes-master-1a2',
      issuer: 'CN=etcd-ca',
      isCa: false,
      dnsNames: ['kubernetes-master-1a2'],
      ipAddresses: ['10.40.0.7', '127.0.0.1'],
      extendedKeyUsages: ['serverAuth', 'clientAuth'],
    });
    expect(info.notAfter.getTime() - Date.now()).toBeGreaterThan(FIVE_YEARS_MS - 2 * 24 * 3600_000);
  });

  test('a client certificate is for clients only', async () => {
    const info = certificateInfo((await issueClientCert(ca, 'client')).cert);
    expect(info).toMatchObject({ subject: 'CN=client', dnsNames: [], ipAddresses: [], extendedKeyUsages: ['clientAuth'] });
  });

  test('a serving certificate carries every IP and name', async () => {
    const serving = await issueServingCert(ca, {
      ips: ['34.1.2.3', '10.0.0.1'],
      dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes-master'],
    });
    const info = certificateInfo(serving.cert);
    expect(info).toMatchObject({
      subject: 'CN=kubernetes',
      ipAddresses: ['34.1.2.3', '10.0.0.1'],
      dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes-master'],
      extendedKeyUsages: ['serverAuth'],
    });
  });

  test('serial numbers are random', async () => {
    const a = certificateInfo((await issueClientCert(ca, 'x')).cert).serialNumber;
    const b = certificateInfo((await issueClientCert(ca, 'x')).cert).serialNumber;
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
  });

  test('an IP SAN that is no IP is refused', async () => {
    await expect(issueMemberCert(ca, { vmName: 'vm', internalIp: 'vm.internal' })).rejects.toThrow(
      'cannot issue a certificate for IP SAN "vm.internal": not an IP address',
    );
  });
});

describe("Node's TLS verifies them", () => {
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let ip: string;
  beforeAll(async () => {
    [ca, otherCa] = await Promise.all([createCa('etcd-ca'), createCa('other-ca')]);
    ip = await freeLoopbackAddress();
  });

  // A TLS server with a member cert that requires a client cert; resolves what each side saw.
  async function handshake(opts: { serverCa: CertificateAuthority; clientCa: CertificateAuthority; dialIp: string; checkIp: string }) {
    const member = await issueMemberCert(opts.serverCa, { vmName: 'kubernetes-master', internalIp: ip });
    const client = await issueClientCert(opts.clientCa, 'client');
    const server = createServer({ key: member.key, cert: member.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: false });
    const serverSaw = new Promise<{ authorized: boolean; error: string | undefined }>((resolve) =>
      server.once('secureConnection', (s: TLSSocket) => resolve({ authorized: s.authorized, error: s.authorizationError?.toString() })),
    );
    await new Promise<void>((resolve) => server.listen(0, ip, resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const clientSaw = await new Promise<{ ok: boolean; error?: string }>((resolve) => {
        const socket = connect({
          host: opts.dialIp,
          port,
          ca: ca.cert,
          cert: client.cert,
          key: client.key,
          servername: 'kubernetes-master',
          // What the etcd client does: check the member's IP, not the dialled name.
          checkServerIdentity: (_host, cert) => checkServerIdentity(opts.checkIp, cert),
        });
        socket.once('secureConnect', () => {
          resolve({ ok: true });
          socket.end();
        });
        socket.once('error', (err) => resolve({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }));
      });
      const serverResult = clientSaw.ok ? await serverSaw : undefined;
      return { clientSaw, serverResult };
    } finally {
      server.close();
    }
  }

  test('a member cert verifies for its IP and for 127.0.0.1, and the client cert is accepted', async () => {
    for (const checkIp of [ip, '127.0.0.1']) {
      const { clientSaw, serverResult } = await handshake({ serverCa: ca, clientCa: ca, dialIp: ip, checkIp });
      expect(clientSaw).toEqual({ ok: true });
      expect(serverResult).toEqual({ authorized: true, error: undefined });
    }
  });

  test('another IP is refused', async () => {
    const { clientSaw } = await handshake({ serverCa: ca, clientCa: ca, dialIp: ip, checkIp: '10.9.9.9' });
    expect(clientSaw).toEqual({ ok: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });

  test('a member cert from another CA is refused', async () => {
    const { clientSaw } = await handshake({ serverCa: otherCa, clientCa: ca, dialIp: ip, checkIp: ip });
    expect(clientSaw.ok).toBe(false);
    expect(clientSaw.error).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
});

describe('real etcd accepts them', () => {
  let cluster: EtcdTestCluster;
  beforeAll(async () => {
    cluster = await startEtcdCluster({ size: 3 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  // etcd's /health is only "true" when the member reaches a quorum of its peers over peer mTLS.
  function health(
    url: string,
    tls: { ca: string; cert?: string; key?: string },
  ): Promise<{ status?: number; body?: string; error?: string }> {
    return new Promise((resolve) => {
      const req = request(`${url}/health`, { ...tls, timeout: 5000 }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
      req.end();
    });
  }

  test('peers form a 3-member cluster over mTLS and every member serves a client with our client cert', async () => {
    for (const url of cluster.endpoints) {
      const res = await health(url, cluster.tls);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body!)).toMatchObject({ health: 'true' });
    }
  });

  test('a client cert from another CA is refused by etcd', async () => {
    const other = await createCa('other-ca');
    const stranger = await issueClientCert(other, 'client');
    const res = await health(cluster.endpoints[0]!, { ca: cluster.tls.ca, cert: stranger.cert, key: stranger.key });
    expect(res.status).toBeUndefined();
    expect(res.error).toBe('ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE');
  });

  test('no client cert is refused by etcd', async () => {
    const res = await health(cluster.endpoints[0]!, { ca: cluster.tls.ca });
    expect(res.status).toBeUndefined();
    expect(res.error).toBe('ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE');
  });
});
