// Releases compiled into the action, so a run needs no manifest of its own. Every digest is copied
// from an upstream list, cited next to it: never change one without a source for the new value.

import type { Artifact, ReleaseManifest } from './manifest.ts';

/** Upstream's linux-amd64 server archive, checked against the sha512 of the Kubernetes CHANGELOG. */
function kubernetesServer(sha512ByVersion: Record<string, string>): Readonly<Record<string, Artifact>> {
  const table = Object.entries(sha512ByVersion).map(([version, digest]): [string, Artifact] => [
    version,
    { url: `https://dl.k8s.io/${version}/kubernetes-server-linux-amd64.tar.gz`, algorithm: 'sha512', digest },
  ]);
  return Object.freeze(Object.fromEntries(table));
}

/** Upstream's linux-amd64 etcd archive from the GitHub release, checked against its sha256. */
function etcd(sha256ByVersion: Record<string, string>): Readonly<Record<string, Artifact>> {
  const table = Object.entries(sha256ByVersion).map(([version, digest]): [string, Artifact] => [
    version,
    { url: `https://github.com/etcd-io/etcd/releases/download/${version}/etcd-${version}-linux-amd64.tar.gz`, algorithm: 'sha256', digest },
  ]);
  return Object.freeze(Object.fromEntries(table));
}

// Newest first. Source of each: kubernetes/kubernetes CHANGELOG/CHANGELOG-1.<minor>.md at commit
// 008b3652959ca58af8be3fb5b6ecfe9ae7638282, "Downloads for v1.<minor>.<patch>" > "Server Binaries",
// row kubernetes-server-linux-amd64.tar.gz (sha512).
export const PINNED_KUBERNETES = kubernetesServer({
  // CHANGELOG/CHANGELOG-1.35.md, v1.35.4
  'v1.35.4':
    '7454c2d9023de3230972e965e1e2a587a291e2a1abee703bb0737057e1646b23ebac538b93dd778e93579e3c293dc1fa8d002e6848ad5ebc01598bc47358fe44',
  // CHANGELOG/CHANGELOG-1.34.md, v1.34.7
  'v1.34.7':
    'baaf8dd4ff110a384e9dfe3db54a85a04223074fd13da32a38f9883a12b93bcd26ae4d666bbc2f37724f0a6631f3d2e4ddb97caaf909906711a824afd70cec81',
});

// Newest first. Source of each: kubernetes-sigs/kubespray
// roles/kubespray_defaults/vars/main/checksums.yml at commit 46dbdd3994b32640bcd806b0097f50e8fdf1d514,
// etcd_binary_checksums.amd64 (the sha256 of etcd-<version>-linux-amd64.tar.gz, per its
// etcd_download_url), the same values other projects pin for these archives.
export const PINNED_ETCD = etcd({
  // etcd_binary_checksums.amd64."3.6.14"
  'v3.6.14': 'ffe840ff9295808e88cce2794a18a5ac87f12a5203c8314d0bf6aa119b41bac5',
  // etcd_binary_checksums.amd64."3.5.33"
  'v3.5.33': '5025b5b24d81a9616b6e284ccd439b9a3df055ef8fdcdc142af3ec8f6a3b3c95',
});

/** The newest 1.35 patch release whose digests we could read from upstream. */
export const DEFAULT_KUBERNETES_VERSION = 'v1.35.4';
/** The newest 3.6 patch release: Kubernetes 1.35 uses the etcd 3.6 line (CHANGELOG-1.35.md, v1.35.0 dependencies). */
export const DEFAULT_ETCD_VERSION = 'v3.6.14';

/** The manifest of the default versions. */
export const defaultRelease = (): ReleaseManifest => manifestFor(DEFAULT_KUBERNETES_VERSION, DEFAULT_ETCD_VERSION);

/** A manifest of pinned releases. Throws, naming the pinned versions, when either is not pinned. */
export function manifestFor(kubernetesVersion: string, etcdVersion: string): ReleaseManifest {
  const kubernetes = PINNED_KUBERNETES[kubernetesVersion];
  const etcdArtifact = PINNED_ETCD[etcdVersion];
  const problems: string[] = [];
  if (!kubernetes) problems.push(notPinned('Kubernetes', kubernetesVersion, PINNED_KUBERNETES));
  if (!etcdArtifact) problems.push(notPinned('etcd', etcdVersion, PINNED_ETCD));
  if (!kubernetes || !etcdArtifact) {
    const fix = 'Fix: pick a pinned version, or serve a release manifest of your own (input release-manifest) for any other release.';
    throw new Error([...problems, fix].join('\n'));
  }
  return { kubernetesVersion, etcdVersion, artifacts: { 'kubernetes-server': { ...kubernetes }, etcd: { ...etcdArtifact } } };
}

function notPinned(what: string, version: string, table: Readonly<Record<string, Artifact>>): string {
  return `${what} ${JSON.stringify(version)} is not pinned in this action; it pins ${Object.keys(table).join(', ')}.`;
}
