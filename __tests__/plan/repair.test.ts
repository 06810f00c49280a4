// repair's guards as the planner applies them (src/plan/repair.ts, ladder rung 8): a learner within
// its grace period is finished, not replaced; past it, or once its start-up reported a failure, replaced; a replica a repair made is left
// alone for repair-retry-period; its repairs count goes up only when it failed within
// repair-min-healthy-period; the count is carried by the removal's journal entry to the successor.
import { describe, expect, it } from '@jest/globals';
import type { Replica, RepairPolicy } from '../../src/model.ts';
import { plan } from '../../src/plan/ladder.ts';
import { projectPlan } from '../../src/plan/project.ts';
import { cluster, deadEtcd, intent, leader, learner, replica, unstartedMember, vmGone } from '../support/cluster-builder.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const POLICY: RepairPolicy = {
  maxRetries: 3,
  retryPeriodMs: 0,
  minHealthyPeriodMs: 3_600_000,
  zonePolicy: 'same',
  learnerGraceMs: 600_000,
};
const repairIntent = (policy: Partial<RepairPolicy> = {}) => intent({ operation: 'repair', repair: { ...POLICY, ...policy } });
/** observedAt of cluster-builder is 2026-11-24T00:00:00Z: a VM made `minutes` before it. */
const madeAgo = (minutes: number, repairs?: number) => (r: { replica?: Replica }) => {
  r.replica!.creationTimestamp = new Date(Date.parse('2026-11-24T00:00:00Z') - minutes * 60_000).toISOString();
  if (repairs !== undefined) r.replica!.repairs = repairs;
};

