// Another run at work. While another request holds the cluster's lock, what looks half-done (a VM
// PROVISIONING or STAGING, a learner, a member without a ready apiserver) is most likely that run's
// change in flight: its business, not a fault. So a refusal that comes from the cluster's state is
// not given then; the run waits for the lock instead, and decides again once the other run is done.
import type { ClusterState, Intent, PlanResult } from '../model.ts';

/** The request that holds an unexpired lock on the cluster, when it is not this request. */
export function otherLockHolder(intent: Intent, state: ClusterState): string | undefined {
  const lock = state.lock;
  if (!lock || lock.request === intent.requestId) return undefined;
  return Date.parse(lock.expiresAt) > Date.parse(state.observedAt) ? lock.request : undefined;
}

/** `decision`, or a wait for the lock when it is a refusal while another run holds the lock. */
export function waitInsteadOfRefusing(intent: Intent, state: ClusterState, decision: PlanResult): PlanResult {
  if (decision.type !== 'refuse') return decision;
  const holder = otherLockHolder(intent, state);
  if (!holder) return decision;
  return {
    type: 'step',
    step: { kind: 'waitForLock', holder },
    reason: `run ${holder} holds the lock on ${state.names.master} until ${state.lock!.expiresAt} and may be in the middle of a change (what this run sees: ${decision.problem}); wait for it, then decide again`,
  };
}
