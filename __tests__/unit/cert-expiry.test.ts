// The earliest expiry of the certificates in the masters' metadata, read from the certificates.
import { earliestCertExpiry } from '../../src/engine/cert-expiry.ts';
import { issueClientCert } from '../../src/etcd/certs.ts';
import { newClusterSecrets } from '../../src/engine/secrets.ts';
import { b64, encodeFlatYaml } from '../../src/engine/kube-yaml.ts';
import type { InstanceInfo } from '../../src/gce/types.ts';

const vm = (name: string, metadata: Record<string, string>): InstanceInfo => ({
  name,
  zone: 'europe-west1-b',
  status: 'RUNNING',
  accessConfigs: [],
  labels: {},
  labelFingerprint: '',
  metadata,
  metadataFingerprint: '',
  tags: [],
  creationTimestamp: '',
  selfLink: '',
});

test("the shared certificates count once; a replica's own is named with its VM; garbage is skipped", async () => {
  const s = await newClusterSecrets('kubernetes-master', '203.0.113.7');
  const soon = await issueClientCert(s.etcdCa, 'member', { validForMs: 3 * 86_400_000 });
  const shared = {
    'kube-env': encodeFlatYaml({ ETCD_CA_CERT: b64(s.etcdCa.cert) }),
    'kube-master-certs': encodeFlatYaml({
      CA_CERT: b64(s.apiCa.cert),
      MASTER_CERT: b64(s.apiServing.cert),
      BROKEN_CERT: b64('not a certificate'),
    }),
  };
  const far = earliestCertExpiry([vm('kubernetes-master', shared)]);
  expect(far?.notAfter.getTime()).toBeGreaterThan(Date.now() + 4 * 365 * 86_400_000);
  const near = earliestCertExpiry([
    vm('kubernetes-master', shared),
    vm('kubernetes-master-1ab', {
      ...shared,
      'etcd-member-certs': encodeFlatYaml({ ETCD_MEMBER_CERT: b64(soon.cert), KEYS_SECRET: 'projects/1/secrets/x/versions/1' }),
    }),
  ]);
  expect(near?.what).toBe('kubernetes-master-1ab ETCD_MEMBER_CERT');
  expect(Math.abs(near!.notAfter.getTime() - (Date.now() + 3 * 86_400_000))).toBeLessThan(5 * 60_000);
  expect(earliestCertExpiry([vm('x', {})])).toBeUndefined();
});
