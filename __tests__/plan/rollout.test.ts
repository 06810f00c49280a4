// `rollout` as the planner decides it (src/plan/release.ts and shape.ts, ladder rung 8): every replica
// that runs another release, or has another machine type than the run names, is replaced, one at a
// time, added before it leaves; unsupported version steps, other networks and unhealthy clusters are
// refused before anything is written; new replicas of other operations get the cluster's release and
// shape unless the run names them, and repair never changes them.
import { describe, expect, it } from '@jest/globals';
import type { Replica } from '../../src/model.ts';
import { plan, shapeWarnings } from '../../src/plan/ladder.ts';
import { projectPlan } from '../../src/plan/project.ts';
import { releaseForNewReplica, releaseStepProblem, sameRelease } from '../../src/plan/release.ts';
import { shapeForNewReplica } from '../../src/plan/shape.ts';
import { manifestFor } from '../../src/release/pinned.ts';
import type { ReleaseManifest } from '../../src/release/manifest.ts';
import { cluster, deadEtcd, intent, leader, replica } from '../support/cluster-builder.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const OLD = manifestFor('v1.34.7', 'v3.5.33');
const NEW = manifestFor('v1.35.4', 'v3.6.14');
const runs = (release: ReleaseManifest) => (r: { replica?: Replica }) => {
  r.replica!.release = release;
};
/** A release by name only: the same artifacts as `base`, other versions (a user's manifest). */
const versions = (base: ReleaseManifest, kubernetesVersion: string, etcdVersion: string): ReleaseManifest => ({
  ...base,
  kubernetesVersion,
  etcdVersion,
});
const rollout = (release: ReleaseManifest) => intent({ operation: 'rollout', release });
const oldCluster = () =>
  cluster({ lb: 'full' }, replica('', B, leader(), runs(OLD)), replica('a1f', C, runs(OLD)), replica('0c1', D, runs(OLD)));

