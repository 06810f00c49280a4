// Whether a cluster's pull request is still open, for the janitor. Only pull requests of the
// janitor's own repository can be asked about (its token's scope, and the repository label is a
// sanitized, lossy copy of `owner/name`).
import * as github from '@actions/github';
import { sanitizedRepository } from '../labels.ts';
import type { PullRequestState } from '../plan/janitor.ts';

export type PullRequestCheck = (repoLabel: string | undefined, pr: number) => Promise<PullRequestState>;

/** Without a token every answer is `unknown`, saying why. */
export function pullRequestCheck(token: string | undefined, env: NodeJS.ProcessEnv): PullRequestCheck {
  const repository = env.GITHUB_REPOSITORY?.trim() ?? '';
  const [owner, repo] = repository.split('/');
  if (!token) return async () => ({ state: 'unknown', why: 'no github-token to ask GitHub with' });
  if (!owner || !repo)
    return async () => ({ state: 'unknown', why: 'GITHUB_REPOSITORY is not set, so this run has no repository to ask GitHub about' });
  const octokit = github.getOctokit(token, env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {});
  const own = sanitizedRepository(repository);
  return async (repoLabel, pr) => {
    if (repoLabel !== undefined && repoLabel !== own) {
      return {
        state: 'unknown',
        why: `it belongs to repository ${repoLabel}, and this janitor runs in ${repository} (run a janitor there)`,
      };
    }
    try {
      const { data } = await octokit.rest.pulls.get({ owner, repo, pull_number: pr });
      return data.state === 'closed' ? { state: 'closed', merged: data.merged === true } : { state: 'open' };
    } catch (err) {
      return {
        state: 'unknown',
        why: `GitHub did not answer for ${repository}#${pr}: ${(err as Error).message} (the token needs pull-requests: read)`,
      };
    }
  };
}
