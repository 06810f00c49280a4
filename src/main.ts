// The runner's entry: inputs -> engine -> outputs and job summary. Everything thrown ends as one
// failure line that says what went wrong and how to fix it.
import * as core from '@actions/core';
import { createComputeApi } from './gce/client.ts';
import type { ComputeApiHandle } from './gce/client.ts';
import type { Reach } from './reach.ts';
import { parseInputs, type ActionInputs, type InputName } from './inputs.ts';
import { urlSecrets } from './url-credentials.ts';
import { errorMessage, InputError } from './errors.ts';
import { snapshotDirProblem } from './engine/snapshot-dir.ts';
import { bucketPruner, directoryPruner } from './engine/snapshot-store.ts';
import { RunAbandonedError, partialReportOf, planEngine, runEngine, type RunOptions } from './engine/run.ts';
import { outputsFor } from './report/outputs.ts';
import { renderFailureSummary, renderSummary } from './report/summary.ts';
import { failureOf } from './report/failure.ts';
import { clusterHealth } from './report/health.ts';
import { upsertPrComment } from './github/pr-comment.ts';
import { prCommentBody } from './report/pr-comment.ts';
import { wireCluster } from './engine-wiring.ts';
import { janitorStep } from './janitor-step.ts';
import { resolveRelease } from './release/choice.ts';
import { writeAdminKubeconfig } from './kube/kubeconfig.ts';
import { keyMaskValues, storedKeysOf } from './engine/secrets.ts';
import { KeyStore } from './engine/key-store.ts';
import { createSecretManager } from './secrets/client.ts';
import { createStorage } from './storage/client.ts';
import { adcTokenSource } from './auth/adc.ts';
import type { RunnerAuth, TokenSource } from './auth/adc.ts';
import type { OperationName, RunReport } from './model.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Registers a secret with the runner once (it masks every later log line that contains it). */
const masked = new Set<string>();
/** Inputs that hold a URL, which may carry a password or token. */
const URL_INPUTS: readonly InputName[] = [
  'compute-endpoint',
  'secret-manager-endpoint',
  'storage-endpoint',
  'iap-endpoint',
  'release-manifest',
];
/** Operations that may create a master, and so may need a release other than the cluster's. */
const CREATING: ReadonlySet<OperationName> = new Set(['up', 'replace', 'repair', 'recover', 'rollout']);
function mask(value: string): void {
  if (!value || masked.has(value)) return;
  masked.add(value);
  core.setSecret(value);
}

/** `abandoned`: the run was stopped at its timeout with work still under way; the process must exit rather than wait for it. */
export type RunEnd = 'finished' | 'abandoned';

