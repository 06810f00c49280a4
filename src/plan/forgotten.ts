// A request the journal can no longer vouch for. The journal keeps the last finished requests only;
// a request whose sequence (its workflow run id) is at or below the journal's floor, and of which
// nothing is left (no journal entry, no VM it made), may have been carried out and forgotten since.
// Running it again could add a replica twice: it is refused, before any write.
import type { ClusterState, Intent, PlanResult } from '../model.ts';
import { entriesOfRequest, journalFloor } from './journal.ts';

export function forgottenRequest(intent: Intent, state: ClusterState): PlanResult | undefined {
  const seq = intent.requestSeq;
  const floor = state.address ? journalFloor(state.address.labels) : undefined;
  if (seq === undefined || floor === undefined || seq > floor) return undefined;
  const id = intent.requestId;
  if (entriesOfRequest(state.journal, id).length > 0) return undefined;
  if (state.replicas.some((r) => r.request === id || r.request?.startsWith(`${id}-`))) return undefined;
  if (state.lock?.request === id) return undefined;
  return {
    type: 'refuse',
    problem: `request ${id} comes from workflow run ${seq}, and the journal of ${state.names.master} no longer holds requests of runs up to ${floor} (it keeps the last finished ones only): this request may already have been carried out, and running it again could repeat it`,
    fix: 'if the change is still wanted, start a new workflow run (a re-run keeps the old run id): a new run is a new request',
    nothingChanged: true,
  };
}