describe('rollout', () => {
  it('adds the first successor in its replica zone before anything leaves, and never the leader first', () => {
    const r = plan(rollout(NEW), oldCluster());
    expect(r).toMatchObject({ type: 'step', step: { kind: 'createReplica', first: false, request: 'r1-a' } });
    const replaces = r.type === 'step' && r.step.kind === 'createReplica' ? r.step.replaces : undefined;
    expect(['kubernetes-master-a1f', 'kubernetes-master-0c1']).toContain(replaces);
    expect(r.type === 'step' && r.step.kind === 'createReplica' && r.step.zone).toBe(replaces === 'kubernetes-master-a1f' ? C : D);
  });

  it('replaces all three, one at a time, each promoted before its predecessor leaves; then nothing is left to do', () => {
    const projected = projectPlan(rollout(NEW), oldCluster(), 400);
    expect(projected.end).toMatchObject({ type: 'done' });
    expect(projected.end.type === 'done' && projected.end.reason).toMatch(/every replica runs Kubernetes v1\.35\.4, etcd v3\.6\.14$/);
    const kinds = projected.steps.map((s) => s.step.kind);
    expect(kinds.filter((k) => k === 'createReplica')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'deleteReplica')).toHaveLength(3);
    // Each round: create, promote, then remove: never two members leaving at once.
    let voters = 3;
    let lowest = voters;
    for (const s of projected.steps) {
      if (s.step.kind === 'promoteLearner') voters++;
      if (s.step.kind === 'removeMember') voters--;
      lowest = Math.min(lowest, voters);
    }
    expect(lowest).toBe(3);
    // The leader (the first master) goes last.
    const deleted = projected.steps.flatMap((s) => (s.step.kind === 'deleteReplica' ? [s.step.replica] : []));
    expect(deleted[2]).toBe('kubernetes-master');
    expect(projected.state.replicas.map((r) => r.release && sameRelease(r.release, NEW))).toEqual([true, true, true]);
    // Done means done: the next run writes nothing.
    expect(plan(rollout(NEW), projected.state)).toMatchObject({ type: 'done' });
  });

  it('with every replica on the release already: done, no write', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader(), runs(NEW)), replica('a1f', C, runs(NEW)), replica('0c1', D, runs(NEW)));
    expect(plan(rollout(NEW), s)).toEqual({ type: 'done', reason: 'every replica runs Kubernetes v1.35.4, etcd v3.6.14' });
  });

  it('replaces a replica whose release is not recorded, and one with the same versions but other binaries', () => {
    const rebuilt: ReleaseManifest = {
      ...NEW,
      artifacts: { ...NEW.artifacts, etcd: { ...NEW.artifacts.etcd, digest: 'f'.repeat(64) } },
    };
    const s = cluster({ lb: 'full' }, replica('', B, leader(), runs(NEW)), replica('a1f', C, runs(rebuilt)), replica('0c1', D));
    const projected = projectPlan(rollout(NEW), s, 400);
    expect(projected.end.type).toBe('done');
    const deleted = projected.steps.flatMap((x) => (x.step.kind === 'deleteReplica' ? [x.step.replica] : []));
    expect(deleted.sort()).toEqual(['kubernetes-master-0c1', 'kubernetes-master-a1f']);
  });

  it('refuses a step of two minor versions, or back a minor version, before any write', () => {
    const tooFar = plan(rollout(versions(NEW, 'v1.36.1', 'v3.6.14')), oldCluster());
    expect(tooFar).toMatchObject({ type: 'refuse', nothingChanged: true });
    expect(tooFar.type === 'refuse' && tooFar.problem).toMatch(
      /Kubernetes v1\.36\.1 is more than one minor version ahead of the v1\.34\.7/,
    );
    expect(tooFar.type === 'refuse' && tooFar.fix).toBe('roll out a v1.35 release first (kubernetes-version), then v1.36.1');

    const s = cluster({ lb: 'full' }, replica('', B, leader(), runs(NEW)), replica('a1f', C, runs(NEW)), replica('0c1', D, runs(NEW)));
    const back = plan(rollout(OLD), s);
    expect(back.type === 'refuse' && back.problem).toMatch(/Kubernetes v1\.34\.7 is older than the v1\.35\.4 replicas run/);
  });

  it('etcd: a 3.5 member below v3.5.26 must be updated within 3.5 before 3.6 joins; a patch step back is allowed', () => {
    expect(releaseStepProblem(versions(OLD, 'v1.34.7', 'v3.5.21'), NEW)?.fix).toBe(
      'roll out a 3.5 release at v3.5.26 or later first (etcd-version), then v3.6.14',
    );
    expect(releaseStepProblem(OLD, NEW)).toBeUndefined();
    expect(releaseStepProblem(NEW, versions(NEW, 'v1.35.3', 'v3.6.12'))).toBeUndefined();
    expect(releaseStepProblem(NEW, versions(NEW, 'v1.35.4', 'v3.5.33'))?.problem).toMatch(/etcd v3\.5\.33 is older/);
  });

  it('starts no round while a replica is unhealthy, and says to repair first', () => {
    const s = cluster(
      { lb: 'full' },
      replica('', B, leader(), runs(OLD)),
      replica('a1f', C, runs(OLD)),
      replica('0c1', D, runs(OLD), deadEtcd()),
    );
    const r = plan(rollout(NEW), s);
    expect(r).toMatchObject({
      type: 'refuse',
      nothingChanged: true,
      fix: 'repair the cluster first (operation: repair), then run the rollout again',
    });
    expect(r.type === 'refuse' && r.problem).toMatch(
      /3 replicas still to roll out .* but kubernetes-master-0c1 \(its etcd member does not answer\) is not healthy/,
    );
  });

  it('finishes a round already under way although its successor is not healthy yet', () => {
    const projected = projectPlan(rollout(NEW), oldCluster(), 3);
    // Cut after the create and its certificate: the successor is a VM without a member yet.
    const r = plan(rollout(NEW), projected.state);
    expect(r.type).toBe('step');
    expect(r.type === 'step' && ['addLearner', 'setMemberCerts', 'promoteLearner', 'waitReady']).toContain(
      r.type === 'step' && r.step.kind,
    );
  });

  it('warns when the replicas run different releases', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader(), runs(OLD)), replica('a1f', C, runs(NEW)), replica('0c1', D, runs(OLD)));
    expect(shapeWarnings(s)).toContain(
      'the replicas of kubernetes-master run different releases: kubernetes-master, kubernetes-master-0c1 run Kubernetes v1.34.7, etcd v3.5.33; kubernetes-master-a1f runs Kubernetes v1.35.4, etcd v3.6.14. Finish with operation: rollout and the release they should all run (kubernetes-version and etcd-version, or release-manifest).',
    );
    expect(shapeWarnings(oldCluster()).some((w) => w.includes('different releases'))).toBe(false);
  });
});

