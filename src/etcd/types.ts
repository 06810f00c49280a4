// The action's view of etcd membership. Transports (how a runner reaches a member's client port)
// sit behind EtcdTransport: direct to the internal IPs, or through IAP (src/reach.ts picks one).
import type { EtcdView } from '../model.ts';
import type { SnapshotInfo } from './snapshot.ts';

export interface TlsMaterial {
  /** PEM text. */
  ca: string;
  cert: string;
  key: string;
}

export interface EtcdTransport {
  /**
   * The URL the runner dials to reach the member whose advertised client URL is `clientUrl`
   * (a tunnel may first have to open a local listener for it).
   */
  dialUrl(clientUrl: string): string | Promise<string>;
}

export interface EtcdAdmin {
  /**
   * Lists members through the first endpoint that answers with quorum, then asks every member
   * for its status (with a deadline). Never throws: an unreachable cluster is `reachable: false`.
   */
  observe(endpoints: string[]): Promise<EtcdView>;
  /** Adds `peerUrl` as a learner; if a member with that peer URL exists already, returns it. */
  addLearner(endpoints: string[], peerUrl: string): Promise<{ id: string }>;
  /** Promotes the learner, retrying "not in sync with leader" until `deadlineMs` passes. */
  /** `stop`: ends the wait early with its reason (e.g. the learner's VM reported a failed start-up). */
  promote(endpoints: string[], memberId: string, deadlineMs: number, stop?: AbortSignal): Promise<void>;
  /** Moves leadership to `toId`; sent to the current leader's endpoint. No-op if `toId` leads. */
  moveLeader(leaderEndpoint: string, toId: string): Promise<void>;
  /** Removes a member; a member already gone is success. `endpoints` must not include it. */
  removeMember(endpoints: string[], memberId: string): Promise<void>;
  /**
   * Streams a full snapshot from the first of `endpoints` that serves one into `path` (0600),
   * giving up at `deadline` (epoch ms; default: no deadline but each stream's own limits).
   */
  snapshot(endpoints: string[], path: string, deadline?: number): Promise<SnapshotInfo>;
  /** Compacts the keyspace at the current revision (returned), through `endpoint`. */
  compact(endpoint: string): Promise<string>;
  /** Defragments the member at `endpoint` only. */
  defragment(endpoint: string): Promise<void>;
  /** Clears `alarm` (e.g. NOSPACE) of one member. */
  disarm(endpoint: string, memberId: string, alarm: string): Promise<void>;
  close(): Promise<void>;
}
