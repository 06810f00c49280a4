// Bounded exponential back-off with full jitter for rate-limited (429) and unavailable (503, network,
// client-side timeout) failures. Writes are safe to repeat because each logical write carries one
// requestId for all of its attempts, so GCE performs it at most once.

import { isRetryable, type GceError } from './errors.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, initialDelayMs: 500, maxDelayMs: 16_000, multiplier: 2 };

export interface RetryHooks {
  sleep: (ms: number) => Promise<void>;
  /** 0 <= random() < 1, for jitter. */
  random: () => number;
  log?: (line: string) => void;
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The delay before retry number `retry` (1-based): uniform in [cap/2, cap], cap growing exponentially. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** (retry - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** A failure another attempt may help with (a judge returns none for the others): its words for the log. */
export interface RetryVerdict {
  why: string;
}

/**
 * Runs `attempt` until it succeeds, fails with an error `judge` calls not retryable, or runs out of
 * attempts. One loop for every API the action calls (Compute, Secret Manager, Cloud Storage).
 */
export async function retrying<T>(
  what: string,
  policy: RetryPolicy,
  hooks: RetryHooks,
  attempt: (n: number) => Promise<T>,
  judge: (e: unknown) => RetryVerdict | undefined,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      const verdict = judge(e);
      if (!verdict || n >= policy.attempts) throw e;
      const delay = backoffDelay(policy, n, hooks.random);
      hooks.log?.(`${what}: ${verdict.why}, retry ${n}/${policy.attempts - 1} in ${delay} ms`);
      await hooks.sleep(delay);
    }
  }
}

/** `retrying` for Compute calls: `attempt` must already throw GceErrors (see toGceError). */
export function withRetry<T>(what: string, policy: RetryPolicy, hooks: RetryHooks, attempt: (n: number) => Promise<T>): Promise<T> {
  return retrying(what, policy, hooks, attempt, (e) => {
    if (!isRetryable(e)) return undefined;
    const err = e as GceError;
    return { why: `${err.kind} (${err.httpStatus ?? err.reason ?? 'no status'})` };
  });
}
