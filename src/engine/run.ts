// The loop: observe -> plan -> apply one step -> observe again, until the planner says done or
// refuses. Level-triggered: nothing carries over between passes but what GCE and etcd show, so a
// run that dies anywhere is finished by the next run with the same inputs.
import { startupFailureMessage, startupStatus } from './startup-status.ts';
import { WAIT_STEPS, isTeardown } from '../model.ts';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { count } from '../words.ts';
import type { Intent, RunReport, Step } from '../model.ts';
import { plan, shapeWarnings } from '../plan/ladder.ts';
import { projectPlan } from '../plan/project.ts';
import { buildView, isHealthyReplica, unhealthyReason } from '../plan/view.ts';
import type { EtcdAdmin } from '../etcd/types.ts';
import { ZoneCapacityError, applyStep } from './apply.ts';
import type { EngineDeps } from './deps.ts';
import { observe } from './observe.ts';
import type { Observation, ObserveCache } from './observe.ts';
import { etcdClientTls } from './secrets.ts';
import type { ClusterSecrets } from './secrets.ts';
import { describeStep } from '../report/steps.ts';
import { ClusterLock, LockBusyError } from './lock.ts';
import type { LockWait } from './lock.ts';
import { REQUEST_ID_RULE, requestIdProblem } from '../request-id.ts';
import { RefusedError, errorMessage } from '../errors.ts';
import { ApiLeaseAccess } from './api-leases.ts';
import { waitEnd } from './wait-end.ts';
import type { SnapshotPruner } from './snapshot-store.ts';
import { snapshotName } from '../plan/snapshot-names.ts';

/** What a failed run did before it failed, so the job summary can still show it. */
const partialReports = new WeakMap<object, RunReport>();
export function partialReportOf(err: unknown): RunReport | undefined {
  return typeof err === 'object' && err !== null ? partialReports.get(err) : undefined;
}

export interface RunOptions {
  /** Take an etcd snapshot into this directory before the first membership change (and for operation snapshot). */
  snapshotDir?: string;
  /** Where the snapshot goes from there (Cloud Storage): its new place, once it is safely there. */
  snapshotUpload?: (path: string) => Promise<string>;
  /** After a snapshot: the cluster's older ones beyond `etcd-snapshot-keep` go (snapshot-store.ts). */
  pruneSnapshots?: SnapshotPruner;
}

/**
 * Steps that change etcd membership, and the first step of a quorum recovery (which rebuilds etcd
 * from one member): a snapshot comes first when one is asked for.
 */
const MEMBERSHIP_STEPS = new Set<Step['kind']>(['addLearner', 'promoteLearner', 'moveLeader', 'removeMember', 'writeRecovery']);

