// Finding 3 (issue 10): a replica another run is creating is that run's business. A concurrent run
// waits for that run's lock; it never advises replacing a healthy replica that is being added.
import { plan } from '../../src/plan/ladder.ts';
import { projectPlan } from '../../src/plan/project.ts';
import type { ClusterState } from '../../src/model.ts';
import { M, cluster, intent, leader, noCerts, replica, request } from '../support/cluster-builder.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';

function lockedBy(state: ClusterState, holder: string, expiresAt = '2026-11-24T00:20:00Z'): ClusterState {
  return { ...state, lock: { request: holder, expiresAt } };
}

/** Three replicas, the third still being created by request `other` (VM STAGING, no member yet). */
function thirdBeingCreated(): ClusterState {
  const creating = replica('ccc', D, noCerts(), request('other-n3'));
  creating.replica!.status = 'STAGING';
  creating.replica!.internalIp = undefined;
  creating.replica!.apiserverReady = undefined;
  return cluster({ lb: 'full' }, replica('', B, leader()), replica('bbb', C), creating);
}

describe('a replica another run is creating', () => {
  test('a concurrent add waits for the lock of the run that creates it, and never says to replace it', () => {
    const r = plan(intent({ replicate: true, requestId: 'mine' }), lockedBy(thirdBeingCreated(), 'other'));
    expect(r.type).toBe('step');
    if (r.type !== 'step') return;
    expect(r.step).toEqual({ kind: 'waitForLock', holder: 'other' });
    expect(r.reason).toContain('run other holds the lock');
    expect(r.reason).not.toMatch(/replace/);
  });

  test('a scale waits too; a joining (RUNNING, not yet ready) replica under the lock is no reason to refuse', () => {
    const joining = replica('ccc', D, request('other-n3'));
    joining.replica!.apiserverReady = false;
    const state = lockedBy(cluster({ lb: 'full' }, replica('', B, leader()), replica('bbb', C), joining), 'other');
    const r = plan(intent({ replicas: 5, requestId: 'mine' }), state);
    expect(r.type === 'step' && r.step.kind).toBe('waitForLock');
  });

  test('the same request (a re-run of the lock holder) is not told to wait for itself', () => {
    const r = plan(intent({ replicate: true, requestId: 'other' }), lockedBy(thirdBeingCreated(), 'other'));
    expect(r.type === 'step' && r.step.kind).not.toBe('waitForLock');
  });

  test("an expired lock is nobody's: GCE still finishes the insert, so the run waits for the VM to run, never advising a replacement", () => {
    const r = plan(intent({ replicate: true, requestId: 'mine' }), lockedBy(thirdBeingCreated(), 'other', '2026-11-23T23:00:00Z'));
    expect(r).toMatchObject({ type: 'step', step: { kind: 'waitRunning', replica: `${M}-ccc`, zone: D } });
    expect(r.type === 'step' && r.reason).toContain('STAGING');
    expect(r.type === 'step' && r.reason).not.toMatch(/replace/);
  });

  test('a re-run of the request whose VM is still being created waits for it to run, then lets it join', () => {
    const s = thirdBeingCreated();
    s.replicas[2]!.request = 'mine';
    const p = projectPlan(intent({ replicate: true, requestId: 'mine' }), s);
    expect(p.steps.map((x) => x.step.kind).slice(0, 2)).toEqual(['waitRunning', 'setMemberCerts']);
    expect(p.end.type).toBe('done');
  });

  test('input refusals are not turned into waits', () => {
    const r = plan(intent({ replicate: true, requestId: 'mine', zone: 'us-central1-a' }), lockedBy(thirdBeingCreated(), 'other'));
    expect(r.type).toBe('refuse');
  });

  test('a dry run projects the wait as the other run finishing', () => {
    const p = projectPlan(intent({ replicate: true, requestId: 'mine' }), lockedBy(thirdBeingCreated(), 'other'));
    expect(p.steps[0]?.step.kind).toBe('waitForLock');
    expect(p.steps.filter((s) => s.step.kind === 'waitForLock')).toHaveLength(1);
  });
});
