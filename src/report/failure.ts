// How a run that did not reach its goal ended, in the report's terms. The failure is part of the
// run's report (summary first line, outputs), not only the step's error line.
import { InputError, RefusedError, errorMessage } from '../errors.ts';
import { LockBusyError } from '../engine/lock.ts';
import { RunTimedOutError } from '../engine/run.ts';
import type { RunFailure } from '../model.ts';

export function failureOf(err: unknown): RunFailure {
  const message = errorMessage(err);
  const kind = (e: unknown): RunFailure['kind'] | undefined =>
    e instanceof RefusedError || e instanceof InputError
      ? 'refused'
      : e instanceof LockBusyError
        ? 'lockBusy'
        : e instanceof RunTimedOutError
          ? 'timedOut'
          : undefined;
  // The engine wraps what it did not expect in an error that says what the run had done: look inside.
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const k = kind(e);
    if (k) return { kind: k, message };
  }
  return { kind: 'failed', message };
}
