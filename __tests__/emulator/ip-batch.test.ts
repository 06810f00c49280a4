// `ip -batch` inside a namespace (emulator/vm/netns.ts): every command runs in one process, the
// first failure stops the batch and is reported, and an argument that could split a command line
// is refused before anything runs.
import { execFileSync } from 'node:child_process';
import { addNamespace, deleteNamespace, ipBatch } from '../../emulator/vm/netns.ts';

const asRoot = process.getuid?.() === 0 ? test : test.skip;
const NS = `hmipb${process.pid}`.slice(0, 15);

afterAll(async () => {
  if (process.getuid?.() === 0) await deleteNamespace(NS);
});

asRoot('the commands run in order inside the namespace; a failing one fails the batch and is named', async () => {
  await addNamespace(NS);
  await ipBatch(NS, [
    ['link', 'add', 'vb0', 'type', 'veth', 'peer', 'name', 'vb1'],
    ['link', 'set', 'vb0', 'up'],
  ]);
  const links = execFileSync('ip', ['-n', NS, '-o', 'link', 'show']).toString();
  expect(links).toMatch(/vb0@vb1: <[^>]*\bUP\b/);
  await expect(
    ipBatch(NS, [
      ['link', 'set', 'vb0', 'down'],
      ['link', 'set', 'nosuch', 'up'],
    ]),
  ).rejects.toThrow(/Cannot find device "nosuch"/);
});

test('an argument with a space or a newline is refused before ip runs', () => {
  expect(() => ipBatch('any', [['addr', 'add', '10.0.0.1/32 dev br0']])).toThrow(/unsafe argument/);
  expect(() => ipBatch('any', [['link', 'set', 'x\nlink', 'delete']])).toThrow(/unsafe argument/);
});
