// What every per-kind adapter file needs: the project, the clients, the retry and wait settings, and
// an authenticated raw-REST function for the one API the client library does not cover.

import type { ComputeClients } from './clients.ts';
import type { RetryHooks, RetryPolicy } from './retry.ts';

export interface RestRequest {
  /** Path under `compute/v1/`, e.g. `projects/p/global/httpHealthChecks`. */
  path: string;
  method: 'GET' | 'POST' | 'DELETE';
  params?: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
}

export interface GceContext {
  project: string;
  clients: ComputeClients;
  /** Base every link is rewritten onto (see links.ts). */
  linkBase: string;
  policy: RetryPolicy;
  hooks: RetryHooks;
  /** Client-side timeout of one HTTP call. */
  callTimeoutMs: number;
  /** Overall deadline for one operation to reach DONE. */
  operationTimeoutMs: number;
  /** Pause between operation polls when a `wait` call returns early with RUNNING. */
  pollIntervalMs: number;
  /** `maxResults` of list calls; undefined = the server's default (GCE: 500). */
  pageSize?: number;
  newRequestId: () => string;
  now: () => number;
  rest: (req: RestRequest) => Promise<unknown>;
  log?: (line: string) => void;
}

/** Per-call options for the client library: no retries of its own (ours see every failure), our timeout. */
export function callOptions(ctx: GceContext, timeoutMs = ctx.callTimeoutMs): { retry: null; timeout: number } {
  return { retry: null, timeout: timeoutMs };
}
