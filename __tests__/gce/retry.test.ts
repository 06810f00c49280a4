// The back-off policy on its own: which failures are retried, how often, how long it waits.

import { describe, expect, it } from '@jest/globals';
import { GceError, type GceErrorKind } from '../../src/gce/errors.ts';
import { backoffDelay, withRetry, type RetryPolicy } from '../../src/gce/retry.ts';

const policy: RetryPolicy = { attempts: 4, initialDelayMs: 100, maxDelayMs: 300, multiplier: 2 };

function gceError(kind: GceErrorKind, httpStatus?: number): GceError {
  return new GceError(`failed: ${kind}`, { kind, httpStatus, resource: 'r', detail: kind });
}

function recorder() {
  const sleeps: number[] = [];
  const logs: string[] = [];
  return {
    sleeps,
    logs,
    hooks: { sleep: async (ms: number) => void sleeps.push(ms), random: () => 1 - Number.EPSILON, log: (l: string) => void logs.push(l) },
  };
}

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, jittered within the upper half', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 0))).toEqual([50, 100, 150, 150]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 0.999999))).toEqual([100, 200, 300, 300]);
  });
});

describe('withRetry', () => {
  it.each([
    ['rateLimited', 429],
    ['unavailable', 503],
  ] as const)('retries %s until it succeeds, with the attempt number', async (kind, status) => {
    const r = recorder();
    const attempts: number[] = [];
    const result = await withRetry('get x', policy, r.hooks, async (n) => {
      attempts.push(n);
      if (n < 3) throw gceError(kind, status);
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
    expect(r.sleeps).toEqual([100, 200]);
    expect(r.logs).toEqual([`get x: ${kind} (${status}), retry 1/3 in 100 ms`, `get x: ${kind} (${status}), retry 2/3 in 200 ms`]);
  });

  it('gives up after the last attempt with the last error', async () => {
    const r = recorder();
    let calls = 0;
    const last = gceError('unavailable', 503);
    await expect(
      withRetry('get x', policy, r.hooks, async () => {
        calls++;
        throw calls === 4 ? last : gceError('unavailable', 503);
      }),
    ).rejects.toBe(last);
    expect(calls).toBe(4);
    expect(r.sleeps).toEqual([100, 200, 300]);
  });

  it.each(['notFound', 'alreadyExists', 'conditionNotMet', 'resourceInUse', 'quota', 'invalid', 'permissionDenied', 'other'] as const)(
    'never retries %s',
    async (kind) => {
      const r = recorder();
      let calls = 0;
      await expect(
        withRetry('get x', policy, r.hooks, async () => {
          calls++;
          throw gceError(kind);
        }),
      ).rejects.toMatchObject({ kind });
      expect(calls).toBe(1);
      expect(r.sleeps).toEqual([]);
    },
  );

  it('never retries errors that are not GceErrors', async () => {
    const r = recorder();
    let calls = 0;
    await expect(
      withRetry('x', policy, r.hooks, async () => {
        calls++;
        throw new TypeError('bug');
      }),
    ).rejects.toThrow('bug');
    expect(calls).toBe(1);
  });
});