describe('the release of a new replica', () => {
  it('up or replace without a named release: what the cluster runs; with one: that one', () => {
    const s = oldCluster();
    expect(releaseForNewReplica({ operation: 'up' }, s)).toBe(s.replicas[0]!.release);
    expect(releaseForNewReplica({ operation: 'up', release: NEW }, s)).toBe(NEW);
    expect(releaseForNewReplica({ operation: 'replace', release: NEW }, s, 'kubernetes-master-a1f')).toBe(NEW);
  });

  it('repair and recover keep what the replaced replica ran, even with a named release', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader(), runs(NEW)), replica('a1f', C, runs(NEW)), replica('0c1', D, runs(OLD)));
    expect(releaseForNewReplica({ operation: 'repair', release: NEW }, s, 'kubernetes-master-0c1')).toBe(OLD);
    // Its VM gone: what most replicas run.
    expect(releaseForNewReplica({ operation: 'repair' }, s)).toBe(NEW);
    // No replica left (a restore): the named release, else the pinned defaults (undefined).
    const empty = cluster({ lb: 'none' });
    expect(releaseForNewReplica({ operation: 'recover', release: OLD }, empty)).toBe(OLD);
    expect(releaseForNewReplica({ operation: 'recover' }, empty)).toBeUndefined();
  });

  it('up refuses to add a replica two minor versions away from the others', () => {
    const s = oldCluster();
    const r = plan(intent({ operation: 'up', replicas: 5, release: versions(NEW, 'v1.36.0', 'v3.6.14') }), s);
    expect(r).toMatchObject({ type: 'refuse', nothingChanged: true });
    expect(r.type === 'refuse' && r.problem).toMatch(
      /cannot join with Kubernetes v1\.36\.0, etcd v3\.6\.14: kubernetes-master: Kubernetes v1\.36\.0 is more than one minor/,
    );
    // One minor ahead joins (a rolling upgrade by scale-out is allowed, and warned about once mixed).
    expect(plan(intent({ operation: 'up', replicas: 5, release: NEW }), s)).toMatchObject({
      type: 'step',
      step: { kind: 'createReplica' },
    });
  });
});

