import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { INPUT_DEFAULTS, INPUT_NAMES, parseInputs } from '../../src/inputs.ts';
import { clusterNames, type RunReport } from '../../src/model.ts';
import { outputsFor } from '../../src/report/outputs.ts';

const root = resolve(import.meta.dirname, '../..');
const node = existsSync(join(root, 'node_modules/.bin/node')) ? join(root, 'node_modules/.bin/node') : process.execPath;

interface ActionMeta {
  name: string;
  description: string;
  branding: { icon: string; color: string };
  inputs: Record<string, { description: string; required: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}

const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as ActionMeta;

function docsTable(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(node, ['scripts/docs-table.ts', ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('action.yml', () => {
  it('is a node24 action bundled into dist/index.js, with a name, description and branding', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(action.name).toBe('ha-masters');
    expect(action.description.length).toBeGreaterThan(50);
    expect(action.branding).toEqual({ icon: 'server', color: 'blue' });
  });

  it('declares exactly the inputs src/inputs.ts reads, each described and none required', () => {
    const read: string[] = [];
    try {
      parseInputs((name) => {
        read.push(name);
        return '';
      }, {});
    } catch {
      // Empty inputs are refused; what matters here is that every input was read first.
    }
    expect([...read].sort()).toEqual(Object.keys(action.inputs).sort());
    expect([...INPUT_NAMES]).toEqual(Object.keys(action.inputs));
    for (const [name, input] of Object.entries(action.inputs)) {
      expect([name, input.required]).toEqual([name, false]);
      expect(input.description.length).toBeGreaterThan(20);
    }
  });

  it('gives the defaults src/inputs.ts applies, and names in the text those kube-env may override', () => {
    for (const [name, value] of Object.entries(INPUT_DEFAULTS)) {
      const input = action.inputs[name]!;
      if (input.default !== undefined) expect([name, String(input.default)]).toEqual([name, value]);
      else expect([name, input.description]).toEqual([name, expect.stringContaining(`Default: \`${value}\``)]);
    }
    // An action.yml default would hide kube-env's value: the runner passes defaults as if given.
    for (const name of [
      'gce-zone',
      'instance-prefix',
      'multizone',
      'enable-etcd-quorum-read',
      'replicate-existing-master',
      'delete-nodes',
      'replica-name',
      'operation',
      // Unset, a new replica copies the cluster's (src/plan/shape.ts): a default would hide that.
      'machine-type',
      'network',
      'data-disk-size-gb',
      'service-account',
    ]) {
      expect([name, action.inputs[name]!.default]).toEqual([name, undefined]);
    }
  });

  it('as the runner fills in its defaults, parses like the bare inputs and lets kube-env through', () => {
    // The runner evaluates an expression default; `github.token` is the job's token, which this test has not.
    const evaluated = (v: string) => (v === '${{ github.token }}' ? '' : v);
    const withDefaults = (given: Record<string, string>) => (name: string) =>
      given[name] ?? (action.inputs[name]?.default === undefined ? '' : evaluated(String(action.inputs[name]!.default)));
    const given = {
      project: 'my-project',
      'kube-env': 'KUBE_GCE_INSTANCE_PREFIX=ci KUBE_DELETE_NODES=false KUBE_GCE_ZONE=us-east1-b ./cluster/kube-down.sh',
    };
    const viaRunner = parseInputs(withDefaults(given), {});
    const bare = parseInputs((name) => (given as Record<string, string>)[name] ?? '', {});
    expect(viaRunner).toEqual(bare);
    expect(viaRunner.warnings).toEqual([]);
    expect(viaRunner.intent).toMatchObject({ operation: 'down', instancePrefix: 'ci', deleteNodes: false, zone: 'us-east1-b' });
  });

  it('declares exactly the outputs src/report/outputs.ts produces', () => {
    const report: RunReport = {
      operation: 'status',
      changed: false,
      steps: [],
      warnings: [],
      state: {
        names: clusterNames('kubernetes'),
        project: 'p',
        secrets: [],
        inlineKeys: [],
        zones: [],
        firewalls: [],
        replicas: [],
        etcd: { reachable: false, members: [] },
        journal: [],
        nodeGroups: [],
        nodeTemplates: [],
        observedAt: '2026-01-01T00:00:00Z',
      },
    };
    expect(Object.keys(outputsFor(report)).sort()).toEqual(Object.keys(action.outputs).sort());
    for (const output of Object.values(action.outputs)) expect(output.description.length).toBeGreaterThan(15);
  });
});

describe('README tables', () => {
  it('match action.yml (node scripts/docs-table.ts --check)', () => {
    const r = docsTable(['--check']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('README.md tables match action.yml.\n');
    expect(r.status).toBe(0);
  });

  it('--check fails on a stale README, and a rewrite fixes it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docs-table-'));
    try {
      const readme = join(dir, 'README.md');
      const stale = readFileSync(join(root, 'README.md'), 'utf8').replace('| `replicas` |', '| `replica-count-old` |');
      writeFileSync(readme, stale);
      const check = docsTable(['--check', '--readme', readme]);
      expect(check.status).toBe(1);
      expect(check.stderr).toBe(`${readme} is out of date with action.yml: run \`node scripts/docs-table.ts\` and commit the result.\n`);
      expect(docsTable(['--readme', readme]).status).toBe(0);
      expect(readFileSync(readme, 'utf8')).toBe(readFileSync(join(root, 'README.md'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
