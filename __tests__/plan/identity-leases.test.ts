// The planner deletes the apiserver identity lease of a replica whose VM is gone, at once (the
// apiservers' own collector waits an hour), and never loops or touches leases it must not.
import { plan } from '../../src/plan/ladder.ts';
import { projectPlan, projectStep } from '../../src/plan/project.ts';
import type { ApiLeasesView, ClusterState, Intent, PlanResult, Step } from '../../src/model.ts';
import { M, cluster, intent, leader, replica, staticIp } from '../support/cluster-builder.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c';

const identity = (hostname: string, extra: object = {}) => ({
  name: `apiserver-${hostname.replace(/[^a-z0-9]/g, '')}`,
  hostname,
  ...extra,
});

function withLeases(s: ClusterState, leases: ApiLeasesView): ClusterState {
  return { ...s, leases };
}

/** Plans and applies the ideal effect of each step until done or refused. */
function converge(i: Intent, start: ClusterState, max = 40): { steps: Step[]; end: PlanResult } {
  let state = start;
  const steps: Step[] = [];
  for (let k = 0; k < max; k++) {
    const r = plan(i, state);
    if (r.type !== 'step') return { steps, end: r };
    steps.push(r.step);
    state = projectStep(state, r.step);
  }
  throw new Error(`no convergence: ${steps.map((s) => s.kind).join(', ')}`);
}

const threeWithLeases = (): ClusterState =>
  withLeases(cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C), replica('bbb', 'europe-west1-d')), {
    readable: true,
    identities: [identity(M), identity(`${M}-aaa`), identity(`${M}-bbb.europe-west1-d.c.p.internal`)],
  });

test('removing a replica deletes its identity lease right after its VM, before the request is recorded done', () => {
  const { steps, end } = converge(intent({ operation: 'down', deleteNodes: false, replicaName: `${M}-bbb` }), threeWithLeases());
  const kinds = steps.map((s) => s.kind);
  expect(kinds.slice(kinds.indexOf('deleteReplica'))).toEqual(['deleteReplica', 'deleteIdentityLease', 'writeJournal']);
  expect(steps[kinds.indexOf('deleteIdentityLease')]).toEqual({
    kind: 'deleteIdentityLease',
    name: identity(`${M}-bbb.europe-west1-d.c.p.internal`).name,
    replica: `${M}-bbb`,
  });
  expect(end.type).toBe('done');
});

test('a dry run announces the lease deletion', () => {
  const projected = projectPlan(intent({ operation: 'down', deleteNodes: false, replicaName: `${M}-aaa` }), threeWithLeases());
  expect(projected.steps.map((s) => s.step.kind)).toContain('deleteIdentityLease');
  expect(projected.end.type).toBe('done');
});

test('leases that could not be read: the removal goes on without the step', () => {
  const s = withLeases(threeWithLeases(), { readable: false, error: 'no answer within 3000 ms' });
  const { steps, end } = converge(intent({ operation: 'down', deleteNodes: false, replicaName: `${M}-aaa` }), s);
  expect(steps.map((x) => x.kind)).not.toContain('deleteIdentityLease');
  expect(end.type).toBe('done');
});

test('a stale lease of a vanished replica is deleted by any run; then the run is done', () => {
  const s = withLeases(cluster({}, replica('', B, leader(), staticIp())), {
    readable: true,
    identities: [identity(M), identity(`${M}-f00`)],
  });
  const r = plan(intent({ zone: B }), s);
  expect(r).toMatchObject({ type: 'step', step: { kind: 'deleteIdentityLease', name: identity(`${M}-f00`).name, replica: `${M}-f00` } });
  expect(plan(intent({ zone: B }), projectStep(s, (r as { step: Step }).step)).type).toBe('done');
});

test('leaves leases of running replicas, of other clusters and those it failed to delete', () => {
  const s = withLeases(cluster({}, replica('', B, leader(), staticIp())), {
    readable: true,
    identities: [
      identity(M),
      identity('other-master-abc'),
      identity('kubernetes-minion-group-x1'),
      identity(''),
      identity(`${M}-f00`, { deleteFailed: 'HTTP 403 (forbidden)' }),
    ],
  });
  expect(plan(intent({ zone: B }), s).type).toBe('done');
});

test('status never deletes anything', () => {
  const s = withLeases(cluster({}, replica('', B, leader(), staticIp())), { readable: true, identities: [identity(`${M}-f00`)] });
  expect(plan(intent({ operation: 'status' }), s).type).toBe('done');
});
