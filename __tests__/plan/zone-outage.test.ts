// Findings 7 and 11 (issue 10): a zone DOWN or out of capacity. A replace never removes a replica
// before it knows where the successor can go; the successor (or an added replica) goes to another
// zone of the region; with no zone at all a replica stays unless it is dead and its leaving lowers
// etcd's quorum; a re-run or a new request finishes the job; the summary says what happened.
import { plan } from '../../src/plan/ladder.ts';
import { projectPlan } from '../../src/plan/project.ts';
import { renderSummary } from '../../src/report/summary.ts';
import type { ClusterState, Intent, Step } from '../../src/model.ts';
import { M, ZONES, cluster, intent, leader, replica, stopped } from '../support/cluster-builder.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';

function withZoneDown(s: ClusterState, zone: string): ClusterState {
  return { ...s, zones: ZONES.map((z) => (z.name === zone ? { ...z, status: 'DOWN' as const } : z)) };
}

const created = (steps: { step: Step }[]) => steps.flatMap((s) => (s.step.kind === 'createReplica' ? [s.step] : []));
const deleted = (steps: { step: Step }[]) => steps.flatMap((s) => (s.step.kind === 'deleteReplica' ? [s.step.replica] : []));
const replace = (over: Partial<Intent> = {}) => intent({ operation: 'replace', requestId: 'rep1', ...over });

/** Three replicas; the one in zone B died with its zone. */
function deadInDownZone(): ClusterState {
  return withZoneDown(cluster({ lb: 'full' }, replica('aaa', B, stopped()), replica('bbb', C, leader()), replica('ccc', D)), B);
}

describe("replace while the replica's zone is DOWN", () => {
  test('the successor goes to another zone of the region, and the job ends replaced', () => {
    const p = projectPlan(replace({ replicaName: `${M}-aaa` }), deadInDownZone());
    expect(p.end).toMatchObject({ type: 'done', reason: expect.stringMatching(/^replaced kubernetes-master-aaa -> /) });
    expect(created(p.steps)).toHaveLength(1);
    expect(created(p.steps)[0]!.zone).not.toBe(B);
    expect(deleted(p.steps)).toEqual([`${M}-aaa`]);
  });

  test('without a name (every unhealthy replica) too', () => {
    const p = projectPlan(replace(), deadInDownZone());
    expect(p.end.type).toBe('done');
    expect(created(p.steps).map((s) => s.zone)).toEqual([expect.not.stringMatching(B)]);
  });

  test('the removal is recorded with the successor owed, before anything else', () => {
    const r = plan(replace({ replicaName: `${M}-aaa` }), deadInDownZone());
    expect(r).toMatchObject({
      type: 'step',
      step: { kind: 'writeJournal', entry: { request: 'rep1-r', replica: `${M}-aaa`, phase: 'removing', successorOwed: true } },
    });
  });
});

describe('a zone out of capacity (known from a failed insert of this run)', () => {
  test('up with replicas: the replica goes to the next fewest zone, not the full one', () => {
    const s = {
      ...cluster({ lb: 'full' }, replica('aaa', B, leader()), replica('bbb', C)),
      noCapacity: { [D]: 'ZONE_RESOURCE_POOL_EXHAUSTED' },
    };
    const r = plan(intent({ replicas: 3, requestId: 'up3' }), s);
    expect(r).toMatchObject({ type: 'step', step: { kind: 'createReplica' } });
    expect(r.type === 'step' && r.step.kind === 'createReplica' && r.step.zone).not.toBe(D);
  });

  test('a healthy replica being replaced gets its successor elsewhere, and leaves only after it serves', () => {
    const s = {
      ...cluster({ lb: 'full' }, replica('aaa', B, leader()), replica('bbb', C), replica('ccc', D)),
      noCapacity: { [B]: 'ZONE_RESOURCE_POOL_EXHAUSTED' },
    };
    const p = projectPlan(replace({ replicaName: `${M}-aaa` }), s);
    expect(p.end.type).toBe('done');
    const kinds = p.steps.map((x) => x.step.kind);
    expect(kinds.indexOf('createReplica')).toBeLessThan(kinds.indexOf('deleteReplica'));
    expect(created(p.steps)[0]!.zone).not.toBe(B);
  });
});

