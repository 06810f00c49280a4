// Another run at work. While another request holds the cluster's lock, what looks half-done (a VM
// PROVISIONING or STAGING, a learner, a member without a ready apiserver) is most likely that run's
// change in flight: its business, not a fault. So a refusal that comes from the cluster's state is
// not given then, nor is a VM being created waited for; the run waits for the lock instead, and
// decides again once the other run is done.
import type { ClusterState, Intent, PlanResult } from '../model.ts';

/** The request that holds an unexpired lock on the cluster, when it is not this request. */
export function otherLockHolder(intent: Intent, state: ClusterState): string | undefined {
  const lock = state.lock;
  if (!lock || lock.request === intent.requestId) return undefined;
  return Date.parse(lock.expiresAt) > Date.parse(state.observedAt) ? lock.request : undefined;
}

/**
 * `decision`, or a wait for the lock when another run holds it and the decision is a refusal or a
 * wait for a VM being created (most likely that run's own).
 */
export function waitInsteadOfRefusing(intent: Intent, state: ClusterState, decision: PlanResult): PlanResult {
  const seen =
    decision.type === 'refuse'
      ? decision.problem
      : decision.type === 'step' && decision.step.kind === 'waitRunning'
        ? decision.reason
        : undefined;
  if (seen === undefined) return decision;
  const holder = otherLockHolder(intent, state);
  if (!holder) return decision;
  return {
    type: 'step',
    step: { kind: 'waitForLock', holder },
    reason: `run ${holder} holds the lock on ${state.names.master} until ${state.lock!.expiresAt} and may be in the middle of a change (what this run sees: ${seen}); wait for it, then decide again`,
  };
}
