// The rung that keeps a cluster's ownership labels current: the pull request and repository of the
// run, and the expiry `ttl` after the run's start. Runs that change the cluster (up, replace, repair) move the
// expiry; `status` and `down` do not (a look is not a use, and a teardown needs no expiry). The
// expiry moves only when it is off by more than a tolerance, so that a second run with the same
// inputs right after the first still writes nothing.
import type { ClusterState, Intent, PlanResult } from '../model.ts';
import { EXPIRES_LABEL, expiryOf, ownerLabels } from '../labels.ts';

/** How far the expiry may be off `ttl` after the run's start before a run moves it: a tenth of ttl, from 1 s to 5 minutes. */
export function expiryTolerance(ttlMs: number): number {
  return Math.max(1000, Math.min(5 * 60_000, Math.floor(ttlMs / 10)));
}

const MOVING_OPERATIONS = new Set<Intent['operation']>(['up', 'replace', 'repair', 'rollout']);

export function ownerLabelsRung(intent: Intent, state: ClusterState): PlanResult | undefined {
  if (!MOVING_OPERATIONS.has(intent.operation) || !state.address) return undefined;
  // Fixed when the run starts (intent.expiresAt): every pass of one run wants the same expiry.
  const expiresAt = intent.ttlMs !== undefined ? intent.expiresAt : undefined;
  const wanted = ownerLabels(intent.owner, expiresAt);
  const have = state.address.labels;
  const stale = Object.entries(wanted).filter(([key, value]) => {
    if (key !== EXPIRES_LABEL) return have[key] !== value;
    const current = expiryOf(have);
    return current === undefined || Math.abs(Number(value) * 1000 - current) > expiryTolerance(intent.ttlMs!);
  });
  if (stale.length === 0) return undefined;
  const why = stale.map(([key, value]) =>
    key === EXPIRES_LABEL ? `expiry to ${new Date(Number(value) * 1000).toISOString()} (ttl from this run)` : `${key}: ${value}`,
  );
  return { type: 'step', step: { kind: 'labelCluster', labels: wanted }, reason: `set ${why.join(', ')} on ${state.names.master}` };
}
