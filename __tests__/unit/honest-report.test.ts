// A run that did not reach its goal, or a cluster that is not healthy, says so in the first line of
// its job summary, with what the run changed and what a re-run would do; the `healthy` and
// `plan-json` outputs; etcd member IDs in hex as etcdctl prints them; counted nouns.
import { describe, expect, it } from '@jest/globals';
import { clusterNames, memberIdHex, type ClusterState, type EtcdMember, type Replica, type RunReport, type Step } from '../../src/model.ts';
import { RefusedError, InputError } from '../../src/errors.ts';
import { LockBusyError } from '../../src/engine/lock.ts';
import { RunAbandonedError, RunTimedOutError } from '../../src/engine/run.ts';
import { failureOf } from '../../src/report/failure.ts';
import { clusterHealth } from '../../src/report/health.ts';
import { outputsFor } from '../../src/report/outputs.ts';
import { renderFailureSummary, renderSummary } from '../../src/report/summary.ts';
import { count } from '../../src/words.ts';
import { member, replica } from '../support/report-fixtures.ts';

const names = clusterNames('kubernetes');
const B = 'europe-west1-b',
  C = 'europe-west1-c';

/** Three replicas; `sick` decides what is wrong with the third. */
function cluster(sick: Partial<EtcdMember> = {}, sickVm: Partial<Replica> = {}): ClusterState {
  const M = names.master;
  return {
    project: 'p',
    names,
    region: 'europe-west1',
    observedAt: '2026-12-03T08:00:00Z',
    zones: [
      { name: B, region: 'europe-west1', status: 'UP' },
      { name: C, region: 'europe-west1', status: 'UP' },
    ],
    replicas: [replica(M, B, '10.0.0.1'), replica(`${M}-a1f`, B, '10.0.0.2'), replica(`${M}-0c1`, C, '10.0.0.3', sickVm)],
    etcd: {
      reachable: true,
      members: [
        member(M, '12370169555311111083', '10.0.0.1', { isLeader: true }),
        member(`${M}-a1f`, '2', '10.0.0.2'),
        member(`${M}-0c1`, '3', '10.0.0.3', sick),
      ],
    },
    address: { name: names.address, ip: '34.1.2.3', status: 'IN_USE', labels: {}, labelFingerprint: 'x' },
    journal: [],
  } as unknown as ClusterState;
}

const firstLine = (md: string) => md.split('\n')[0];
const createStep: Step = { kind: 'createReplica', replica: 'kubernetes-master-0c1', zone: C, first: false, seeds: ['kubernetes-master'] };
const waitStep: Step = { kind: 'waitReady', replica: 'kubernetes-master-0c1', zone: C };
const base = (state: ClusterState, extra: Partial<RunReport>): RunReport => ({
  operation: 'up',
  changed: false,
  steps: [],
  warnings: [],
  state,
  ...extra,
});