describe('the shape of a new replica, and rollouts by shape', () => {
  const shaped =
    (machineType: string, dataDiskSizeGb = 20, network = 'prod-vpc') =>
    (r: { replica?: Replica }) => {
      Object.assign(r.replica!, { machineType, dataDiskSizeGb, network, serviceAccount: 'masters@p.iam.gserviceaccount.com' });
    };
  const big = () =>
    cluster(
      { lb: 'full' },
      replica('', B, leader(), runs(OLD), shaped('n2-standard-8', 50)),
      replica('a1f', C, runs(OLD), shaped('n2-standard-8', 50)),
      replica('0c1', D, runs(OLD), shaped('n2-standard-8', 50)),
    );

  it('unnamed, a new replica copies the cluster: machine type, disk, network and account; named ones win, but never for repair', () => {
    const s = big();
    expect(shapeForNewReplica(intent({ operation: 'up' }), s)).toEqual({
      machineType: 'n2-standard-8',
      network: 'prod-vpc',
      dataDiskSizeGb: 50,
      serviceAccount: 'masters@p.iam.gserviceaccount.com',
    });
    const named = intent({ operation: 'up', machineType: 'e2-standard-4', shapeNamed: ['machineType'] });
    expect(shapeForNewReplica(named, s)).toMatchObject({ machineType: 'e2-standard-4', dataDiskSizeGb: 50 });
    const repair = intent({ operation: 'repair', machineType: 'e2-standard-4', shapeNamed: ['machineType'] });
    expect(shapeForNewReplica(repair, s, 'kubernetes-master-a1f').machineType).toBe('n2-standard-8');
    // A new cluster: the inputs (their defaults).
    expect(shapeForNewReplica(intent({ operation: 'up' }), cluster({ lb: 'none' }))).toEqual({
      machineType: 'e2-standard-2',
      network: 'default',
      dataDiskSizeGb: 20,
    });
  });

  it('a named machine type alone resizes every replica and leaves the release as it is', () => {
    const resize = intent({ operation: 'rollout', machineType: 'n2-standard-16', shapeNamed: ['machineType'] });
    const projected = projectPlan(resize, big(), 400);
    expect(projected.end).toEqual({
      type: 'done',
      reason: expect.stringMatching(/every replica runs Kubernetes v1\.34\.7, etcd v3\.5\.33 with machine type n2-standard-16$/),
    });
    expect(projected.steps.filter((x) => x.step.kind === 'createReplica')).toHaveLength(3);
    expect(projected.state.replicas.map((r) => [r.machineType, r.dataDiskSizeGb, r.release && sameRelease(r.release, OLD)])).toEqual([
      ['n2-standard-16', 50, true],
      ['n2-standard-16', 50, true],
      ['n2-standard-16', 50, true],
    ]);
  });

  it('nothing named: done at once when the replicas agree, refused when they run different releases', () => {
    expect(plan(intent({ operation: 'rollout' }), big())).toMatchObject({ type: 'done' });
    const mixed = cluster({ lb: 'full' }, replica('', B, leader(), runs(OLD)), replica('a1f', C, runs(NEW)), replica('0c1', D, runs(OLD)));
    expect(plan(intent({ operation: 'rollout' }), mixed)).toMatchObject({
      type: 'refuse',
      fix: 'set kubernetes-version and etcd-version, or release-manifest, to the release they should all run',
    });
  });

  it('warns when the replicas differ in machine type, and not when they are alike', () => {
    const s = cluster(
      { lb: 'full' },
      replica('', B, leader(), runs(OLD), shaped('n2-standard-8', 50)),
      replica('a1f', C, runs(OLD), shaped('e2-standard-4', 50)),
      replica('0c1', D, runs(OLD), shaped('n2-standard-8', 50)),
    );
    expect(shapeWarnings(s)).toContain(
      'the replicas of kubernetes-master differ in machine type (kubernetes-master, kubernetes-master-0c1: n2-standard-8; kubernetes-master-a1f: e2-standard-4). Make them alike with operation: rollout and the machine-type they should all have.',
    );
    expect(shapeWarnings(big()).filter((w) => w.includes('differ in'))).toEqual([]);
  });

  it('another network is refused, for a rollout and for a new replica beside the others', () => {
    const elsewhere = { network: 'default', shapeNamed: ['network' as const] };
    const r = plan(intent({ operation: 'rollout', ...elsewhere }), big());
    expect(r).toMatchObject({ type: 'refuse', nothingChanged: true });
    expect(r.type === 'refuse' && r.problem).toMatch(/^network default is not the network of kubernetes-master's replicas, prod-vpc/);
    const up = plan(intent({ operation: 'up', replicas: 5, ...elsewhere }), big());
    expect(up.type === 'refuse' && up.problem).toMatch(/^kubernetes-master-[0-9a-f]{3} cannot join: network default is not/);
  });
});
