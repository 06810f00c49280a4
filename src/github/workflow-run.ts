// Whether a GitHub workflow run has ended, for the cluster's lock: a run that holds the lock while
// GitHub reports its workflow run completed (cancelled, timed out, its runner lost) can write no
// more, so its lock may be taken over at once instead of after the lease expires.
import * as github from '@actions/github';

/** Where a lock holder runs: its repository's numeric id and its workflow run id. */
export interface WorkflowRunRef {
  repositoryId: string;
  runId: string;
}

/** `<repository id>-<run id>`: digits and a dash, so a GCE label value can hold it. */
export function encodeRunRef(ref: WorkflowRunRef): string {
  return `${ref.repositoryId}-${ref.runId}`;
}

export function decodeRunRef(value: string | undefined): WorkflowRunRef | undefined {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(value ?? '');
  return m ? { repositoryId: m[1]!, runId: m[2]! } : undefined;
}

/** This job's own run, when it runs in a GitHub workflow. */
export function currentRunRef(env: NodeJS.ProcessEnv): WorkflowRunRef | undefined {
  const repositoryId = env.GITHUB_REPOSITORY_ID?.trim();
  const runId = env.GITHUB_RUN_ID?.trim();
  return repositoryId && runId && /^\d+$/.test(repositoryId) && /^\d+$/.test(runId) ? { repositoryId, runId } : undefined;
}

/**
 * Asks GitHub about a run of this job's own repository. Returns how it ended (for the log) when it
 * has completed, undefined while it may still run or when GitHub cannot tell (no proof, no take-over).
 */
export type RunEndedCheck = (ref: WorkflowRunRef) => Promise<string | undefined>;

export function workflowRunEndedCheck(token: string, env: NodeJS.ProcessEnv, log: (line: string) => void): RunEndedCheck {
  const octokit = github.getOctokit(token, env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {});
  const own = currentRunRef(env);
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  return async (ref) => {
    // Another repository's run cannot be looked up by this job's token: no proof.
    if (!own || ref.repositoryId !== own.repositoryId || !owner || !repo) return undefined;
    try {
      const { data } = await octokit.rest.actions.getWorkflowRun({ owner, repo, run_id: Number(ref.runId) });
      if (data.status !== 'completed') return undefined;
      return `its workflow run ${data.html_url} has completed (${data.conclusion ?? 'no conclusion'})`;
    } catch (err) {
      log(`could not ask GitHub whether workflow run ${ref.runId} has ended (the token needs actions: read): ${(err as Error).message}`);
      return undefined;
    }
  };
}