export async function run(): Promise<RunEnd> {
  let compute: ComputeApiHandle | undefined;
  let reach: Reach | undefined;
  const cleanups: Array<() => void> = [];
  try {
    // Masked before anything can print them: a refusal, a library's error, a debug line.
    for (const name of URL_INPUTS) for (const secret of urlSecrets(core.getInput(name))) mask(secret);
    const inputs = parseInputs((name) => core.getInput(name), process.env);
    if (inputs.githubToken) mask(inputs.githubToken);
    const snapshotProblem = inputs.snapshotDir ? snapshotDirProblem(inputs.snapshotDir) : undefined;
    if (snapshotProblem) throw new InputError([snapshotProblem]);
    for (const w of inputs.warnings) core.warning(w, { title: 'ha-masters input' });
    const { intent } = inputs;
    // Only runs that may create a master need the binaries' manifest (a teardown must not depend on a
    // mirror); unnamed, a new master gets what the cluster runs (plan/release.ts).
    if (inputs.release.named && CREATING.has(intent.operation)) intent.release = await resolveRelease(inputs.release);
    compute = createComputeApi({ project: intent.project, endpoint: inputs.computeEndpoint, log: (l) => core.debug(l) });
    const transport = intent.transport ?? 'direct';
    core.info(
      `ha-masters: replicas are reached ${transport === 'iap' ? `through IAP TCP forwarding${inputs.iapEndpoint ? ` (relay ${inputs.iapEndpoint})` : ''}` : 'directly at their internal IPs'} (${inputs.transportWhy})`,
    );
    // One token source for the run: every API (Secret Manager, Cloud Storage, IAP) shares its token.
    const auth: RunnerAuth = { token: adcTokenSource(mask), mask };
    const keys = new KeyStore(
      createSecretManager({
        project: intent.project,
        endpoint: inputs.secretManagerEndpoint,
        token: auth.token,
        log: (l) => core.debug(l),
      }),
      mask,
    );
    // The snapshot's version is fixed before anything changes: a missing or unreadable object is refused here.
    if (intent.restore) {
      const storage = createStorage({ endpoint: inputs.storageEndpoint, token: auth.token, log: (l) => core.debug(l) });
      const info = await storage.objectInfo(intent.restore);
      intent.restore = {
        ...intent.restore,
        generation: info.generation,
        size: info.size,
        ...(info.md5Hash ? { md5Hash: info.md5Hash } : {}),
      };
      core.info(`ha-masters: restore-from gs://${info.bucket}/${info.object}: generation ${info.generation}, ${info.size} bytes`);
    }
    // Its intent is only the teardown template of the clusters it deletes.
    if (inputs.janitor) {
      await janitorStep({ ...inputs, janitor: inputs.janitor }, compute, keys, auth, publishSummary);
      return 'finished';
    }
    const wired = await wireCluster(inputs, compute, keys, intent.instancePrefix, auth);
    reach = wired.reach;
    const { deps } = wired;
    core.info(
      `ha-masters: ${inputs.dryRun ? 'dry run of ' : ''}${intent.operation} on ${intent.instancePrefix}-master in project ${intent.project}${inputs.computeEndpoint ? ` (Compute API at ${inputs.computeEndpoint})` : ''}`,
    );
    const report = inputs.dryRun
      ? await planEngine(intent, deps)
      : await runEngine(intent, deps, snapshotOptions(inputs, auth.token, cleanups));
    const kubeconfig = inputs.dryRun ? undefined : await adminKubeconfig(compute, keys, report, inputs.kubeconfigTtlMs);
    for (const [name, value] of Object.entries(outputsFor(report, kubeconfig))) core.setOutput(name, value);
    for (const w of report.warnings) core.warning(w, { title: 'ha-masters' });
    const summary = renderSummary(report);
    await publishSummary(summary);
    // A repair that could not restore health fails the step: the scheduled job's failure tells the team.
    const unhealthy =
      (inputs.failOnUnhealthy || intent.operation === 'repair' || intent.operation === 'recover') && !inputs.dryRun
        ? unhealthyProblem(report)
        : undefined;
    if (inputs.prComment && inputs.githubToken) {
      // The cluster is already as asked: a comment that cannot be written is worth a warning only.
      try {
        const outcome = await upsertPrComment(inputs.githubToken, report.state.names.master, prCommentBody(report, summary));
        core.info(outcome.done === 'skipped' ? `no PR comment: ${outcome.why}` : `PR comment ${outcome.done}: ${outcome.url}`);
      } catch (err) {
        core.warning(`could not write the PR comment: ${errorMessage(err)}`, { title: 'ha-masters' });
      }
    }
    if (unhealthy) core.setFailed(`ha-masters: ${unhealthy}`);
    return 'finished';
  } catch (err) {
    // The failure is the report's first line: what it was, what the run changed, what a re-run does.
    const failure = failureOf(err);
    const partial = partialReportOf(err);
    if (partial) {
      // Outputs and summary of what this run saw and did before it stopped.
      const report = { ...partial, failure };
      for (const [name, value] of Object.entries(outputsFor(report))) core.setOutput(name, value);
      await publishSummary(renderSummary(report)).catch(() => undefined);
    } else {
      await publishSummary(renderFailureSummary(core.getInput('operation') || 'up', failure)).catch(() => undefined);
    }
    core.setFailed(`ha-masters failed with: ${errorMessage(err)}`);
    if (err instanceof RunAbandonedError) return 'abandoned';
  } finally {
    for (const cleanup of cleanups) cleanup();
    await reach?.close();
    await compute?.close();
  }
  return 'finished';
}

