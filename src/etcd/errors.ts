// What an etcd error means for the caller, from the server's exact messages (etcd 3.4,
// research/etcd-membership.md). etcd3 drops the gRPC status code, so messages are all we have;
// etcd's messages have been stable since 3.4.
export type EtcdErrorKind =
  /** Strict reconfig check refused before proposing: safe to repeat. */
  | 'unhealthyCluster'
  /** Promote refused because the learner lags: safe to repeat. */
  | 'learnerNotInSync'
  /** Promote of a member that is no learner (already promoted). */
  | 'notALearner'
  | 'memberNotFound'
  | 'peerUrlExists'
  | 'tooManyLearners'
  | 'notLeader'
  | 'noLeader'
  /** A learner refuses everything but status and serializable reads. */
  | 'learnerRefused'
  /** Our deadline passed: a write may or may not have been applied. */
  | 'deadline'
  /** Could not reach the member (refused, TLS failure, closed). */
  | 'unreachable'
  | 'other';

export function classifyEtcdError(err: unknown): EtcdErrorKind {
  const message = errorText(err);
  if (message.includes('unhealthy cluster')) return 'unhealthyCluster';
  if (message.includes('can only promote a learner member which is in sync with leader')) return 'learnerNotInSync';
  if (message.includes('can only promote a learner member')) return 'notALearner';
  if (message.includes('member not found')) return 'memberNotFound';
  if (message.includes('Peer URLs already exists') || message.includes('member ID already exist')) return 'peerUrlExists';
  if (message.includes('too many learner members')) return 'tooManyLearners';
  if (message.includes('rpc not supported for learner')) return 'learnerRefused';
  if (message.includes('not leader')) return 'notLeader';
  if (message.includes('no leader')) return 'noLeader';
  // The server gave up waiting for the proposal: like our own deadline, the outcome is unknown.
  if (message.includes('request timed out') || message.includes('leader changed')) return 'deadline';
  if (message.includes('DEADLINE_EXCEEDED') || message.includes('Deadline exceeded') || message.includes('context deadline exceeded'))
    return 'deadline';
  if (message.includes('UNAVAILABLE') || message.includes('ECONNREFUSED') || message.includes('closed')) return 'unreachable';
  return 'other';
}

/** The server's message without gRPC's "14 UNAVAILABLE: " prefix. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function shortError(err: unknown): string {
  return errorText(err)
    .replace(/^\w*Error: /, '')
    .replace(/^\d+ [A-Z_]+: /, '');
}
