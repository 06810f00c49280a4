// Finding a VM's PID 1 (emulator/vm/guest-init.ts): only a child in a PID namespace of its own
// counts, never a helper that shares its parent's namespace (what nspawn forks first).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { childInOwnPidNamespace } from '../../emulator/vm/guest-init.ts';
import { waitFor } from '../support/runtime-vms.ts';

const asRoot = process.getuid?.() === 0 ? test : test.skip;
const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

function start(argv: string[]): number {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  started.push(child);
  return child.pid!;
}

asRoot('a child started in a new PID namespace is found', async () => {
  const parent = start(['unshare', '--pid', '--fork', 'sleep', '30']);
  const init = await waitFor('the child in its own namespace', 5000, async () => childInOwnPidNamespace(parent), 20);
  expect(init).not.toBe(parent);
});

test("a child in the parent's own PID namespace is not taken for it", async () => {
  const parent = start(['sh', '-c', 'sleep 30 & wait']);
  await waitFor(
    'the helper child',
    5000,
    async () => readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim() || undefined,
    20,
  );
  expect(childInOwnPidNamespace(parent)).toBeUndefined();
});

test('a parent that is gone has no child', () => {
  expect(childInOwnPidNamespace(2 ** 22 + 1)).toBeUndefined();
});
