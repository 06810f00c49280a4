// The two shapes of every adapter method. A read is retried on rate limits and unavailability and
// its failures normalised; `readOptional` maps notFound to undefined. A write draws one requestId,
// retries the call with that same id (GCE de-duplicates it), then waits for the operation.

import { isNotFound, toGceError, type GceCall } from './errors.ts';
import type { GceContext } from './context.ts';
import { operationOf, waitForOperation, type Operation } from './operations.ts';
import { withRetry } from './retry.ts';

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

/** `fn` gets the requestId to send; it resolves to what the client's write method resolved to. */
export async function write(ctx: GceContext, call: GceCall, fn: (requestId: string) => Promise<unknown>): Promise<void> {
  const requestId = ctx.newRequestId();
  ctx.log?.(`${describe(call)} (requestId ${requestId})`);
  const op: Operation = await withRetry(describe(call), ctx.policy, ctx.hooks, async () => {
    try {
      return operationOf(await fn(requestId));
    } catch (e) {
      throw toGceError(e, call);
    }
  });
  await waitForOperation(ctx, op, call);
}
