// What every per-kind adapter file needs: the project, the REST transport, the retry and wait
// settings.

import type { RetryHooks, RetryPolicy } from './retry.ts';
import type { Rest } from './transport.ts';

export interface GceContext {
  project: string;
  /** Authenticated JSON calls under `compute/v1/`. */
  rest: Rest;
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
  log?: (line: string) => void;
}
