// When a wait of a step ends: its own limit, or the run's `timeout` if that comes first; `why`
// names which, for the message of a wait that ran out.

export function waitEnd(runDeadline: number, runTimeoutMs: number, limitMs: number): { at: number; why: string } {
  const own = Date.now() + limitMs;
  return runDeadline < own
    ? { at: runDeadline, why: `before the run's timeout (${Math.round(runTimeoutMs / 1000)} s)` }
    : { at: own, why: `within ${Math.round(limitMs / 1000)} s` };
}
