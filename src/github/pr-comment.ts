// One comment per cluster on the pull request that triggered the run, found again by a hidden
// marker and updated in place, so a PR's conversation shows the cluster's current state once.
import * as github from '@actions/github';

export function commentMarker(master: string): string {
  return `<!-- ha-masters:${master} -->`;
}

export type CommentOutcome = { done: 'created' | 'updated'; url: string } | { done: 'skipped'; why: string };

/** `pr`: the pull request to comment on; the run's own when not given. */
export async function upsertPrComment(token: string, master: string, markdown: string, pr?: number): Promise<CommentOutcome> {
  const { context } = github;
  const number = pr ?? context.payload.pull_request?.number;
  if (!number) return { done: 'skipped', why: `the run was triggered by ${context.eventName || 'no event'}, not by a pull request` };
  const octokit = github.getOctokit(token);
  const { owner, repo } = context.repo;
  const marker = commentMarker(master);
  const body = `${marker}\n${markdown}`;
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: number, per_page: 100 });
  const mine = comments.find((c) => c.body?.includes(marker));
  if (mine) {
    const res = await octokit.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
    return { done: 'updated', url: res.data.html_url };
  }
  const res = await octokit.rest.issues.createComment({ owner, repo, issue_number: number, body });
  return { done: 'created', url: res.data.html_url };
}
