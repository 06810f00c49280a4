// Issue 13: inputs of pull request clusters: `ttl`, the default name `pr-<number>`, the ownership
// read from the event payload, `operation: janitor` and its `keep-label`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/errors.ts';
import { parseInputs } from '../../src/inputs.ts';

const reader = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';
const UP = { project: 'my-project', operation: 'up', 'gce-zone': 'europe-west1-b' };

function prEnv(payload: unknown, event = 'pull_request'): NodeJS.ProcessEnv {
  const file = join(mkdtempSync(join(tmpdir(), 'ha-event-')), 'event.json');
  writeFileSync(file, JSON.stringify(payload));
  return { GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: file, GITHUB_REPOSITORY: 'Acme/Infra' };
}

function problems(inputs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  try {
    parseInputs(reader(inputs), env);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).problems;
  }
  throw new Error('expected an InputError');
}

test('a pull request run names the cluster pr-<number> and records the pull request and repository', () => {
  const { intent } = parseInputs(reader(UP), prEnv({ pull_request: { number: 42 } }));
  expect(intent.instancePrefix).toBe('pr-42');
  expect(intent.owner).toEqual({ pr: 42, repository: 'Acme/Infra' });
});

test('an explicit instance-prefix wins; other events have no owner and keep kubernetes', () => {
  expect(parseInputs(reader({ ...UP, 'instance-prefix': 'mine' }), prEnv({ pull_request: { number: 42 } })).intent.instancePrefix).toBe(
    'mine',
  );
  const push = parseInputs(reader(UP), prEnv({ pull_request: { number: 42 } }, 'push')).intent;
  expect(push.instancePrefix).toBe('kubernetes');
  expect(push.owner).toBeUndefined();
  expect(
    parseInputs(reader(UP), { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: '/nonexistent', GITHUB_REPOSITORY: 'a/b' }).intent
      .owner,
  ).toBeUndefined();
});

test('ttl: a duration, also outside pull requests; empty is no expiry; anything else is refused with its fix', () => {
  expect(parseInputs(reader({ ...UP, ttl: '24h' }), {}).intent.ttlMs).toBe(24 * 3_600_000);
  expect(parseInputs(reader({ ...UP, ttl: '1s' }), {}).intent.ttlMs).toBe(1000);
  expect(parseInputs(reader(UP), {}).intent.ttlMs).toBeUndefined();
  expect(problems({ ...UP, ttl: '2 days' })).toEqual([expect.objectContaining({ input: 'ttl', fix: expect.stringContaining('24h') })]);
});

test('janitor: a teardown template with the keep label; inputs that name one cluster are refused', () => {
  const j = parseInputs(reader({ project: 'my-project', operation: 'janitor' }), {});
  expect(j.janitor).toEqual({ keepLabel: 'ha-masters-keep' });
  expect(j.intent).toMatchObject({ operation: 'down', deleteNodes: true });
  expect(parseInputs(reader({ project: 'my-project', operation: 'Janitor', 'keep-label': 'keep-me' }), {}).janitor).toEqual({
    keepLabel: 'keep-me',
  });
  expect(problems({ project: 'my-project', operation: 'janitor', 'instance-prefix': 'x', replicas: '3' }).map((p) => p.input)).toEqual([
    'instance-prefix',
    'replicas',
  ]);
  expect(problems({ project: 'my-project', operation: 'janitor', 'keep-label': 'Keep Me' }).map((p) => p.input)).toEqual(['keep-label']);
  expect(parseInputs(reader(UP), {}).janitor).toBeUndefined();
});
