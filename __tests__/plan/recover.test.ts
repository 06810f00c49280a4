// recover's plan (src/plan/recover.ts): nothing with a quorum; otherwise the survivor is the answering
// member with the highest applied index, the others go, then the survivor is forced, then replicas
// come back to the recorded count and the record goes; a dry run projects the whole way.
import { describe, expect, it } from '@jest/globals';
import { plan } from '../../src/plan/ladder.ts';
import { projectPlan } from '../../src/plan/project.ts';
import { cluster, deadEtcd, intent, leader, replica, stopped, M } from '../support/cluster-builder.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const recover = intent({ operation: 'recover', requestId: 'rec1' });
const answering = (index: number) => (r: { member?: { appliedIndex?: number; dbSize?: number } }) => {
  r.member!.appliedIndex = index;
  r.member!.dbSize = 1 << 20;
};

describe('recover', () => {
  it('does nothing while etcd has its quorum', () => {
    const s = cluster(
      { lb: 'full' },
      replica('', B, leader(), answering(10)),
      replica('a1f', C, answering(10)),
      replica('0c1', D, answering(10)),
    );
    expect(plan(recover, s)).toMatchObject({ type: 'done', reason: expect.stringContaining('nothing to recover') });
  });

  it('rebuilds from the answering member with the highest applied index, the others going first', () => {
    // What a member list read without quorum shows: every member, the lost one without a status.
    const seen = cluster({ lb: 'full' }, replica('', B, answering(90)), replica('a1f', C, answering(120)), replica('0c1', D, deadEtcd()));
    seen.etcd.members.find((m) => m.name === 'etcd-kubernetes-master-0c1')!.dbSize = undefined;
    const s = { ...seen, etcd: { reachable: false, members: seen.etcd.members, error: 'no quorum' } };
    const first = plan(recover, s);
    expect(first).toMatchObject({ type: 'step', step: { kind: 'writeRecovery', record: { survivor: `${M}-a1f`, count: 3, phase: 'p' } } });
    const projected = projectPlan(recover, s);
    expect(projected.end.type).toBe('done');
    const kinds = projected.steps.map((x) => x.step.kind);
    expect(kinds.slice(0, 4)).toEqual(['writeRecovery', 'deleteReplica', 'deleteReplica', 'forceNewCluster']);
    expect(projected.steps.find((x) => x.step.kind === 'forceNewCluster')!.step).toMatchObject({ replica: `${M}-a1f`, nonce: 'rec1' });
    expect(kinds.filter((k) => k === 'createReplica')).toHaveLength(2);
    expect(kinds.at(-1)).toBe('writeRecovery');
    expect(projected.state.replicas).toHaveLength(3);
  });

  it('refuses when no member answers, and when the recorded survivor is gone', () => {
    const none = cluster({ lb: 'full', reachable: false }, replica('', B, deadEtcd()), replica('a1f', C, deadEtcd()));
    expect(plan(recover, none)).toMatchObject({
      type: 'refuse',
      problem: expect.stringContaining('no etcd member of kubernetes-master answers'),
    });
    const gone = cluster({ lb: 'full', reachable: false, journal: { 'ha-masters-recovery': 'a1f_3_p' } }, replica('', B, deadEtcd()));
    expect(plan(recover, gone)).toMatchObject({ type: 'refuse', problem: expect.stringContaining('whose VM is gone now') });
  });
});

describe('recover with restore-from (no member survives)', () => {
  const source = { bucket: 'backups', object: 'etcd/snap.db', generation: '1700000000000001', md5Hash: 'abc=', size: 4096 };
  const restore = intent({ operation: 'recover', requestId: 'rec2', restore: source });

  it('restores onto the running master: the others go, its certificate is there, then restoreSnapshot with the read version', () => {
    const s = cluster(
      { lb: 'full', reachable: false },
      replica('', B, deadEtcd()),
      replica('a1f', C, deadEtcd()),
      replica('0c1', D, deadEtcd()),
    );
    expect(plan(restore, s)).toMatchObject({
      type: 'step',
      step: { kind: 'writeRecovery', record: { survivor: M, count: 3, phase: 's' } },
    });
    const projected = projectPlan(restore, s);
    expect(projected.end.type).toBe('done');
    const kinds = projected.steps.map((x) => x.step.kind);
    expect(kinds.slice(0, 4)).toEqual(['writeRecovery', 'deleteReplica', 'deleteReplica', 'restoreSnapshot']);
    expect(projected.steps[3]!.step).toMatchObject({ replica: M, nonce: 'rec2', source });
    expect(kinds.filter((k) => k === 'createReplica')).toHaveLength(2);
    expect(kinds.at(-1)).toBe('writeRecovery');
    expect(projected.state.replicas).toHaveLength(3);
  });

  it('every VM gone: the forwarding rule goes, a new master is made, gets its certificate, then restores; replicas sets the count', () => {
    const s = cluster({ lb: 'full', reachable: false });
    expect(s.replicas).toEqual([]);
    const five = { ...restore, replicas: 5 };
    expect(plan(five, s)).toMatchObject({ type: 'step', step: { kind: 'writeRecovery', record: { survivor: M, count: 5, phase: 's' } } });
    const projected = projectPlan(five, s);
    const kinds = projected.steps.map((x) => x.step.kind);
    expect(kinds.slice(0, 5)).toEqual(['writeRecovery', 'deleteForwardingRule', 'createReplica', 'setMemberCerts', 'restoreSnapshot']);
    expect(projected.steps[2]!.step).toMatchObject({ replica: M, first: true });
    expect(projected.state.replicas).toHaveLength(5);
  });

  it('a stopped master is made anew; the first running replica is the target when the master is not running', () => {
    const masterStopped = cluster({ lb: 'full', reachable: false }, replica('', B, stopped()), replica('a1f', C, deadEtcd()));
    expect(plan(restore, masterStopped)).toMatchObject({ step: { kind: 'writeRecovery', record: { survivor: `${M}-a1f`, phase: 's' } } });
    const recorded = cluster({ lb: 'full', reachable: false, journal: { 'ha-masters-recovery': 'm_3_s' } }, replica('', B, stopped()));
    expect(plan(restore, recorded)).toMatchObject({
      step: { kind: 'deleteReplica', replica: M },
      reason: expect.stringContaining('made anew'),
    });
  });

  it('refuses, changing nothing, while a member still answers (its data is newer), and with a restore under way but no restore-from', () => {
    const seen = cluster({ lb: 'full' }, replica('', B, answering(90)), replica('a1f', C, deadEtcd()), replica('0c1', D, deadEtcd()));
    const s = { ...seen, etcd: { reachable: false, members: seen.etcd.members, error: 'no quorum' } };
    expect(plan(restore, s)).toMatchObject({
      type: 'refuse',
      nothingChanged: true,
      problem: expect.stringContaining('newer than a snapshot'),
      fix: expect.stringContaining('without restore-from'),
    });
    const underway = cluster({ lb: 'full', reachable: false, journal: { 'ha-masters-recovery': 'm_3_s' } }, replica('', B, deadEtcd()));
    expect(plan(recover, underway)).toMatchObject({ type: 'refuse', problem: expect.stringContaining('names no snapshot') });
  });

  it('with quorum, restore-from is not used and the run says why', () => {
    const s = cluster(
      { lb: 'full' },
      replica('', B, leader(), answering(10)),
      replica('a1f', C, answering(10)),
      replica('0c1', D, answering(10)),
    );
    expect(plan(restore, s)).toMatchObject({ type: 'done', reason: expect.stringContaining('was not restored') });
  });
});
