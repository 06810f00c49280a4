// One change to a cluster at a time. A run that is about to write takes a lease on the cluster: a
// label on its static address, `ha-masters-lock: <request>_<expires, epoch seconds>`, set with the
// address's label fingerprint so that two runs cannot both take it. The lease is renewed before
// each step and dropped at the end of every run of that request, whether it wrote, failed or found
// nothing to do. A run that died leaves it to expire, but it is taken over at once by a re-run of
// the same request (same request id), by any run once the journal records the holder's request as
// done (it died after its last step), and by any run of the same repository once GitHub reports the
// holder's workflow run completed (label `ha-masters-lock-run: <repository id>-<run id>`, written
// with the lease). Runs that only read never touch it.
import { GceError, isNotFound } from '../gce/errors.ts';
import type { ClusterState } from '../model.ts';
import { decodeJournal, journalFor } from '../plan/journal.ts';
import type { EngineDeps } from './deps.ts';
import { decodeRunRef, encodeRunRef } from '../github/workflow-run.ts';

export const LOCK_LABEL = 'ha-masters-lock';
/** The lock holder's workflow run, when it runs in GitHub Actions. */
export const LOCK_RUN_LABEL = 'ha-masters-lock-run';
/** How often a waiting run asks GitHub again whether the holder's run has ended. */
const RUN_CHECK_EVERY_MS = 15_000;
/** How long a lease lasts without renewal: longer than the longest wait for a replica (10 min). */
export const LOCK_TTL_MS = 20 * 60_000;
/** A held lease is renewed before a step once it is older than this. */
const RENEW_AFTER_MS = 60_000;

export interface LockHolder {
  request: string;
  expiresAt: number;
}

/** The request may itself hold `_`: the expiry is what follows the last one. */
export function decodeLock(value: string | undefined): LockHolder | undefined {
  const m = /^([a-z0-9_-]+)_(\d+)$/.exec(value ?? '');
  return m ? { request: m[1]!, expiresAt: Number(m[2]) * 1000 } : undefined;
}

export function encodeLock(holder: LockHolder): string {
  return `${holder.request}_${Math.floor(holder.expiresAt / 1000)}`;
}

/** How long a run may wait for another run's lock, and what ends the wait (for messages). */
export interface LockWait {
  /** Epoch ms. */
  until: number;
  limit: string;
}

export class LockBusyError extends Error {
  readonly holder: LockHolder;
  constructor(master: string, holder: LockHolder, waitedMs: number, limit: string) {
    super(
      `another run (request ${holder.request}) is changing ${master} and holds its lock until ${new Date(holder.expiresAt).toISOString()}; waited ${Math.round(waitedMs / 1000)} s, as long as ${limit} allows. ` +
        `To fix: re-run when it is finished (serialise runs with the workflow's concurrency: key), or, if that run died, re-run it with its request-id (that frees the lock) or wait until the lock expires. Nothing was changed by this run.`,
    );
    this.name = 'LockBusyError';
    this.holder = holder;
  }
}

export class ClusterLock {
  private held = false;
  private lastRunCheck: { ref: string; at: number; ended: string | undefined } | undefined;
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
  async ensure(state: ClusterState, wait: LockWait): Promise<boolean> {
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
      const finished = current && !ours && journalFor(decodeJournal(state.names, address.labels), current.request)?.phase === 'done';
      const live = current && !ours && current.expiresAt > now && !finished;
      const holderRunEnded = live ? await this.holderRunEnded(address.labels[LOCK_RUN_LABEL]) : undefined;
      if (live && !holderRunEnded) {
        const left = wait.until - Date.now();
        if (left <= 0) throw new LockBusyError(state.names.master, current, Date.now() - started, wait.limit);
        this.deps.log(
          `waiting for run ${current.request}, which holds the lock on ${state.names.master} until ${new Date(current.expiresAt).toISOString()} (this run waits at most ${Math.ceil(left / 1000)} s more, ${wait.limit})`,
        );
        await new Promise((r) => setTimeout(r, Math.min(5000, left)));
        continue;
      }
      if (finished && current.expiresAt > now) {
        this.deps.log(
          `taking over the lock on ${state.names.master} from request ${current.request}: the journal records that request as done, so its run has no step left (it died before releasing the lock, or is releasing it now)`,
        );
      }
      if (holderRunEnded) {
        this.deps.log(
          `taking over the lock on ${state.names.master} from request ${current!.request}: ${holderRunEnded}, so it can write no more`,
        );
      }
      if (ours && this.held && current!.expiresAt - now > LOCK_TTL_MS - RENEW_AFTER_MS) return false;
      const labels: Record<string, string> = {
        ...address.labels,
        [LOCK_LABEL]: encodeLock({ request: this.request, expiresAt: now + LOCK_TTL_MS }),
      };
      // The former holder's run label goes with its lease.
      delete labels[LOCK_RUN_LABEL];
      const mine = this.deps.workflowRun?.mine;
      if (mine) labels[LOCK_RUN_LABEL] = encodeRunRef(mine);
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

  /** How the holder's workflow run ended, when GitHub says it has (asked at most every 15 s). */
  private async holderRunEnded(label: string | undefined): Promise<string | undefined> {
    const ref = decodeRunRef(label);
    const ended = this.deps.workflowRun?.ended;
    if (!ref || !ended) return undefined;
    const last = this.lastRunCheck;
    if (last && last.ref === label && Date.now() - last.at < RUN_CHECK_EVERY_MS) return last.ended;
    const result = await ended(ref);
    this.lastRunCheck = { ref: label!, at: Date.now(), ended: result };
    return result;
  }

  /**
   * Drops the lease if it names this run's request, whether this run took it or a run of the same
   * request that died left it (a re-run with nothing left to do must free it too). Never throws
   * (the lease expires anyway).
   */
  async release(state: ClusterState | undefined): Promise<void> {
    if (!state?.region || (!this.held && !state.address)) return;
    const { compute } = this.deps;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const address = await compute.getAddress(state.region, state.names.address);
        if (!address || decodeLock(address.labels[LOCK_LABEL])?.request !== this.request) break;
        const labels = { ...address.labels };
        delete labels[LOCK_LABEL];
        delete labels[LOCK_RUN_LABEL];
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
