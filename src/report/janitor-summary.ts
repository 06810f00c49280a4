// The janitor's job summary: one row per cluster it found, kept or deleted, and why.
import type { JanitorReport } from '../engine/janitor.ts';
import { count } from '../words.ts';
import { cell, code, table, text } from './markdown.ts';

export function renderJanitorSummary(report: JanitorReport, project: string): string {
  const deleted = report.rows.filter((r) => r.outcome === 'deleted' || r.outcome === 'would delete').length;
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const sections = [
    `## ha-masters: ${report.dryRun ? 'dry run of ' : ''}janitor in project ${code(project)}: ${count(report.rows.length, 'cluster')}, ${verb} ${deleted}${report.failed.length ? `, ${report.failed.length} failed` : ''}`,
  ];
  if (report.dryRun) sections.push('**Dry run**: nothing was changed.');
  if (report.rows.length === 0) sections.push('No ha-masters cluster (no address or VM labelled `ha-masters-cluster`) in this project.');
  else {
    sections.push(
      table(
        ['Cluster', 'Pull request', 'Expires', 'Outcome', 'Why'],
        ['l', 'r', 'l', 'l', 'l'],
        report.rows.map((r) => [
          code(r.master),
          r.pr !== undefined ? `#${r.pr}` : '',
          r.expiresAt ?? 'never',
          `**${r.outcome}**`,
          cell(r.why),
        ]),
      ),
    );
  }
  if (report.failed.length)
    sections.push(`Failed: ${report.failed.map(code).join(', ')}. Re-run the janitor: each teardown goes on where it stopped.`);
  if (report.warnings.length) sections.push('### Warnings', report.warnings.map((w) => `- ${text(w)}`).join('\n'));
  return `${sections.join('\n\n')}\n`;
}
