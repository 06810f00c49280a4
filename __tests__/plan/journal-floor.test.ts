// Finding 8 (issue 10): the journal keeps the last finished requests only, yet no request is ever
// executed twice. Dropped entries raise the journal's floor (the highest workflow run id dropped); a
// request at or below it that the journal no longer holds is refused before any write.
import { plan } from '../../src/plan/ladder.ts';
import { projectPlan } from '../../src/plan/project.ts';
import { FLOOR_LABEL, MAX_DONE_ENTRIES, decodeJournal, journalFloor, withJournalEntry } from '../../src/plan/journal.ts';
import type { ClusterState } from '../../src/model.ts';
import { M, cluster, intent, leader, names, replica, request } from '../support/cluster-builder.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';

function withLabels(s: ClusterState, labels: Record<string, string>): ClusterState {
  return { ...s, address: { ...s.address!, labels }, journal: decodeJournal(names, labels) };
}

describe('journal labels', () => {
  test('labels written before seq and the owed mark read as before; new ones round-trip', () => {
    const labels = { 'hm-old': `done_abc_${B}`, 'hm-new': `removing_0f1__s123_o`, 'hm-z': `done_m_${C}_s7` };
    expect(decodeJournal(names, labels)).toEqual([
      { request: 'old', replica: `${M}-abc`, phase: 'done', zone: B },
      { request: 'new', replica: `${M}-0f1`, phase: 'removing', seq: 123, successorOwed: true },
      { request: 'z', replica: M, phase: 'done', zone: C, seq: 7 },
    ]);
    const again = withJournalEntry(names, {}, { request: 'x', replica: `${M}-abc`, phase: 'done', zone: B, seq: 99, successorOwed: true });
    expect(again['hm-x']).toBe(`done_abc_${B}_s99_o`);
    expect(again['hm-x']!.length).toBeLessThanOrEqual(63);
  });

  test('dropping the oldest finished entries raises the floor to the highest run id dropped', () => {
    let labels: Record<string, string> = {};
    for (let i = 1; i <= MAX_DONE_ENTRIES + 5; i++)
      labels = withJournalEntry(names, labels, { request: `q${i}`, replica: `${M}-abc`, phase: 'done', seq: 1000 + i });
    // The newest entry plus MAX_DONE_ENTRIES before it stay; q1..q4 were dropped.
    expect(Object.keys(labels).filter((k) => k.startsWith('hm-'))).toHaveLength(MAX_DONE_ENTRIES + 1);
    expect(labels['hm-q4']).toBeUndefined();
    expect(labels[FLOOR_LABEL]).toBe('1004');
    expect(journalFloor(labels)).toBe(1004);
  });
});

describe('a request older than what the journal can vouch for', () => {
  /** An add (run 100) whose replica was removed since, then many finished requests of later runs. */
  function afterManyRequests(): ClusterState {
    let labels: Record<string, string> = { 'ha-masters-cluster': M };
    labels = withJournalEntry(names, labels, { request: 'add100', replica: `${M}-e0e`, phase: 'done', zone: D, seq: 100 });
    for (let i = 1; i <= 84; i++)
      labels = withJournalEntry(names, labels, { request: `other${i}`, replica: `${M}-abc`, phase: 'done', seq: 100 + i });
    return withLabels(cluster({ lb: 'full' }, replica('', B, leader()), replica('bbb', C), replica('ccc', D)), labels);
  }

  test('re-running an add from 84 requests earlier is refused, before any write, saying why and what to do', () => {
    const r = plan(intent({ replicate: true, requestId: 'add100', requestSeq: 100 }), afterManyRequests());
    expect(r.type).toBe('refuse');
    if (r.type !== 'refuse') return;
    expect(r.nothingChanged).toBe(true);
    expect(r.problem).toContain('may already have been carried out');
    expect(r.fix).toContain('new workflow run');
    expect(projectPlan(intent({ replicate: true, requestId: 'add100', requestSeq: 100 }), afterManyRequests()).steps).toEqual([]);
  });

  test('a new request (a later run) adds', () => {
    const r = plan(intent({ replicate: true, requestId: 'add200', requestSeq: 200 }), afterManyRequests());
    expect(r.type === 'step' && r.step.kind).toBe('createReplica');
  });

  test('an old request the cluster still shows (its VM, or a journal entry) resumes', () => {
    const s = afterManyRequests();
    const withVm = { ...s, replicas: [...s.replicas, { ...s.replicas[2]!, name: `${M}-e0e`, request: 'add100' }] };
    expect(plan(intent({ replicate: true, requestId: 'add100', requestSeq: 100 }), withVm).type).not.toBe('refuse');
    const labels = withJournalEntry(names, s.address!.labels, { request: 'add100-r', replica: `${M}-bbb`, phase: 'removing', seq: 100 });
    const r = plan(intent({ operation: 'replace', replicaName: `${M}-bbb`, requestId: 'add100', requestSeq: 100 }), withLabels(s, labels));
    expect(r.type === 'refuse' ? r.problem : '').not.toContain('may already have been carried out');
  });

  test('a run outside a workflow (no run id) is not refused; nor is status', () => {
    expect(plan(intent({ replicate: true, requestId: 'local' }), afterManyRequests()).type).toBe('step');
    expect(plan(intent({ operation: 'status', requestId: 'add100', requestSeq: 100 }), afterManyRequests()).type).toBe('done');
  });

  test("every entry the planner writes carries the request's run id", () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('bbb', C), replica('ccc', D, request('up-n4')));
    const r = plan(intent({ operation: 'down', deleteNodes: false, replicaName: `${M}-bbb`, requestId: 'dn', requestSeq: 321 }), s);
    expect(r).toMatchObject({ type: 'step', step: { kind: 'writeJournal', entry: { request: 'dn', seq: 321 } } });
  });
});

describe('which entries go first', () => {
  test("the oldest runs' entries are dropped first, so the newest run's later requests stay above the floor", () => {
    let labels: Record<string, string> = {};
    // 20 entries of run 500 written first, then 10 of the older run 400 (a late re-run of it).
    for (let i = 1; i <= 20; i++)
      labels = withJournalEntry(names, labels, { request: `new${i}`, replica: `${M}-abc`, phase: 'done', seq: 500 });
    for (let i = 1; i <= 10; i++)
      labels = withJournalEntry(names, labels, { request: `old${i}`, replica: `${M}-abc`, phase: 'done', seq: 400 });
    expect(journalFloor(labels)).toBe(400);
    expect(Object.keys(labels).filter((k) => k.startsWith('hm-new'))).toHaveLength(20);
  });
});