/**
 * Where the run's etcd snapshot goes: the directory of `etcd-snapshot-dir`, or for `gs://` a private
 * temporary directory on the runner from which it is uploaded, then deleted (it holds every secret).
 */
function snapshotOptions(inputs: ActionInputs, token: TokenSource, cleanups: Array<() => void>): RunOptions {
  const target = inputs.snapshotBucket;
  const keep = inputs.snapshotKeep;
  if (!target) {
    const local = inputs.snapshotDir;
    return { snapshotDir: local, ...(local && keep !== undefined ? { pruneSnapshots: directoryPruner(local, keep) } : {}) };
  }
  const dir = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'ha-masters-snapshot-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const storage = createStorage({ endpoint: inputs.storageEndpoint, token, log: (l) => core.debug(l) });
  return {
    snapshotDir: dir,
    ...(keep !== undefined ? { pruneSnapshots: bucketPruner(storage, target, keep) } : {}),
    snapshotUpload: async (path) => {
      const ref = { bucket: target.bucket, object: `${target.prefix}${basename(path)}` };
      try {
        const stored = await storage.uploadFile(ref, path);
        return `gs://${stored.bucket}/${stored.object}`;
      } finally {
        rmSync(path, { force: true });
      }
    },
  };
}

/** Why `fail-on-unhealthy` fails the step, or undefined when the cluster is healthy (or was torn down, as asked). */
function unhealthyProblem(report: RunReport): string | undefined {
  const health = clusterHealth(report.state);
  const master = report.state.names.master;
  if (health.healthy === true) return undefined;
  if (health.healthy === undefined) {
    return report.operation === 'down'
      ? undefined
      : `no replica of ${master} exists, and fail-on-unhealthy is true. Fix: create it (operation: up), or check instance-prefix and project`;
  }
  if (report.operation === 'repair' || report.operation === 'recover') {
    return `${report.operation} could not restore the health of ${master}: ${health.problems.join('; ')}. Fix: see the job summary for why each was left (guards, zones); replace by hand with operation: replace, replica-name: <its name>`;
  }
  return `${master} is unhealthy, and fail-on-unhealthy is true: ${health.problems.join('; ')}. Fix: replace each unhealthy replica (operation: replace, replica-name: <its name>); the job summary shows the etcd members and VMs`;
}

/**
 * Writes the `kubeconfig` output when the cluster exists; its key is masked before anything prints.
 * (The cluster's own keys were masked when the run observed them.)
 */
async function adminKubeconfig(compute: ComputeApiHandle, keys: KeyStore, report: RunReport, ttlMs: number): Promise<string | undefined> {
  const externalIp = report.state.address?.ip ?? report.state.forwardingRule?.ip;
  if (!externalIp || report.state.replicas.length === 0) return undefined;
  const stored = (await compute.listInstances(report.state.names.master)).map(storedKeysOf).find((s) => s !== undefined);
  if (!stored) return undefined;
  // The run read this version already: the store answers from its cache.
  const secrets = await keys.load(stored);
  const file = await writeAdminKubeconfig({
    apiCa: secrets.apiCa,
    master: report.state.names.master,
    externalIp,
    ttlMs,
    dir: process.env.RUNNER_TEMP || tmpdir(),
  });
  for (const v of keyMaskValues(file.key)) mask(v);
  core.info(`kubeconfig for ${report.state.names.master} at ${file.path} (admin certificate valid until ${file.expiresAt.toISOString()})`);
  return file.path;
}

/** The job summary where the runner offers one; elsewhere (a local run) the log gets it. */
async function publishSummary(markdown: string): Promise<void> {
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown).write();
  else core.info(markdown);
}
