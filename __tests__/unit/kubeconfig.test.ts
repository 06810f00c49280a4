// The `kubeconfig` output: a file only its owner can read, pointing at the external IP, trusting
// only the cluster CA, with a system:masters client certificate that expires after the TTL.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { X509Certificate } from 'node:crypto';
import { createCa } from '../../src/etcd/certs.ts';
import { writeAdminKubeconfig } from '../../src/kube/kubeconfig.ts';

describe('writeAdminKubeconfig', () => {
  it('writes a 0600 kubeconfig for the external IP with a short-lived system:masters certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    try {
      const apiCa = await createCa('kubernetes-master-ca');
      const before = Date.now();
      const file = await writeAdminKubeconfig({ apiCa, master: 'kubernetes-master', externalIp: '203.0.113.9', ttlMs: 30 * 60_000, dir });
      expect(file.path.startsWith(dir)).toBe(true);
      expect(statSync(file.path).mode & 0o777).toBe(0o600);
      const doc = parse(readFileSync(file.path, 'utf8'));
      const cluster = doc.clusters[0].cluster;
      expect(cluster.server).toBe('https://203.0.113.9');
      expect(Buffer.from(cluster['certificate-authority-data'], 'base64').toString()).toBe(apiCa.cert);
      expect(doc['current-context']).toBe('kubernetes-master');
      const user = doc.users[0].user;
      expect(Buffer.from(user['client-key-data'], 'base64').toString()).toBe(file.key);
      const cert = new X509Certificate(Buffer.from(user['client-certificate-data'], 'base64'));
      expect(cert.subject).toContain('CN=ha-masters-admin');
      expect(cert.subject).toContain('O=system:masters');
      expect(cert.verify(new X509Certificate(apiCa.cert).publicKey)).toBe(true);
      const validTo = Date.parse(cert.validTo);
      expect(validTo).toBeGreaterThan(before + 29 * 60_000);
      expect(validTo).toBeLessThan(before + 31 * 60_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