describe('no zone can take the successor', () => {
  test('a healthy replica stays: refused before any step, saying why', () => {
    const s = withZoneDown(cluster({ lb: 'full' }, replica('aaa', B, leader()), replica('bbb', B), replica('ccc', B)), B);
    const r = plan(replace({ replicaName: `${M}-aaa`, zones: [B] }), s);
    expect(r).toMatchObject({ type: 'refuse', nothingChanged: true });
    expect(r.type === 'refuse' && r.problem).toContain('europe-west1-b is DOWN');
    expect(r.type === 'refuse' && r.problem).toContain('stays');
  });

  test('a dead replica of three stays too (its leaving would not make etcd tolerate more)', () => {
    const s = cluster({ lb: 'full' }, replica('aaa', B, stopped()), replica('bbb', C, leader()), replica('ccc', D));
    const full = { ...s, noCapacity: { [B]: 'x', [C]: 'x', [D]: 'x' } };
    const r = plan(replace({ replicaName: `${M}-aaa` }), full);
    expect(r.type).toBe('refuse');
    expect(r.type === 'refuse' && r.problem).toContain('stays');
  });

  test('a dead replica of four leaves (quorum drops from 3 to 2); the successor stays owed and a later request makes it', () => {
    const s = cluster({ lb: 'full' }, replica('aaa', B, stopped()), replica('bbb', C, leader()), replica('ccc', D), replica('ddd', D));
    const full = { ...s, noCapacity: { [B]: 'x', [C]: 'x', [D]: 'x' } };
    const first = projectPlan(replace({ replicaName: `${M}-aaa` }), full);
    expect(deleted(first.steps)).toEqual([`${M}-aaa`]);
    expect(first.end).toMatchObject({ type: 'refuse' });
    expect(first.end.type === 'refuse' && first.end.problem).toContain('has left');
    // A new run has no capacity failures in mind: a new replace request (another id, no name) makes the successor.
    const later = projectPlan(replace({ requestId: 'rep2' }), { ...first.state, noCapacity: undefined });
    expect(created(later.steps)).toMatchObject([{ request: 'rep1-a' }]);
    expect(later.end.type).toBe('done');
    expect(later.state.replicas.filter((r) => r.status === 'RUNNING')).toHaveLength(4);
  });
});

describe('a replace whose replica left while its zone was DOWN, its successor owed', () => {
  test('a re-run after the zone is back up makes the successor', () => {
    const s = cluster({ lb: 'full', journal: { 'hm-rep1-r': `done_aaa_${B}_o` } }, replica('bbb', C, leader()), replica('ccc', D));
    const p = projectPlan(replace({ replicaName: `${M}-aaa` }), s);
    expect(created(p.steps)).toHaveLength(1);
    expect(p.end.type).toBe('done');
  });
});

describe('the summary says what happened', () => {
  test('a replace that removed a replica but made none is not "replaced"', () => {
    const s = cluster({ lb: 'full' }, replica('bbb', C, leader()), replica('ccc', D));
    const text = renderSummary({
      operation: 'replace',
      changed: true,
      replicaName: `${M}-aaa`,
      warnings: [],
      state: s,
      steps: [{ step: { kind: 'deleteReplica', replica: `${M}-aaa`, zone: B }, reason: 'x', ms: 1 }],
    });
    expect(text).not.toContain('Replica replaced');
    expect(text).toContain('its successor is not made yet');
  });
});

describe('a named replica whose etcd member still answers (its apiserver is down)', () => {
  function apiserverDown(): ClusterState {
    const s = cluster({ lb: 'full' }, replica('aaa', B, leader()), replica('bbb', C), replica('ccc', D));
    s.replicas[0]!.apiserverReady = false;
    return s;
  }

  test('its successor is made first, so a zone out of capacity costs nothing', () => {
    const p = projectPlan(replace({ replicaName: `${M}-aaa` }), { ...apiserverDown(), noCapacity: { [B]: 'x' } });
    expect(p.end.type).toBe('done');
    const kinds = p.steps.map((x) => x.step.kind);
    expect(kinds.indexOf('createReplica')).toBeLessThan(kinds.indexOf('deleteReplica'));
    expect(created(p.steps)[0]!.zone).not.toBe(B);
  });

  test('with no zone at all it is not removed', () => {
    const r = plan(replace({ replicaName: `${M}-aaa` }), { ...apiserverDown(), noCapacity: { [B]: 'x', [C]: 'x', [D]: 'x' } });
    expect(r).toMatchObject({ type: 'refuse', nothingChanged: true });
    expect(r.type === 'refuse' && r.problem).toContain(`${M}-aaa stays`);
  });
});
