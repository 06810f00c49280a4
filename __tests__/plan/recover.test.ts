// recover's plan (src/plan/recover.ts): nothing with a quorum; otherwise the survivor is the answering
// member with the highest applied index, the others go, then the survivor is forced, then replicas
// come back to the recorded count and the record goes; a dry run projects the whole way.
import { describe, expect, it } from '@jest/globals';
import { plan } from '../../src/plan/ladder.ts';
import { projectPlan } from '../../src/plan/project.ts';
import { cluster, deadEtcd, intent, leader, replica, M } from '../support/cluster-builder.ts';

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
