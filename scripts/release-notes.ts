// Prints the CHANGELOG.md section of one release, for the GitHub release's notes.
//   node scripts/release-notes.ts v1.2.3 [--changelog CHANGELOG.md]
// The section is the one headed `## [1.2.3]` (Keep a Changelog), up to the next `## ` heading.
// Exits 1, saying why, when the version is not X.Y.Z or CHANGELOG.md has no such section or an empty one.
import { readFileSync } from 'node:fs';

export function releaseNotes(changelog: string, tag: string): string {
  const version = /^v?(\d+\.\d+\.\d+)$/.exec(tag)?.[1];
  if (!version) throw new Error(`${tag} is not a release tag: write vX.Y.Z, e.g. v1.2.3`);
  const lines = changelog.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^## \\[${version.replace(/\./g, '\\.')}\\]`).test(l));
  if (start < 0)
    throw new Error(
      `CHANGELOG.md has no "## [${version}] - YYYY-MM-DD" section: move the Unreleased notes under it and commit before tagging`,
    );
  const end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  const body = lines
    .slice(start + 1, end < 0 ? undefined : end)
    .filter((l) => !/^\[[^\]]+\]:\s/.test(l)) // link references belong to the whole file
    .join('\n')
    .trim();
  if (!body) throw new Error(`CHANGELOG.md's section for ${version} is empty: say what the release changes`);
  return body + '\n';
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--changelog');
  const path = i >= 0 && args[i + 1] ? args[i + 1]! : 'CHANGELOG.md';
  const tag = args.find((a, j) => !a.startsWith('--') && args[j - 1] !== '--changelog');
  try {
    process.stdout.write(releaseNotes(readFileSync(path, 'utf8'), tag ?? ''));
  } catch (e) {
    console.error(`release-notes: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