export async function runEngine(intent: Intent, given: EngineDeps, options: RunOptions = {}): Promise<RunReport> {
  // Every pass observes the same secrets again: register each with the runner once.
  const masked = new Set<string>();
  const deps: EngineDeps = {
    ...given,
    mask: (v) => {
      if (!masked.has(v)) {
        masked.add(v);
        given.mask(v);
      }
    },
  };
  const started = Date.now();
  const steps: RunReport['steps'] = [];
  let lastState: Observation['state'] | undefined;
  let snapshot: RunReport['snapshot'];
  /** A snapshot was taken, but older ones could not be pruned: worth a warning, not a failure. */
  const pruneWarnings: string[] = [];
  let admin: { key: string; client: EtcdAdmin } | undefined;
  const etcdFor = (s: ClusterSecrets): EtcdAdmin => {
    const key = s.etcdClient.cert;
    if (!admin || admin.key !== key) {
      // Keys changed under the run (another run replaced them): the old client must not linger.
      void admin?.client.close();
      admin = { key, client: deps.etcd(etcdClientTls(s)) };
    }
    return admin.client;
  };
  const changed = () => steps.some((s) => !WAIT_STEPS.has(s.step.kind));
  // Every write is labelled with the request id: one that no label can hold stops the run before any.
  const badRequestId = requestIdProblem(intent.requestId);
  if (badRequestId) throw new RefusedError(badRequestId, `use ${REQUEST_ID_RULE} as request-id, or leave it empty to derive one`, true);
  const lock = new ClusterLock(deps, intent.requestId);
  const cache: ObserveCache = {};
  const leases = new ApiLeaseAccess(deps.mask);
  let account: Promise<string> | undefined;
  const serviceAccount = (): Promise<string> =>
    (account ??= intent.serviceAccount ? Promise.resolve(intent.serviceAccount) : deps.compute.getDefaultServiceAccount());
  const runDeadline = started + deps.limits.runTimeoutMs;
  const snapshotOf = (dir: string, o: Observation, secrets: ClusterSecrets, asked = false) =>
    takeSnapshot({ ...options, snapshotDir: dir }, o, etcdFor(secrets), deps, runDeadline, pruneWarnings, asked);
  // Set while a pass is under way, for the message of a run stopped at its deadline.
  let doing = 'observing the cluster';
  let abandoned = false;
  let repeat = { key: '', times: 0 };
  const drive = async (): Promise<RunReport> => {
    for (let pass = 0; ; pass++) {
      doing = 'observing the cluster';
      const observation = await observe(intent, deps, etcdFor, cache, leases);
      lastState = observation.state;
      // A teardown deletes VMs whether or not their etcd can be reached.
      if (!isTeardown(intent)) await stopIfUnreachable(deps, !changed());
      const decision = plan(intent, observation.state);
      if (decision.type === 'done') {
        if (intent.operation === 'snapshot' && options.snapshotDir && !snapshot) {
          if (!observation.secrets) {
            throw new RefusedError(
              `no replica of ${observation.state.names.master} names the cluster's keys in its metadata, so etcd cannot be asked for a snapshot`,
              'check instance-prefix and project; `operation: status` shows the replicas the action finds',
              true,
            );
          }
          snapshot = await snapshotOf(options.snapshotDir, observation, observation.secrets, true);
        }
        deps.log(`done: ${decision.reason}`);
        return {
          operation: intent.operation,
          changed: changed(),
          replicaName: touchedReplica(steps.map((s) => s.step)),
          steps,
          warnings: [...shapeWarnings(observation.state), ...leases.warnings(), ...pruneWarnings],
          state: observation.state,
          snapshot,
        };
      }
      if (decision.type === 'refuse') {
        throw new RefusedError(decision.problem, decision.fix, decision.nothingChanged && !changed());
      }
      if (pass >= deps.limits.maxSteps)
        throw new Error(
          `gave up after ${pass} steps without reaching the goal; last planned: ${describeStep(decision.step, observation.state)}`,
        );
      if (Date.now() > runDeadline) {
        const stuck =
          repeat.times > 0 && repeat.key === stepKey(decision.step)
            ? `; ${describeStep(decision.step, observation.state)} was applied ${repeat.times + 1} times and its effect never showed (a GCE operation started earlier may still be under way)`
            : '';
        throw new RunTimedOutError(
          `run timed out after ${Math.round((Date.now() - started) / 1000)} s${stuck}; re-run with the same inputs to continue`,
        );
      }
      if (await lock.ensure(observation.state, lockWait(deps, started))) continue;
      // A restore from a snapshot file starts when no member answers: there is nothing to snapshot.
      const restoring = decision.step.kind === 'writeRecovery' && decision.step.record?.phase === 's';
      if (options.snapshotDir && !snapshot && MEMBERSHIP_STEPS.has(decision.step.kind) && observation.secrets && !restoring) {
        snapshot = await snapshotOf(options.snapshotDir, observation, observation.secrets);
      }
      // The step just applied is wanted again: its effect does not show yet (e.g. "already exists" from
      // an insert that an earlier run started and GCE has not finished). Applying it is safe; pace it.
      const key = stepKey(decision.step);
      repeat = key === repeat.key ? { key, times: repeat.times + 1 } : { key, times: 0 };
      if (repeat.times > 0) {
        const pause = Math.max(0, Math.min(1000 * 2 ** (repeat.times - 1), MAX_REPEAT_PAUSE_MS, runDeadline - Date.now()));
        if (repeat.times === 1)
          deps.log(
            `  the effect of that step does not show yet (an operation started earlier may still be under way): applying it again, at most every ${MAX_REPEAT_PAUSE_MS / 1000} s`,
          );
        await delay(pause);
      }
      const number = steps.length + 1;
      deps.log(`step ${number}: ${describeStep(decision.step, observation.state)} (${decision.reason})`);
      doing = `step ${number} (${describeStep(decision.step, observation.state)})`;
      const t0 = Date.now();
      try {
        await applyStep(decision.step, {
          intent,
          deps,
          observation,
          etcd: etcdFor,
          leases,
          serviceAccount,
          runDeadline,
          waitReady: (replica) => waitReady(intent, deps, etcdFor, cache, replica, runDeadline),
        });
      } catch (e) {
        // Only a failed insert tells that a zone is full: a fact for the rest of this run, not a failure.
        if (!(e instanceof ZoneCapacityError)) throw e;
        (cache.noCapacity ??= new Map()).set(e.zone, e.detail);
        deps.log(`  ${e.message}; nothing was made: planning again without ${e.zone}`);
        continue;
      }
      steps.push({ step: decision.step, reason: decision.reason, ms: Date.now() - t0 });
      // Space is reclaimed once a run: an alarm that is back at once means live data fills the quota.
      if (decision.step.kind === 'reclaimEtcdSpace') cache.spaceReclaimed = true;
    }
  };
  try {
    // Every wait of a step ends at the deadline by itself; this bounds what cannot be cut short (a
    // GCE operation, a membership call, a hung connection), so the run ends within its timeout.
    return await untilAbandoned(drive(), runDeadline + ABANDON_GRACE_MS, () => {
      abandoned = true;
      return new RunAbandonedError(doing, Math.round((Date.now() - started) / 1000), deps.limits.runTimeoutMs);
    });
  } catch (caught) {
    // Refusals say themselves what changed; any other failure is told what this run had done and
    // that a re-run continues from there.
    const err =
      caught instanceof RefusedError || caught instanceof LockBusyError || caught instanceof RunAbandonedError
        ? caught
        : new Error(
            `${errorMessage(caught)}. ${changed() ? 'Earlier steps of this run changed the cluster (see the job summary).' : 'No earlier step of this run changed the cluster.'} ` +
              'Re-run with the same inputs to continue: every step is safe to repeat.',
            { cause: caught },
          );
    if (lastState) {
      partialReports.set(err, {
        operation: intent.operation,
        changed: changed(),
        replicaName: touchedReplica(steps.map((s) => s.step)),
        steps,
        warnings: leases.warnings(),
        state: lastState,
        snapshot,
      });
    }
    throw err;
  } finally {
    // A step still under way may yet write: its lease stays, and a re-run of this request takes it over.
    if (!abandoned) await lock.release(lastState);
    await admin?.client.close();
  }
}