describe('repair', () => {
  it('finishes a learner within its grace period, and replaces one past it', () => {
    const young = cluster(
      { lb: 'full' },
      replica('', B, leader()),
      replica('a1f', C),
      replica('0c1', D, learner(), unstartedMember(), madeAgo(5)),
    );
    expect(plan(repairIntent(), young)).toMatchObject({ type: 'step', step: { kind: 'promoteLearner', replica: 'kubernetes-master-0c1' } });

    const old = cluster(
      { lb: 'full' },
      replica('', B, leader()),
      replica('a1f', C),
      replica('0c1', D, learner(), unstartedMember(), madeAgo(30)),
    );
    expect(plan(repairIntent(), old)).toMatchObject({
      type: 'step',
      step: {
        kind: 'writeJournal',
        entry: { phase: 'removing', replica: 'kubernetes-master-0c1', zone: D, successorOwed: true, repairs: 1 },
      },
    });
  });

  it('replaces at once a joiner whose start-up script reported a failure, grace or not', () => {
    const failed = (r: { replica?: Replica }) => {
      r.replica!.startupFailure = 'failed: kubernetes-server sha512 mismatch';
    };
    const s = cluster(
      { lb: 'full' },
      replica('', B, leader()),
      replica('a1f', C),
      replica('0c1', D, learner(), unstartedMember(), madeAgo(2), failed),
    );
    const r = plan(repairIntent(), s);
    expect(r).toMatchObject({
      type: 'step',
      step: { kind: 'writeJournal', entry: { phase: 'removing', replica: 'kubernetes-master-0c1', repairs: 1 } },
    });
  });

  it('a voter that still answers (its apiserver fails) keeps its vote until its successor is made: add first', () => {
    const apiDown = (r: { replica?: Replica }) => {
      r.replica!.apiserverReady = false;
    };
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('a1f', C), replica('0c1', D, apiDown));
    expect(plan(repairIntent(), s)).toMatchObject({
      type: 'step',
      step: { kind: 'createReplica', zone: D, repairs: 1, replaces: 'kubernetes-master-0c1' },
    });
    // The whole plan: the victim's member is removed only after its successor was promoted, once.
    const projected = projectPlan(repairIntent(), s);
    expect(projected.end.type).toBe('done');
    const kinds = projected.steps.map((x) => x.step.kind);
    expect(kinds.filter((k) => k === 'createReplica')).toHaveLength(1);
    expect(kinds.indexOf('promoteLearner')).toBeLessThan(kinds.indexOf('removeMember'));
    expect(projected.state.replicas.map((r) => r.name)).not.toContain('kubernetes-master-0c1');
  });

  it('leaves a replica a repair made alone during repair-retry-period, and says so', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('a1f', C), replica('0c1', D, deadEtcd(), madeAgo(5, 1)));
    const r = plan(repairIntent({ retryPeriodMs: 15 * 60_000 }), s);
    expect(r.type).toBe('done');
    expect(r.type === 'done' && r.reason).toMatch(
      /left alone this run: kubernetes-master-0c1: its etcd member does not answer; a repair made it 5 min ago, and repair-retry-period lets the next repair start at 2026-11-24T00:10:00.000Z/,
    );
  });

  it('counts a retry only when the replacement failed within repair-min-healthy-period', () => {
    const recent = cluster({ lb: 'full' }, replica('', B, leader()), replica('a1f', C), replica('0c1', D, deadEtcd(), madeAgo(30, 2)));
    expect(plan(repairIntent(), recent)).toMatchObject({ type: 'step', step: { kind: 'writeJournal', entry: { repairs: 3 } } });
    const longAgo = cluster({ lb: 'full' }, replica('', B, leader()), replica('a1f', C), replica('0c1', D, deadEtcd(), madeAgo(120, 2)));
    expect(plan(repairIntent(), longAgo)).toMatchObject({ type: 'step', step: { kind: 'writeJournal', entry: { repairs: 1 } } });
  });

  it('gives the successor the repairs count its removal recorded', () => {
    const s = cluster({ lb: 'full', journal: { 'hm-r1-r': 'done_0c1_europe-west1-d_o_p2' } }, replica('', B, leader()), replica('a1f', C));
    expect(plan(repairIntent(), s)).toMatchObject({ type: 'step', step: { kind: 'createReplica', zone: D, request: 'r1-a', repairs: 2 } });
  });

  it('a dry run of repair projects its whole plan: reclaim the space, then confirm and replace a lost VM', () => {
    const full = (r: { member?: { alarms: string[]; healthy: boolean } }) => {
      r.member!.alarms = ['NOSPACE'];
      r.member!.healthy = false;
    };
    const sized = (r: { member?: { dbSize?: number } }) => {
      r.member!.dbSize = 1 << 20;
    };
    const s = cluster(
      { lb: 'full' },
      replica('', B, leader(), sized, full),
      replica('a1f', C, sized),
      replica('0c1', D, sized, deadEtcd(), vmGone()),
    );
    const projected = projectPlan(repairIntent(), s);
    expect(projected.end.type).toBe('done');
    const kinds = projected.steps.map((x) => x.step.kind);
    expect(kinds[0]).toBe('reclaimEtcdSpace');
    expect(kinds).toContain('pause');
    expect(kinds).toContain('removeMember');
    expect(kinds).toContain('createReplica');
  });

  it('reclaims etcd space once a run: an alarm back at once leaves the replicas alone, saying why', () => {
    const full = (r: { member?: { alarms: string[]; healthy: boolean; dbSize?: number } }) => {
      r.member!.alarms = ['NOSPACE'];
      r.member!.healthy = false;
      r.member!.dbSize = 1 << 20;
    };
    const s = cluster({ lb: 'full' }, replica('', B, leader(), full), replica('a1f', C), replica('0c1', D));
    expect(plan(repairIntent(), s)).toMatchObject({ type: 'step', step: { kind: 'reclaimEtcdSpace' } });
    const again = plan(repairIntent(), { ...s, spaceReclaimed: true });
    expect(again).toMatchObject({ type: 'done', reason: expect.stringContaining('NOSPACE alarm again after space was reclaimed') });
  });
});
