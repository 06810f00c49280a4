// Which binaries each replica runs, and what a change of them may be: the release a new replica
// gets when the run names none, the replicas a rollout replaces, and the version steps Kubernetes and
// etcd support. Pure: it reads the observed replicas' `ha-masters-release` metadata (Replica.release).

import type { ClusterState, Intent, Replica } from '../model.ts';
import type { ReleaseManifest } from '../release/manifest.ts';
import { liveReplicas } from './view.ts';
import { commonValue } from './common-value.ts';
import type { ClusterView, ReplicaView } from './view.ts';

/** The same binaries: the same versions and the same digests (a mirror's other URL does not count). */
export function sameRelease(a: ReleaseManifest, b: ReleaseManifest): boolean {
  return (
    a.kubernetesVersion === b.kubernetesVersion &&
    a.etcdVersion === b.etcdVersion &&
    a.artifacts['kubernetes-server'].digest === b.artifacts['kubernetes-server'].digest &&
    a.artifacts.etcd.digest === b.artifacts.etcd.digest
  );
}

/** "Kubernetes v1.35.4, etcd v3.6.14" */
export function releaseWords(r: Pick<ReleaseManifest, 'kubernetesVersion' | 'etcdVersion'>): string {
  return `Kubernetes ${r.kubernetesVersion}, etcd ${r.etcdVersion}`;
}

/**
 * What a new replica downloads. up, replace and rollout: the run's release when it names one. Else,
 * and always for repair and recover, which restore what was and change no version: what the replica
 * it succeeds ran; else what most running replicas run (the newest of them on a tie); else the
 * run's release. Undefined: the pinned defaults.
 */
export function releaseForNewReplica(
  intent: Pick<Intent, 'release' | 'operation'>,
  state: ClusterState,
  succeeds?: string,
): ReleaseManifest | undefined {
  const restoring = intent.operation === 'repair' || intent.operation === 'recover';
  if (intent.release && !restoring) return intent.release;
  const predecessor = state.replicas.find((r) => r.name === succeeds)?.release;
  return predecessor ?? commonValue(state, (r) => r.release, sameRelease) ?? intent.release;
}

/**
 * The replica a rollout replaces next: the etcd leader last (each replacement of another member
 * leaves the leader where it is; replaced first, it hands leadership to a replica that is replaced
 * later), then the oldest first.
 */
export function nextToRollOut(outdated: ReplicaView[]): ReplicaView | undefined {
  return [...outdated].sort(
    (a, b) =>
      Number(a.member?.isLeader ?? false) - Number(b.member?.isLeader ?? false) ||
      (a.vm?.creationTimestamp ?? '').localeCompare(b.vm?.creationTimestamp ?? '') ||
      a.name.localeCompare(b.name),
  )[0];
}

/** The release every live replica records, when they agree; undefined when they differ or none records one. */
export function soleRelease(view: ClusterView): ReleaseManifest | undefined {
  const releases = liveReplicas(view).map((r) => r.vm?.release);
  const first = releases[0];
  return first && releases.every((r) => r && sameRelease(r, first)) ? first : undefined;
}

/** Live replicas that do not run `target`, or whose release is unknown (made without the metadata), or that `differs` picks. */
export function outdatedReplicas(
  view: ClusterView,
  target: ReleaseManifest,
  differs: (vm: Replica) => boolean = () => false,
): ReplicaView[] {
  return liveReplicas(view).filter((r) => !r.vm?.release || !sameRelease(r.vm.release, target) || differs(r.vm));
}

interface Version {
  major: number;
  minor: number;
  patch: number;
}

function parseVersion(v: string): Version | undefined {
  const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

const minorOf = (v: Version): string => `v${v.major}.${v.minor}`;

/**
 * The last etcd 3.5 patch release a member may run before 3.6 joins: etcd's guide "Upgrade etcd from
 * v3.5 to v3.6" (etcd.io/docs/latest/upgrades/upgrade_3_6) asks for 3.5.26 or later, whose fixes
 * keep a 3.6 member from being refused.
 */
const ETCD_35_FLOOR_FOR_36 = 26;

export interface SkewProblem {
  problem: string;
  fix: string;
}

/**
 * Whether replicas running `from` may be replaced one at a time by replicas running `to`. Both
 * Kubernetes (its version skew policy: apiservers of one cluster at most one minor apart) and etcd
 * (its upgrade policy) support one minor version up at a time and no minor version down.
 */
export function releaseStepProblem(from: ReleaseManifest, to: ReleaseManifest): SkewProblem | undefined {
  for (const [what, a, b, hint] of [
    ['Kubernetes', from.kubernetesVersion, to.kubernetesVersion, 'kubernetes-version'],
    ['etcd', from.etcdVersion, to.etcdVersion, 'etcd-version'],
  ] as const) {
    const old = parseVersion(a);
    const next = parseVersion(b);
    if (!old || !next) continue;
    if (old.major !== next.major || next.minor < old.minor) {
      return {
        problem: `${what} ${b} is older than the ${a} replicas run: ${what} does not support going back a minor version`,
        fix: `set ${hint} to a ${minorOf(old)} release or newer; to go back, restore a snapshot taken before the upgrade into a new cluster`,
      };
    }
    if (next.minor > old.minor + 1) {
      const between = `v${old.major}.${old.minor + 1}`;
      return {
        problem: `${what} ${b} is more than one minor version ahead of the ${a} replicas run: ${what} upgrades one minor version at a time`,
        fix: `roll out a ${between} release first (${hint}), then ${b}`,
      };
    }
  }
  const oldEtcd = parseVersion(from.etcdVersion);
  const nextEtcd = parseVersion(to.etcdVersion);
  if (oldEtcd && nextEtcd && oldEtcd.major === 3 && oldEtcd.minor === 5 && nextEtcd.minor === 6 && oldEtcd.patch < ETCD_35_FLOOR_FOR_36) {
    return {
      problem: `etcd ${from.etcdVersion} cannot be upgraded to ${to.etcdVersion} directly: etcd asks every 3.5 member to run v3.5.${ETCD_35_FLOOR_FOR_36} or later before a 3.6 member joins`,
      fix: `roll out a 3.5 release at v3.5.${ETCD_35_FLOOR_FOR_36} or later first (etcd-version), then ${to.etcdVersion}`,
    };
  }
  return undefined;
}

/** The first unsupported step from any live replica's release to `target`. */
export function rolloutProblem(view: ClusterView, target: ReleaseManifest): SkewProblem | undefined {
  for (const r of liveReplicas(view)) {
    const from = r.vm?.release;
    const found = from && releaseStepProblem(from, target);
    if (found) return { problem: `${r.name}: ${found.problem}`, fix: found.fix };
  }
  return undefined;
}

/** A warning when the live replicas run different releases (a rollout stopped half-way, or a replica added with other inputs). */
export function mixedReleaseWarning(state: ClusterState, view: ClusterView): string | undefined {
  const groups: { release: ReleaseManifest; names: string[] }[] = [];
  for (const r of liveReplicas(view)) {
    const release = r.vm?.release;
    if (!release) continue;
    const group = groups.find((g) => sameRelease(g.release, release));
    if (group) group.names.push(r.name);
    else groups.push({ release, names: [r.name] });
  }
  if (groups.length < 2) return undefined;
  const parts = groups.map((g) => `${g.names.join(', ')} run${g.names.length === 1 ? 's' : ''} ${releaseWords(g.release)}`);
  return `the replicas of ${state.names.master} run different releases: ${parts.join('; ')}. Finish with operation: rollout and the release they should all run (kubernetes-version and etcd-version, or release-manifest).`;
}
