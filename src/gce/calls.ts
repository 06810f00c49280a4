// The two shapes of every adapter method. A read is retried on rate limits and unavailability and
// its failures normalised; `readOptional` maps notFound to undefined. A write draws one requestId,
// retries the call with that same id (GCE de-duplicates it), then waits for the operation.

import { isNotFound, toGceError, type GceCall } from './errors.ts';
import type { GceContext } from './context.ts';
import { waitForOperation } from './operations.ts';
import type { Operation } from './resources.ts';
import { withRetry } from './retry.ts';
import type { RestRequest } from './transport.ts';

function describe(call: GceCall): string {
  return `${call.verb} ${call.what} ${call.resource}`;
}

export async function read<T>(ctx: GceContext, call: GceCall, fn: () => Promise<T>): Promise<T> {
  return withRetry(describe(call), ctx.policy, ctx.hooks, async () => {
    try {
      return await fn();
    } catch (e) {
      throw toGceError(e, call);
    }
  });
}

export async function readOptional<T>(ctx: GceContext, call: GceCall, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read(ctx, call, fn);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** GET of one resource under `compute/v1/`; undefined when it does not exist. */
export function getOptional<T>(ctx: GceContext, call: GceCall, path: string, query?: RestRequest['query']): Promise<T | undefined> {
  return readOptional(ctx, call, () => ctx.rest<T>({ method: 'GET', path, query, timeoutMs: ctx.callTimeoutMs }));
}

/** A write: `req` without requestId and timeout, which are added here (the same id on every attempt). */
export interface WriteRequest {
  method: 'POST' | 'DELETE';
  path: string;
  query?: RestRequest['query'];
  body?: unknown;
}

export async function write(ctx: GceContext, call: GceCall, req: WriteRequest): Promise<void> {
  const requestId = ctx.newRequestId();
  ctx.log?.(`${describe(call)} (requestId ${requestId})`);
  const op = await withRetry(describe(call), ctx.policy, ctx.hooks, async () => {
    try {
      return await ctx.rest<Operation>({ ...req, query: { ...req.query, requestId }, timeoutMs: ctx.callTimeoutMs });
    } catch (e) {
      throw toGceError(e, call);
    }
  });
  await waitForOperation(ctx, op, call);
}
