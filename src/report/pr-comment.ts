// The sticky pull request comment: the job summary with, right under its headline, what a reviewer
// needs (where the cluster answers, whether it is healthy, when it expires, how a later step uses
// it), or that the cluster is gone.
import type { RunReport } from '../model.ts';
import { expiryOf } from '../labels.ts';
import { count } from '../words.ts';
import { clusterHealth } from './health.ts';
import { code, text } from './markdown.ts';

export function prCommentBody(report: RunReport, summary: string): string {
  const cut = summary.indexOf('\n\n');
  const [headline, rest] = cut < 0 ? [summary, ''] : [summary.slice(0, cut), summary.slice(cut + 2)];
  return `${headline}\n\n${forReviewers(report)}\n\n${rest}`;
}

function forReviewers(report: RunReport): string {
  const { state } = report;
  const master = code(state.names.master);
  if (state.replicas.length === 0 && !state.address) {
    const how = report.operation === 'down' && report.changed ? 'this run tore it down' : 'nothing of it is left in the project';
    return `### This pull request's cluster\n\n${master} is gone: ${how}.`;
  }
  const health = clusterHealth(state);
  const ip = state.forwardingRule?.ip ?? state.address?.ip;
  const expiry = state.address ? expiryOf(state.address.labels) : undefined;
  const lines = [
    `- **External IP**: ${ip ? `${code(ip)} (\`https://${ip}\`; the \`external-ip\` output)` : 'none yet'}`,
    `- **Replicas**: ${count(state.replicas.length, 'replica')}, ${health.healthy ? 'healthy' : `not healthy: ${text(health.problems.join('; '))}`}`,
    `- **Expires**: ${expiry !== undefined ? `${new Date(expiry).toISOString()} (\`ttl\` after the last run; a scheduled \`operation: janitor\` deletes it then)` : 'never (no `ttl`)'}`,
  ];
  const use = [
    'In a later step of the same job, the `kubeconfig` output is an admin kubeconfig for it:',
    '',
    '```yaml',
    '- env:',
    "    KUBECONFIG: ${{ steps.<this step's id>.outputs.kubeconfig }}",
    '  run: kubectl get --raw /readyz',
    '```',
  ];
  return ["### This pull request's cluster", '', ...lines, '', ...use].join('\n');
}
