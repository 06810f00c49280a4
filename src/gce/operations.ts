// Waits for a zonal, regional or global Operation to reach DONE, then turns its `error` into a
// GceError. GCE's `wait` long-polls (up to ~2 min) and may return RUNNING: calling it again is the
// documented pattern.

import { GceError, isRetryable, operationError, toGceError, type GceCall } from './errors.ts';
import type { GceContext } from './context.ts';
import { lastSegment } from './links.ts';
import type { Operation } from './resources.ts';
import { backoffDelay } from './retry.ts';

// Real GCE returns each wait within ~2 min; a little more covers a slow answer.
const MAX_WAIT_CALL_MS = 130_000;

export function isDone(op: Operation): boolean {
  return op.status === 'DONE';
}

/** `projects/p/{zones/z|regions/r|global}/operations/<name>`: the scope the operation names. */
function operationPath(ctx: GceContext, op: Operation): string {
  const scope = op.zone ? `zones/${lastSegment(op.zone)}` : op.region ? `regions/${lastSegment(op.region)}` : 'global';
  return `projects/${ctx.project}/${scope}/operations/${encodeURIComponent(op.name ?? '')}`;
}

async function waitOnce(ctx: GceContext, op: Operation, timeoutMs: number): Promise<Operation> {
  return ctx.rest<Operation>({ method: 'POST', path: `${operationPath(ctx, op)}/wait`, timeoutMs });
}

function deadlineError(ctx: GceContext, op: Operation, call: GceCall): GceError {
  const seconds = Math.round(ctx.operationTimeoutMs / 100) / 10;
  return new GceError(
    `failed to ${call.verb} ${call.what} ${call.resource}: operation ${op.name ?? '?'} still ${op.status ?? 'unknown'} ` +
      `after ${seconds} s; it may yet finish, the next run will see its result`,
    { kind: 'other', reason: 'OPERATION_DEADLINE_EXCEEDED', resource: call.resource, detail: 'operation deadline exceeded' },
  );
}

/** Resolves when `op` is DONE without error; throws a GceError naming `call` otherwise. */
export async function waitForOperation(ctx: GceContext, op: Operation, call: GceCall): Promise<void> {
  const deadline = ctx.now() + ctx.operationTimeoutMs;
  const waitCall = { verb: 'wait for', what: 'operation', resource: `${op.name ?? '?'} (${call.verb} ${call.what} ${call.resource})` };
  let current = op;
  let failures = 0;
  while (!isDone(current)) {
    const remaining = deadline - ctx.now();
    if (remaining <= 0) throw deadlineError(ctx, current, call);
    const started = ctx.now();
    try {
      // A second of grace: a wait the server ends right at the deadline should still be read.
      current = await waitOnce(ctx, current, Math.min(MAX_WAIT_CALL_MS, remaining + 1000));
      failures = 0;
    } catch (e) {
      const err = toGceError(e, waitCall);
      // Waiting is idempotent: transient failures are retried like reads, but never past the deadline.
      if (!isRetryable(err)) throw err;
      if (ctx.now() >= deadline) throw deadlineError(ctx, current, call);
      if (++failures >= ctx.policy.attempts) throw err;
      const delay = backoffDelay(ctx.policy, failures, ctx.hooks.random);
      ctx.hooks.log?.(
        `wait for operation ${current.name ?? '?'}: ${err.kind} (${err.httpStatus ?? err.reason ?? 'no status'}), retry in ${delay} ms`,
      );
      await ctx.hooks.sleep(delay);
      continue;
    }
    // An emulator (or a hiccup) may answer `wait` at once; do not spin.
    if (!isDone(current) && ctx.now() - started < ctx.pollIntervalMs) await ctx.hooks.sleep(ctx.pollIntervalMs);
  }
  const failure = operationError(current, call);
  if (failure) throw failure;
}
