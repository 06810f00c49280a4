// Issue 13: the ownership labels (pull request, repository, expiry `ttl` from the last run) as a
// planner rung: written when missing or stale, left alone when current, never by status or down.
import { plan } from '../../src/plan/ladder.ts';
import { projectPlan } from '../../src/plan/project.ts';
import { expiryTolerance } from '../../src/plan/owner-labels.ts';
import { EXPIRES_LABEL, PR_LABEL, REPO_LABEL, expiryOf, ownerLabels, sanitizedRepository } from '../../src/labels.ts';
import type { ClusterState } from '../../src/model.ts';
import { M, cluster, intent, leader, replica, staticIp } from '../support/cluster-builder.ts';

const B = 'europe-west1-b';
const DAY = 24 * 3_600_000;

function healthy(labels: Record<string, string> = {}): ClusterState {
  const s = cluster({}, replica('', B, leader(), staticIp()));
  return { ...s, address: { ...s.address!, labels: { ...s.address!.labels, ...labels } } };
}
const now = (s: ClusterState) => Date.parse(s.observedAt);
const seconds = (ms: number) => String(Math.floor(ms / 1000));
/** What inputs.ts makes of `ttl` in a run that starts when `s` was observed. */
const ttl = (ttlMs: number, s: ClusterState) => ({ ttlMs, expiresAt: Math.floor((now(s) + ttlMs) / 1000) * 1000 });

describe('ownership labels', () => {
  test('a repository becomes a label value: lowercase, [a-z0-9_-], at most 63 characters', () => {
    expect(sanitizedRepository('Acme/Infra.Repo')).toBe('acme-infra-repo');
    expect(sanitizedRepository(`o/${'x'.repeat(100)}`)).toHaveLength(63);
  });

  test('a pull request run with a ttl labels a cluster that lacks them, with the expiry ttl after now', () => {
    const s = healthy();
    const r = plan(intent({ owner: { pr: 42, repository: 'acme/infra' }, ...ttl(DAY, s) }), s);
    expect(r).toMatchObject({
      type: 'step',
      step: { kind: 'labelCluster', labels: { [PR_LABEL]: '42', [REPO_LABEL]: 'acme-infra', [EXPIRES_LABEL]: seconds(now(s) + DAY) } },
    });
  });

  test('current labels: nothing to do; an expiry within the tolerance counts as current', () => {
    const s = healthy({ ...ownerLabels({ pr: 42, repository: 'acme/infra' }, now(healthy()) + DAY - expiryTolerance(DAY) + 1000) });
    expect(plan(intent({ owner: { pr: 42, repository: 'acme/infra' }, ...ttl(DAY, s) }), s).type).toBe('done');
  });

  test('every up, replace and repair moves an expiry that lags; a shorter ttl moves it down', () => {
    const old = healthy({ [EXPIRES_LABEL]: seconds(now(healthy()) - 3_600_000) });
    for (const operation of ['up', 'replace', 'repair'] as const) {
      const r = plan(intent({ operation, ...ttl(DAY, old) }), old);
      expect(r).toMatchObject({ type: 'step', step: { kind: 'labelCluster', labels: { [EXPIRES_LABEL]: seconds(now(old) + DAY) } } });
    }
    const later = healthy({ [EXPIRES_LABEL]: seconds(now(healthy()) + 7 * DAY) });
    expect(plan(intent({ ...ttl(DAY, later) }), later)).toMatchObject({ step: { kind: 'labelCluster' } });
  });

  test('status and down never move it; a run without ttl leaves an expiry as it is', () => {
    const old = healthy({ [EXPIRES_LABEL]: '1' });
    expect(plan(intent({ operation: 'status', ...ttl(DAY, old) }), old).type).toBe('done');
    const down = plan(intent({ operation: 'down', deleteNodes: false, zone: B, ...ttl(DAY, old) }), old);
    expect(down.type === 'step' && down.step.kind).not.toBe('labelCluster');
    expect(plan(intent({}), old).type).toBe('done');
    expect(expiryOf(old.address!.labels)).toBe(1000);
  });

  test('a 1 s ttl: once labelled, later passes of the same run are done (the expiry is fixed when the run starts)', () => {
    const s = healthy();
    const i = intent(ttl(1000, s));
    const r = plan(i, s);
    if (r.type !== 'step' || r.step.kind !== 'labelCluster') throw new Error(`expected a label step, got ${JSON.stringify(r)}`);
    const labelled = healthy(r.step.labels);
    expect(plan(i, { ...labelled, observedAt: new Date(now(s) + 5000).toISOString() }).type).toBe('done');
  });

  test('a dry run of a new cluster with a ttl shows no label step: the address is made with the labels', () => {
    const empty = cluster({ address: false, firewalls: false, healthCheck: false });
    const projected = projectPlan(intent({ zone: B, owner: { pr: 42, repository: 'acme/infra' }, ...ttl(DAY, empty) }), empty);
    expect(projected.end.type).toBe('done');
    expect(projected.steps.map((s) => s.step.kind)).not.toContain('labelCluster');
    expect(projected.state.address!.labels).toMatchObject({ [PR_LABEL]: '42', [EXPIRES_LABEL]: seconds(now(empty) + DAY) });
  });

  test('the tolerance is a tenth of ttl, from 1 s to 5 minutes', () => {
    expect(expiryTolerance(1000)).toBe(1000);
    expect(expiryTolerance(20_000)).toBe(2000);
    expect(expiryTolerance(DAY)).toBe(5 * 60_000);
  });
});

test(`labels carry only [a-z0-9_-] (cluster ${M})`, () => {
  for (const v of Object.values(ownerLabels({ pr: 7, repository: 'Some.Org/Re_po' }, Date.now()))) expect(v).toMatch(/^[a-z0-9_-]{1,63}$/);
});
