// One change to a cluster at a time. A run that is about to write takes a lease on the cluster: a
// label on its static address, `ha-masters-lock: <request>_<expires, epoch seconds>`, set with the
// address's label fingerprint so that two runs cannot both take it. The lease is renewed before
// each step and dropped at the end; a run that died leaves it to expire, and a re-run of the same
// request (same request id) takes it over at once. Runs that only read never touch it.
import { GceError, isNotFound } from '../gce/errors.ts';
import type { ClusterState } from '../model.ts';
import type { EngineDeps } from './deps.ts';

export const LOCK_LABEL = 'ha-masters-lock';
/** How long a lease lasts without renewal: longer than the longest wait for a replica (10 min). */
export const LOCK_TTL_MS = 20 * 60_000;
/** A held lease is renewed before a step once it is older than this. */
const RENEW_AFTER_MS = 60_000;

export interface LockHolder {
  request: string;
  expiresAt: number;
}

export function decodeLock(value: string | undefined): LockHolder | undefined {
  const m = /^([a-z0-9-]+)_(\d+)$/.exec(value ?? '');
  return m ? { request: m[1]!, expiresAt: Number(m[2]) * 1000 } : undefined;
}

export function encodeLock(holder: LockHolder): string {
  return `${holder.request}_${Math.floor(holder.expiresAt / 1000)}`;
}

export class LockBusyError extends Error {
  readonly holder: LockHolder;
  constructor(master: string, holder: LockHolder, waitedMs: number) {
    super(
      `another run (request ${holder.request}) is changing ${master} and holds its lock until ${new Date(holder.expiresAt).toISOString()}; waited ${Math.round(waitedMs / 1000)} s. ` +
        `To fix: re-run when it is finished (serialise runs with the workflow's concurrency: key), or, if that run died, wait for the lock to expire or re-run it with its request-id. Nothing was changed by this run.`,
    );
    this.name = 'LockBusyError';
    this.holder = holder;
  }
}

export class ClusterLock {
  private held = false;
  private readonly deps: EngineDeps;
  private readonly request: string;
  constructor(deps: EngineDeps, request: string) {
    this.deps = deps;
    this.request = request;
  }

  /**
   * Takes or renews the lease before a step. Returns true when it was just taken: the caller must
   * observe again, since another run may have changed the cluster before. No address yet: nothing
   * to lock (the cluster is being made, and its first write is idempotent).
   */
  async ensure(state: ClusterState, waitMs: number): Promise<boolean> {
    if (!state.address || !state.region) return false;
    const { compute } = this.deps;
    const region = state.region;
    const started = Date.now();
    for (;;) {
      const address = await compute.getAddress(region, state.names.address);
      if (!address) return false;
      const now = this.deps.now().getTime();
      const current = decodeLock(address.labels[LOCK_LABEL]);
      const ours = current?.request === this.request;
      if (current && !ours && current.expiresAt > now) {
        if (Date.now() - started >= waitMs) throw new LockBusyError(state.names.master, current, Date.now() - started);
        this.deps.log(`waiting for run ${current.request}, which holds the lock on ${state.names.master} until ${new Date(current.expiresAt).toISOString()}`);
        await new Promise((r) => setTimeout(r, Math.min(5000, Math.max(100, waitMs / 10))));
        continue;
      }
      if (ours && this.held && current!.expiresAt - now > LOCK_TTL_MS - RENEW_AFTER_MS) return false;
      const labels = { ...address.labels, [LOCK_LABEL]: encodeLock({ request: this.request, expiresAt: now + LOCK_TTL_MS }) };
      try {
        await compute.setAddressLabels(region, address.name, labels, address.labelFingerprint);
        const taken = !this.held;
        this.held = true;
        return taken;
      } catch (e) {
        if (e instanceof GceError && e.kind === 'conditionNotMet') continue; // someone else wrote: look again
        throw e;
      }
    }
  }

  /** Drops the lease if this run holds it; never throws (the lease expires anyway). */
  async release(state: ClusterState | undefined): Promise<void> {
    if (!this.held || !state?.region) return;
    const { compute } = this.deps;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const address = await compute.getAddress(state.region, state.names.address);
        if (!address || decodeLock(address.labels[LOCK_LABEL])?.request !== this.request) break;
        const labels = { ...address.labels };
        delete labels[LOCK_LABEL];
        await compute.setAddressLabels(state.region, address.name, labels, address.labelFingerprint);
        break;
      } catch (e) {
        if (isNotFound(e)) break;
        if (e instanceof GceError && e.kind === 'conditionNotMet') continue;
        this.deps.log(`could not release the lock (it expires by itself): ${(e as Error).message}`);
        break;
      }
    }
    this.held = false;
  }
}
