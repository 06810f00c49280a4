import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { releaseNotes } from '../../scripts/release-notes.ts';

const root = resolve(import.meta.dirname, '../..');
const node = existsSync(join(root, 'node_modules/.bin/node')) ? join(root, 'node_modules/.bin/node') : process.execPath;

function lintWorkflows(files: string[]): { status: number | null; out: string } {
  const r = spawnSync(node, ['scripts/lint-workflows.ts', ...files], { cwd: root, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('scripts/lint-workflows.ts', () => {
  it('passes the repository workflows and the examples', () => {
    const r = lintWorkflows([]);
    expect(r.out).toContain('0 problem(s)');
    expect(r.status).toBe(0);
  });

  it('finds a wrong step id, an input action.yml does not declare, and a third-party action not pinned by SHA', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lint-workflows-'));
    try {
      const file = join(dir, 'bad.yml');
      const scale = readFileSync(join(root, 'examples/scale.yml'), 'utf8');
      writeFileSync(
        file,
        scale
          .replace('steps.masters.outputs.kubeconfig', 'steps.master.outputs.kubeconfig')
          .replace('replicas: ${{ inputs.replicas }}', 'replica-count: 3')
          .replace(/google-github-actions\/auth@[0-9a-f]{40} # v[\d.]+/, 'google-github-actions/auth@v3'),
      );
      const r = lintWorkflows([file]);
      expect(r.status).toBe(1);
      expect(r.out).toMatch(/property "master" is not defined/);
      expect(r.out).toMatch(/input "replica-count" is not declared in action.yml/);
      expect(r.out).toMatch(/google-github-actions\/auth@v3: pin a third-party action by its full commit SHA/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scripts/release-notes.ts', () => {
  const changelog = [
    '# Changelog',
    '',
    '## [Unreleased]',
    '',
    '## [1.1.0] - 2027-02-01',
    '',
    '### Fixed',
    '- b',
    '',
    '## [1.0.0] - 2027-01-01',
    '',
    '### Added',
    '- a',
    '',
    '[1.1.0]: https://example.test/compare/v1.0.0...v1.1.0',
  ].join('\n');

  it("prints the tag's section, without the link references", () => {
    expect(releaseNotes(changelog, 'v1.1.0')).toBe('### Fixed\n- b\n');
    expect(releaseNotes(changelog, 'v1.0.0')).toBe('### Added\n- a\n');
  });

  it('refuses a tag that is not vX.Y.Z, a version with no section, and an empty section', () => {
    expect(() => releaseNotes(changelog, 'v1')).toThrow(/not a release tag/);
    expect(() => releaseNotes(changelog, 'v2.0.0')).toThrow(/no "## \[2.0.0\]/);
    expect(() => releaseNotes('## [3.0.0] - 2027-03-01\n\n## [2.0.0]\n', 'v3.0.0')).toThrow(/empty/);
  });
});

describe('docs/troubleshooting.md', () => {
  it('names every error class the action can throw', () => {
    const classes = spawnSync('grep', ['-rhoE', 'class [A-Za-z]+Error extends', join(root, 'src')], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ')[1]!);
    expect(classes.length).toBeGreaterThan(5);
    const doc = readFileSync(join(root, 'docs/troubleshooting.md'), 'utf8');
    expect(classes.filter((c) => !doc.includes(`\`${c}\``))).toEqual([]);
  });
});
