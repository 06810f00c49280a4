// Which release a run's new masters get, from the inputs: pinned versions (`kubernetes-version`,
// `etcd-version`, compiled into the action) or a manifest of the user's own (`release-manifest`, a
// path or URL, for mirrors and air-gapped projects). Checked with the other inputs, before any I/O;
// a manifest reference is only loaded by resolveRelease.
import { DEFAULT_ETCD_VERSION, DEFAULT_KUBERNETES_VERSION, PINNED_ETCD, PINNED_KUBERNETES, manifestFor } from './pinned.ts';
import { loadReleaseManifest } from './load.ts';
import type { ReleaseManifest } from './manifest.ts';

/** `named`: the inputs name the release (a version input or a manifest); unnamed, the pinned defaults. */
export type ReleaseChoice = { kind: 'pinned'; manifest: ReleaseManifest; named: boolean } | { kind: 'manifest'; ref: string; named: true };

export interface ReleaseInputs {
  kubernetesVersion: string;
  etcdVersion: string;
  releaseManifest: string;
}

type AddProblem = (input: string, problem: string, fix: string) => void;

export function chooseRelease(raw: ReleaseInputs, add: AddProblem): ReleaseChoice | undefined {
  if (raw.releaseManifest) {
    for (const [input, value] of [
      ['kubernetes-version', raw.kubernetesVersion],
      ['etcd-version', raw.etcdVersion],
    ] as const) {
      if (value)
        add(
          input,
          'it cannot be combined with release-manifest, which names its own versions.',
          `remove ${input}, or remove release-manifest to use the pinned ${input}.`,
        );
    }
    return { kind: 'manifest', ref: raw.releaseManifest, named: true };
  }
  const kubernetesVersion = raw.kubernetesVersion || DEFAULT_KUBERNETES_VERSION;
  const etcdVersion = raw.etcdVersion || DEFAULT_ETCD_VERSION;
  let ok = true;
  if (!PINNED_KUBERNETES[kubernetesVersion]) {
    ok = false;
    add(
      'kubernetes-version',
      `${JSON.stringify(kubernetesVersion)} is not a release this version of ha-masters pins.`,
      `use one of ${Object.keys(PINNED_KUBERNETES).join(', ')}, or serve a manifest of your own with release-manifest.`,
    );
  }
  if (!PINNED_ETCD[etcdVersion]) {
    ok = false;
    add(
      'etcd-version',
      `${JSON.stringify(etcdVersion)} is not a release this version of ha-masters pins.`,
      `use one of ${Object.keys(PINNED_ETCD).join(', ')}, or serve a manifest of your own with release-manifest.`,
    );
  }
  const named = Boolean(raw.kubernetesVersion || raw.etcdVersion);
  return ok ? { kind: 'pinned', manifest: manifestFor(kubernetesVersion, etcdVersion), named } : undefined;
}

/** The manifest itself: pinned at once, a reference read from its file or URL. */
export async function resolveRelease(choice: ReleaseChoice): Promise<ReleaseManifest> {
  return choice.kind === 'pinned' ? choice.manifest : loadReleaseManifest(choice.ref);
}