describe('the summary says how the run ended in its first line', () => {
  it('a refused run: refused, nothing was changed, and a re-run refuses again', () => {
    const err = new RefusedError(
      'removing kubernetes-master leaves 2 voting members with 1 healthy; quorum needs 2',
      'replace the unhealthy replica first',
      true,
    );
    const md = renderSummary(base(cluster(), { operation: 'down', failure: failureOf(err) }));
    expect(firstLine(md)).toBe(
      '## ha-masters: down `kubernetes-master` in project `p`: REFUSED, nothing was changed; a re-run refuses again until the cause below is fixed',
    );
    expect(md).toContain(
      '**Refused**: removing kubernetes-master leaves 2 voting members with 1 healthy; quorum needs 2. Nothing was changed. Fix: replace the unhealthy replica first',
    );
    expect(md).not.toContain('No changes');
    expect(md).toContain('Nothing: it stopped before its first step.');
  });

  it('a failed run after writes: failed, what it changed, and that a re-run continues', () => {
    const err = new Error(
      'insert failed: HTTP 500. Earlier steps of this run changed the cluster (see the job summary). Re-run with the same inputs to continue: every step is safe to repeat.',
    );
    const md = renderSummary(
      base(cluster(), {
        changed: true,
        steps: [
          { step: createStep, reason: 'r', ms: 10 },
          { step: waitStep, reason: 'w', ms: 5 },
        ],
        failure: failureOf(err),
      }),
    );
    expect(firstLine(md)).toBe(
      '## ha-masters: up `kubernetes-master` in project `p`: FAILED, after changing the cluster (1 write); a re-run with the same inputs continues from there',
    );
    expect(md).toContain('**Failed**: insert failed: HTTP 500.');
  });

  it("a run out of time, and a run kept out by another run's lock", () => {
    const abandoned = failureOf(new RunAbandonedError('step 2 (create VM x)', 40, 30_000));
    expect(abandoned.kind).toBe('timedOut');
    // The engine wraps the cooperative timeout in an error that says what the run had done.
    const wrapped = failureOf(
      new Error('run timed out after 31 s. No earlier step of this run changed the cluster.', {
        cause: new RunTimedOutError('run timed out after 31 s'),
      }),
    );
    expect(wrapped.kind).toBe('timedOut');
    expect(firstLine(renderSummary(base(cluster(), { failure: wrapped })))).toMatch(
      /: TIMED OUT, nothing was changed; a re-run with the same inputs continues from there$/,
    );
    const busy = failureOf(
      new LockBusyError(
        'kubernetes-master',
        { request: 'other', expiresAt: Date.parse('2026-12-03T09:00:00Z') },
        300_000,
        'the lock wait limit (300 s)',
      ),
    );
    expect(firstLine(renderSummary(base(cluster(), { failure: busy })))).toMatch(
      /: NOT STARTED: another run holds the cluster's lock; nothing was changed; re-run once that run is done$/,
    );
  });

  it('a run refused before it saw the cluster (its inputs) still gets a summary that says so', () => {
    const err = new InputError([{ input: 'replicas', problem: '2 is even.', fix: 'use 1 or 3.' }]);
    const md = renderFailureSummary('up', failureOf(err));
    expect(firstLine(md)).toBe('## ha-masters: up: REFUSED, nothing was changed; a re-run refuses again until the cause below is fixed');
    expect(md).toContain('**Refused**: the inputs have 1 problem; nothing was changed.');
  });

  it('a status of an unhealthy cluster: UNHEALTHY, naming each replica and why, and healthy=false', () => {
    const sick = cluster({ healthy: false });
    const md = renderSummary(base(sick, { operation: 'status' }));
    expect(firstLine(md)).toBe(
      '## ha-masters: status `kubernetes-master` in project `p`: UNHEALTHY: kubernetes-master-0c1: its etcd member does not answer',
    );
    expect(md).toContain('### Unhealthy\n\n- kubernetes-master-0c1: its etcd member does not answer');
    expect(outputsFor(base(sick, { operation: 'status' })).healthy).toBe('false');

    const stopped = cluster({}, { status: 'TERMINATED' });
    expect(clusterHealth(stopped).problems).toEqual(['kubernetes-master-0c1: its VM is TERMINATED']);
  });

  it('a status of a healthy cluster says healthy, with the count; no cluster says so', () => {
    const md = renderSummary(base(cluster(), { operation: 'status' }));
    expect(firstLine(md)).toBe('## ha-masters: status `kubernetes-master` in project `p`: healthy (3 replicas)');
    expect(outputsFor(base(cluster(), { operation: 'status' })).healthy).toBe('true');
    const none = { ...cluster(), replicas: [], etcd: { reachable: false, members: [] } } as ClusterState;
    expect(firstLine(renderSummary(base(none, { operation: 'status' })))).toMatch(/: no cluster exists$/);
    expect(outputsFor(base(none, { operation: 'status' })).healthy).toBe('');
  });

  it('an etcd member with no VM makes the cluster unhealthy, named by its hex ID', () => {
    const s = cluster();
    s.etcd.members.push(member('gone', '255', '10.0.0.9'));
    expect(clusterHealth(s).problems).toEqual(['etcd member etcd-gone (ff) has no VM']);
  });
});

describe('etcd member IDs are hex, as etcdctl prints them', () => {
  it('converts the 64-bit decimal IDs the client library gives', () => {
    expect(memberIdHex('12370169555311111083')).toBe('abababababababab');
    expect(memberIdHex('255')).toBe('ff');
    const views = JSON.parse(outputsFor(base(cluster(), {}))['replicas-json']!) as { memberId: string }[];
    expect(views[0]!.memberId).toBe('abababababababab');
    expect(renderSummary(base(cluster(), {}))).toContain('| `etcd-kubernetes-master` | `abababababababab` |');
  });
});

describe('plan-json and counted nouns', () => {
  it('a dry run writes its plan as JSON', () => {
    const report = base(cluster(), {
      plan: { steps: [{ step: createStep, reason: 'replicas: 4 wanted, 3 exist' }], outcome: 'replicas: 4 as asked', refused: false },
    });
    const plan = JSON.parse(outputsFor(report)['plan-json']!);
    expect(plan).toEqual({
      operation: 'up',
      master: 'kubernetes-master',
      outcome: 'replicas: 4 as asked',
      refused: false,
      steps: [
        {
          kind: 'createReplica',
          description: expect.stringContaining('create VM kubernetes-master-0c1 in europe-west1-c'),
          reason: 'replicas: 4 wanted, 3 exist',
          step: createStep,
        },
      ],
    });
    expect(firstLine(renderSummary(report))).toMatch(/: dry run, nothing was changed; a run would take 1 step$/);
    expect(outputsFor(base(cluster(), {}))['plan-json']).toBe('');
  });

  it('counts', () => {
    expect([count(0, 'replica'), count(1, 'replica'), count(2, 'replica'), count(1, 'write')]).toEqual([
      '0 replicas',
      '1 replica',
      '2 replicas',
      '1 write',
    ]);
  });
});
