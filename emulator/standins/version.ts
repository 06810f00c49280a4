// The version the stand-ins report (`--version`, GET /version, log lines, User-Agent). They stand in
// for the v1.34 release line; the patch level matches the example release manifest in
// docs/vm-contract.md.
export interface KubeVersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

export const STANDIN_GIT_VERSION = 'v1.34.2';

const version: KubeVersionInfo = {
  major: '1',
  minor: '34',
  gitVersion: STANDIN_GIT_VERSION,
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-11-11T00:00:00Z',
  goVersion: 'go1.24.9',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function kubeVersion(): KubeVersionInfo {
  return { ...version };
}

/** `--version=vX.Y.Z` makes the real binaries report another version (and keep running). */
export function overrideReportedVersion(gitVersion: string): void {
  const m = /^v(\d+)\.(\d+)/.exec(gitVersion);
  version.gitVersion = gitVersion;
  if (m) {
    version.major = m[1]!;
    version.minor = m[2]!;
  }
}
