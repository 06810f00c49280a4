// Which binaries new masters get: pinned versions by default, other pinned versions on request, a
// manifest of the user's own instead; every wrong combination refused with its fix, before any I/O.
import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../src/errors.ts';
import { parseInputs } from '../../src/inputs.ts';
import { DEFAULT_ETCD_VERSION, DEFAULT_KUBERNETES_VERSION, PINNED_ETCD, PINNED_KUBERNETES } from '../../src/release/pinned.ts';
import { replicaMetadata } from '../../src/engine/replica-metadata.ts';
import { newClusterSecrets } from '../../src/engine/secrets.ts';
import { fromMetadata } from '../../src/release/manifest.ts';
import { decodeFlatYaml } from '../../src/engine/kube-yaml.ts';
import { clusterNames } from '../../src/model.ts';
import { readFileSync } from 'node:fs';

const base = { project: 'my-project', operation: 'up', 'gce-zone': 'europe-west1-b' };
const parse = (extra: Record<string, string>) => parseInputs((n) => (({ ...base, ...extra }) as Record<string, string>)[n] ?? '', {});
const problems = (extra: Record<string, string>) => {
  try {
    parse(extra);
  } catch (e) {
    return (e as InputError).problems;
  }
  throw new Error('expected an InputError');
};

describe('release inputs', () => {
  it('defaults to the pinned default versions', () => {
    const { release } = parse({});
    expect(release.kind).toBe('pinned');
    if (release.kind !== 'pinned') return;
    expect(release.manifest.kubernetesVersion).toBe(DEFAULT_KUBERNETES_VERSION);
    expect(release.manifest.etcdVersion).toBe(DEFAULT_ETCD_VERSION);
    expect(release.manifest.artifacts['kubernetes-server']).toEqual(PINNED_KUBERNETES[DEFAULT_KUBERNETES_VERSION]);
    // Unnamed: a new master of an existing cluster gets what the cluster runs (plan/release.ts).
    expect(release.named).toBe(false);
  });

  it('takes any pinned pair of versions', () => {
    const older = Object.keys(PINNED_KUBERNETES).find((v) => v !== DEFAULT_KUBERNETES_VERSION)!;
    const olderEtcd = Object.keys(PINNED_ETCD).find((v) => v !== DEFAULT_ETCD_VERSION)!;
    const { release } = parse({ 'kubernetes-version': older, 'etcd-version': olderEtcd });
    expect(release.kind === 'pinned' && [release.manifest.kubernetesVersion, release.manifest.etcdVersion]).toEqual([older, olderEtcd]);
    expect(release.named).toBe(true);
    // One version alone names the release too; the other is the pinned default.
    const alone = parse({ 'kubernetes-version': older }).release;
    expect(alone.kind === 'pinned' && [alone.named, alone.manifest.etcdVersion]).toEqual([true, DEFAULT_ETCD_VERSION]);
  });

  it('refuses a version it does not pin, naming the ones it does and the way out', () => {
    const [p] = problems({ 'kubernetes-version': 'v1.20.0' });
    expect(p!.input).toBe('kubernetes-version');
    expect(p!.problem).toContain('"v1.20.0"');
    for (const v of Object.keys(PINNED_KUBERNETES)) expect(p!.fix).toContain(v);
    expect(p!.fix).toContain('release-manifest');
  });

  it('takes a manifest reference as it is (loaded later) and refuses versions beside it', () => {
    expect(parse({ 'release-manifest': 'https://mirror.example/ha/manifest.json' }).release).toEqual({
      kind: 'manifest',
      ref: 'https://mirror.example/ha/manifest.json',
      named: true,
    });
    expect(problems({ 'release-manifest': './m.json', 'etcd-version': DEFAULT_ETCD_VERSION }).map((p) => p.input)).toEqual([
      'etcd-version',
    ]);
  });

  it('defaults the image to Debian 12, which the start-up script is written for', () => {
    expect(parse({}).intent.image).toBe('projects/debian-cloud/global/images/family/debian-12');
  });
});

describe("a master VM's metadata", () => {
  it('carries the start-up script, guest attributes, the release, the seeds, the certificates and the versions of the keys, and no private key', async () => {
    const names = clusterNames('kubernetes');
    const secrets = await newClusterSecrets(names.master, '203.0.113.7');
    const release = (() => {
      const r = parse({}).release;
      if (r.kind !== 'pinned') throw new Error('pinned expected');
      return r.manifest;
    })();
    const md = replicaMetadata({
      names,
      vm: 'kubernetes-master-a1f',
      first: false,
      seeds: ['kubernetes-master'],
      seedEndpoints: ['https://10.132.0.2:2379'],
      staticIp: '203.0.113.7',
      settings: { multizone: true, quorumRead: false },
      secrets,
      zone: 'europe-west1-c',
      release,
      refs: {
        clusterKeys: 'projects/1/secrets/kubernetes-master-cluster-keys/versions/1',
        etcdCaKey: 'projects/1/secrets/kubernetes-master-etcd-ca-key/versions/1',
      },
    });
    expect(md['startup-script']).toBe(readFileSync('vm/startup.sh', 'utf8'));
    expect(md['enable-guest-attributes']).toBe('TRUE');
    expect(fromMetadata(md['ha-masters-release']!)).toEqual(release);
    const env = decodeFlatYaml(md['kube-env']!);
    expect(env.ETCD_SEED_ENDPOINTS).toBe('https://10.132.0.2:2379');
    expect(env.INITIAL_ETCD_CLUSTER_STATE).toBe('existing');
    expect(env.SERVICE_CLUSTER_IP_RANGE).toBe('10.0.0.0/16');
    const certs = decodeFlatYaml(md['kube-master-certs']!);
    for (const key of ['CA_CERT', 'MASTER_CERT', 'ETCD_APISERVER_CLIENT_CERT', 'KUBE_CONTROLLER_MANAGER_CERT', 'KUBE_SCHEDULER_CERT'])
      expect(certs[key]).toBeTruthy();
    expect(certs.KEYS_SECRET).toBe('projects/1/secrets/kubernetes-master-cluster-keys/versions/1');
    expect(certs.ETCD_CA_KEY_SECRET).toBe('projects/1/secrets/kubernetes-master-etcd-ca-key/versions/1');
    expect(env.ETCD_CA_CERT).toBeTruthy();
    // No private key in any metadata value, in PEM or in base64 of PEM.
    for (const value of Object.values(md)) {
      const decoded = decodeFlatYaml(value);
      for (const v of [value, ...Object.values(decoded).map((x) => Buffer.from(x, 'base64').toString())])
        expect(v).not.toMatch(/PRIVATE KEY/);
    }
    const cm = Buffer.from(certs.KUBE_CONTROLLER_MANAGER_CERT!, 'base64').toString();
    expect(cm).toContain('BEGIN CERTIFICATE');
  });
});
