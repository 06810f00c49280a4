// The action's `operation: janitor` step: the janitor over the project, each deleted cluster torn
// down through its own wiring, then the summary table; the step fails at the end, naming every
// cluster whose teardown failed.
import * as core from '@actions/core';
import type { ComputeApiHandle } from './gce/client.ts';
import type { ActionInputs } from './inputs.ts';
import type { KeyStore } from './engine/key-store.ts';
import { planEngine, runEngine } from './engine/run.ts';
import { runJanitor } from './engine/janitor.ts';
import { pullRequestCheck } from './github/pull-request.ts';
import { renderJanitorSummary } from './report/janitor-summary.ts';
import { wireCluster } from './engine-wiring.ts';
import type { RunnerAuth } from './auth/adc.ts';
import { upsertPrComment } from './github/pr-comment.ts';
import { sanitizedRepository } from './labels.ts';
import { errorMessage } from './errors.ts';
import type { JanitorReport } from './engine/janitor.ts';

export async function janitorStep(
  inputs: ActionInputs & { janitor: { keepLabel: string } },
  compute: ComputeApiHandle,
  keys: KeyStore,
  auth: RunnerAuth,
  publishSummary: (markdown: string) => Promise<void>,
): Promise<void> {
  const { intent } = inputs;
  core.info(
    `ha-masters: ${inputs.dryRun ? 'dry run of ' : ''}janitor in project ${intent.project}${inputs.computeEndpoint ? ` (Compute API at ${inputs.computeEndpoint})` : ''}`,
  );
  const report = await runJanitor({
    template: intent,
    keepLabel: inputs.janitor.keepLabel,
    dryRun: inputs.dryRun,
    compute,
    checkPr: pullRequestCheck(inputs.githubToken, process.env),
    canCheckPrs: Boolean(inputs.githubToken),
    teardown: async (teardown) => {
      const { deps, reach } = await wireCluster(inputs, compute, keys, teardown.instancePrefix, auth);
      try {
        return inputs.dryRun ? await planEngine(teardown, deps) : await runEngine(teardown, deps);
      } finally {
        await reach.close();
      }
    },
    log: (l) => core.info(l),
    now: () => new Date(),
  });
  for (const w of report.warnings) core.warning(w, { title: 'ha-masters janitor' });
  const gone = report.rows.filter((r) => r.outcome === 'deleted' || r.outcome === 'would delete').map((r) => r.master);
  core.setOutput('changed', String(!inputs.dryRun && gone.length > 0));
  await publishSummary(renderJanitorSummary(report, intent.project));
  if (inputs.prComment && inputs.githubToken && !inputs.dryRun) await tellPullRequests(report, inputs.githubToken);
  if (report.failed.length) {
    core.setFailed(
      `ha-masters janitor: the teardown of ${report.failed.join(', ')} failed (the job summary says why); the other clusters were handled. Re-run the janitor: each teardown goes on where it stopped.`,
    );
  }
}

/** The sticky comment of each deleted cluster's pull request (of this repository) says it is gone; a comment that cannot be written is a warning. */
async function tellPullRequests(report: JanitorReport, token: string): Promise<void> {
  const own = sanitizedRepository(process.env.GITHUB_REPOSITORY ?? '');
  for (const row of report.rows) {
    if (row.outcome !== 'deleted' || row.pr === undefined || row.repo !== own) continue;
    const body = `## ha-masters: janitor tore down \`${row.master}\`\n\n### This pull request's cluster\n\n\`${row.master}\` is gone: the janitor tore it down, since ${row.why}.\n`;
    try {
      const outcome = await upsertPrComment(token, row.master, body, row.pr);
      core.info(outcome.done === 'skipped' ? `no PR comment: ${outcome.why}` : `PR comment ${outcome.done}: ${outcome.url}`);
    } catch (err) {
      core.warning(`could not write the comment on pull request #${row.pr}: ${errorMessage(err)}`, { title: 'ha-masters janitor' });
    }
  }
}
