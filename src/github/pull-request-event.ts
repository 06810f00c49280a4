// The pull request a workflow run was triggered by, read from the runner's event payload
// (GITHUB_EVENT_PATH), so that inputs can be parsed from an environment alone.
import { readFileSync } from 'node:fs';
import type { ClusterOwner } from '../labels.ts';

const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target']);

/** The run's pull request and repository; undefined outside a pull request's run (or when the payload cannot be read). */
export function pullRequestOfRun(env: NodeJS.ProcessEnv): ClusterOwner | undefined {
  const repository = env.GITHUB_REPOSITORY?.trim();
  const path = env.GITHUB_EVENT_PATH?.trim();
  if (!PULL_REQUEST_EVENTS.has(env.GITHUB_EVENT_NAME ?? '') || !repository || !path) return undefined;
  try {
    const payload = JSON.parse(readFileSync(path, 'utf8')) as { pull_request?: { number?: unknown }; number?: unknown };
    const pr = payload.pull_request?.number ?? payload.number;
    return typeof pr === 'number' && Number.isSafeInteger(pr) && pr > 0 ? { pr, repository } : undefined;
  } catch {
    return undefined;
  }
}