/** Longest pause before a step is applied again because its effect did not show. */
const MAX_REPEAT_PAUSE_MS = 10_000;

function stepKey(step: Step): string {
  return JSON.stringify(step);
}

/** How long past its timeout a run may go on before it is stopped where it is. */
export const ABANDON_GRACE_MS = 10_000;

/**
 * The run reached its timeout in the middle of something that could not be cut short. The process
 * must end now (the abandoned work may still hold connections open); the cluster is as a crash there
 * would leave it, which the next run of the same request finishes.
 */
/** The run reached its `timeout` between steps. */
export class RunTimedOutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunTimedOutError';
  }
}

export class RunAbandonedError extends RunTimedOutError {
  constructor(doing: string, seconds: number, timeoutMs: number) {
    super(
      `run stopped at its timeout (${Math.round(timeoutMs / 1000)} s) after ${seconds} s, while ${doing} was still under way; it may finish in GCE by itself. ` +
        "Re-run with the same inputs and request-id to continue: every step is safe to repeat, and that re-run takes over this run's lock at once (other requests wait for it to expire). " +
        'If this keeps happening, raise timeout.',
    );
    this.name = 'RunAbandonedError';
  }
}

async function untilAbandoned<T>(work: Promise<T>, at: number, abandon: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(abandon()), Math.max(0, at - Date.now()));
  });
  try {
    return await Promise.race([work, stop]);
  } finally {
    clearTimeout(timer);
    // The abandoned work's own failure, later, is nobody's to report.
    work.catch(() => undefined);
  }
}

