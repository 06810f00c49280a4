// operation: janitor. Lists every ha-masters cluster of the project by its labels, judges each
// (plan/janitor.ts), and tears down those that are due with the ordinary teardown (down,
// delete-nodes), one cluster at a time. A cluster that fails is reported and the others go on; a
// teardown is resumable, and its request id is the cluster's own, so the next janitor takes over
// the lock of one that was killed at once and finishes it.
import type { ComputeApi } from '../gce/types.ts';
import type { Intent, RunReport } from '../model.ts';
import { findClusters, judgeCluster } from '../plan/janitor.ts';
import type { FoundCluster, PullRequestState } from '../plan/janitor.ts';
import type { PullRequestCheck } from '../github/pull-request.ts';
import { errorMessage } from '../errors.ts';
import { count } from '../words.ts';

export interface JanitorRow {
  master: string;
  pr?: number;
  /** The sanitized repository of its pull request. */
  repo?: string;
  /** ISO time. */
  expiresAt?: string;
  outcome: 'deleted' | 'would delete' | 'kept' | 'failed';
  why: string;
}

export interface JanitorReport {
  rows: JanitorRow[];
  /** Clusters whose teardown failed (the step fails, naming them). */
  failed: string[];
  warnings: string[];
  dryRun: boolean;
}

export interface JanitorOptions {
  /** The teardown every deleted cluster gets; prefix, zone and request id are filled in per cluster. */
  template: Intent;
  keepLabel: string;
  dryRun: boolean;
  compute: ComputeApi;
  checkPr: PullRequestCheck;
  /** Whether pull request states can be asked at all (a token): said once when not. */
  canCheckPrs: boolean;
  /** Runs (or, for a dry run, plans) one cluster's teardown. */
  teardown: (intent: Intent) => Promise<RunReport>;
  log: (line: string) => void;
  now: () => Date;
}

export async function runJanitor(o: JanitorOptions): Promise<JanitorReport> {
  const [addresses, vms, zones] = await Promise.all([o.compute.listAddresses(), o.compute.listInstances(''), o.compute.listZones()]);
  const clusters = findClusters(addresses, vms, o.keepLabel);
  o.log(
    `janitor: ${count(clusters.length, 'ha-masters cluster')} in project ${o.compute.project}${clusters.length ? `: ${clusters.map((c) => c.master).join(', ')}` : ''}`,
  );
  const report: JanitorReport = { rows: [], failed: [], warnings: [], dryRun: o.dryRun };
  if (!o.canCheckPrs && clusters.some((c) => c.pr !== undefined)) {
    report.warnings.push(
      'could not check the state of pull requests (github-token is empty): only expired clusters are deleted; a cluster whose pull request is closed stays until it expires.',
    );
  }
  for (const cluster of clusters) {
    const now = o.now().getTime();
    // GitHub is asked only when the answer matters: not for kept or expired clusters.
    const needsPr = cluster.pr !== undefined && !cluster.keep && !(cluster.expiresAt !== undefined && cluster.expiresAt <= now);
    const pr: PullRequestState | undefined = needsPr ? await o.checkPr(cluster.repo, cluster.pr!) : undefined;
    const verdict = judgeCluster(cluster, now, pr, o.keepLabel);
    const row: JanitorRow = {
      master: cluster.master,
      ...(cluster.pr !== undefined ? { pr: cluster.pr } : {}),
      ...(cluster.repo !== undefined ? { repo: cluster.repo } : {}),
      ...(cluster.expiresAt !== undefined ? { expiresAt: new Date(cluster.expiresAt).toISOString() } : {}),
      outcome: verdict.delete ? (o.dryRun ? 'would delete' : 'deleted') : 'kept',
      why: verdict.why,
    };
    o.log(
      `janitor: ${cluster.master}: ${row.outcome === 'kept' ? 'kept' : row.outcome === 'deleted' ? 'tearing down' : 'would tear down'}: ${verdict.why}`,
    );
    if (verdict.delete) {
      try {
        const done = await o.teardown(teardownIntent(o.template, cluster, zones));
        if (o.dryRun) row.why += `; the teardown would take ${count(done.plan?.steps.length ?? 0, 'step')}`;
      } catch (err) {
        row.outcome = 'failed';
        row.why += `; the teardown failed: ${errorMessage(err)}`;
        report.failed.push(cluster.master);
        o.log(`janitor: ${cluster.master}: teardown failed, going on with the other clusters: ${errorMessage(err)}`);
      }
    }
    report.rows.push(row);
  }
  return report;
}

/**
 * The cluster's teardown request. Its id is the cluster's own (not the run's), so that any later
 * janitor takes over the lock of one killed half-way; a zone of its region lets the teardown find
 * an address whose VMs are already gone.
 */
export function teardownIntent(template: Intent, cluster: FoundCluster, zones: { name: string; region: string }[]): Intent {
  const zone = cluster.region ? (zones.find((z) => z.region === cluster.region)?.name ?? `${cluster.region}-b`) : undefined;
  const { requestSeq: _seq, ...rest } = template;
  return {
    ...rest,
    operation: 'down',
    deleteNodes: true,
    instancePrefix: cluster.prefix,
    ...(zone ? { zone } : {}),
    requestId: `janitor-${cluster.prefix}`,
  };
}