/** Polls until `replica` is a healthy voting member with a ready apiserver, never past the run's own deadline. */
async function waitReady(
  intent: Intent,
  deps: EngineDeps,
  etcdFor: (s: ClusterSecrets) => EtcdAdmin,
  cache: ObserveCache,
  replica: string,
  runDeadline: number,
): Promise<void> {
  const end = waitEnd(runDeadline, deps.limits.runTimeoutMs, deps.limits.readyTimeoutMs);
  let last = 'not observed yet';
  let startup: string | undefined;
  let nextStartupRead = 0;
  while (Date.now() < end.at) {
    const o: Observation = await observe(intent, deps, etcdFor, cache);
    await stopIfUnreachable(deps, false);
    const r = buildView(o.state).replicas.find((x) => x.name === replica);
    if (r && isHealthyReplica(r) && r.vm?.apiserverReady === true) return;
    last = r ? (unhealthyReason(r) ?? 'its apiserver was not probed') : 'its VM is gone';
    // The VM's own word on its start-up (docs/vm-contract.md): a failure ends the wait with its reason.
    if (r?.vm && Date.now() >= nextStartupRead) {
      startup = (await startupStatus(deps.compute, r.vm.zone, replica)) ?? startup;
      nextStartupRead = Date.now() + 3000;
      if (startup?.startsWith('failed')) throw new Error(startupFailureMessage(replica, r.vm.zone, startup));
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
  const progress = startup ? ` (its start-up script last reported "${startup}")` : '';
  throw new Error(
    `replica ${replica} did not become ready ${end.why}: ${last}${progress}. Re-run with the same inputs to keep waiting, or replace it`,
  );
}

/** A wait for another run's lock ends at lock-wait's end or the run's own timeout, whichever comes first. */
function lockWait(deps: EngineDeps, runStarted: number): LockWait {
  const lockEnd = Date.now() + deps.limits.lockWaitMs;
  const runEnd = runStarted + deps.limits.runTimeoutMs;
  return runEnd <= lockEnd
    ? { until: runEnd, limit: `this run's timeout (${Math.round(deps.limits.runTimeoutMs / 1000)} s)` }
    : { until: lockEnd, limit: `the lock wait limit (${Math.round(deps.limits.lockWaitMs / 1000)} s)` };
}

/** A way to the replicas that cannot work (IAP without permission, or kept out by a firewall) ends the run before it plans around unreachable members. */
async function stopIfUnreachable(deps: EngineDeps, nothingChanged: boolean): Promise<void> {
  const problem = await deps.reachProblem?.();
  if (problem) throw new RefusedError(problem.problem, problem.fix, nothingChanged);
}

/** The replica a run added (up, replace) or else removed (down): the `replica-name` output. */
function touchedReplica(steps: Step[]): string | undefined {
  for (const s of steps) if (s.kind === 'createReplica') return s.replica;
  for (const s of steps) if (s.kind === 'deleteReplica') return s.replica;
  return undefined;
}

/**
 * A dry run: one observation, then the whole plan projected step by step (each step assumed to
 * succeed), without a single write.
 */
export async function planEngine(intent: Intent, deps: EngineDeps): Promise<RunReport> {
  let admin: EtcdAdmin | undefined;
  const etcdFor = (s: ClusterSecrets): EtcdAdmin => (admin ??= deps.etcd(etcdClientTls(s)));
  try {
    const { state } = await observe(intent, deps, etcdFor, {}, new ApiLeaseAccess(deps.mask));
    // As in a real run: a teardown's plan does not depend on reaching etcd.
    if (!isTeardown(intent)) await stopIfUnreachable(deps, true);
    const projected = projectPlan(intent, state);
    for (const [i, s] of projected.steps.entries()) deps.log(`would ${i + 1}: ${describeStep(s.step, state)} (${s.reason})`);
    const end = projected.end;
    const outcome =
      end.type === 'done' ? end.reason : end.type === 'refuse' ? `${end.problem}. To fix: ${end.fix}` : `the plan was cut: ${end.reason}`;
    deps.log(`dry run: ${count(projected.steps.length, 'step')}, then: ${outcome}`);
    return {
      operation: intent.operation,
      changed: false,
      steps: [],
      warnings: shapeWarnings(state),
      state,
      plan: { steps: projected.steps, outcome, refused: end.type !== 'done' },
    };
  } finally {
    await admin?.close();
  }
}

/**
 * A restorable backup, before etcd membership changes (without one the change does not start) or as
 * the whole of operation snapshot (`asked`); then the older ones beyond `etcd-snapshot-keep` go.
 */
async function takeSnapshot(
  { snapshotDir: dir, snapshotUpload: upload, pruneSnapshots }: RunOptions & { snapshotDir: string },
  o: Observation,
  admin: EtcdAdmin,
  deps: EngineDeps,
  deadline: number,
  warnings: string[],
  asked = false,
): Promise<NonNullable<RunReport['snapshot']>> {
  const master = o.state.names.master;
  const path = join(dir, snapshotName(master, o.state.observedAt));
  // The most advanced member first: with quorum lost, members may hold different amounts.
  const endpoints = o.state.etcd.members
    .filter((m) => !m.isLearner && m.healthy && m.clientUrls[0])
    .sort((a, b) => (b.appliedIndex ?? 0) - (a.appliedIndex ?? 0))
    .map((m) => m.clientUrls[0]!);
  let info: NonNullable<RunReport['snapshot']>;
  try {
    const taken = await admin.snapshot(endpoints, path, deadline);
    info = upload ? { ...taken, path: await upload(taken.path) } : taken;
    deps.log(
      `etcd snapshot: ${info.path} (${info.bytes} bytes, revision ${info.revision}, sha256 ${info.sha256.slice(0, 16)}..., from ${info.from})`,
    );
  } catch (err) {
    const then = asked
      ? 'Nothing was changed; fix the cause (the job summary shows each etcd member) and run again'
      : 'No etcd membership change was made; fix the cause or leave etcd-snapshot-dir empty to go on without a backup';
    throw new Error(`${errorMessage(err)}. ${then}`, { cause: err });
  }
  if (pruneSnapshots) {
    try {
      const gone = await pruneSnapshots(master);
      if (gone.length)
        deps.log(`etcd snapshots: deleted ${count(gone.length, 'older snapshot')} beyond etcd-snapshot-keep: ${gone.join(', ')}`);
    } catch (err) {
      warnings.push(`the snapshot ${info.path} was taken, but older ones could not be deleted (etcd-snapshot-keep): ${errorMessage(err)}`);
    }
  }
  return info;
}
