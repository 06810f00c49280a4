// If the emulator's Node process exits without stop(), its etcd children must not outlive it.
// The runtime is loaded here the way `node emulator/cli.ts` loads it: by Node's type stripping.
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTestPki, masterMetadata, memberCertsMetadata, randomLoopbackBase } from '../support/runtime-certs.ts';
import { instance, processAlive, tempStateDir, waitFor } from '../support/runtime-vms.ts';

const run = promisify(execFile);
const NODE = join(process.cwd(), 'node_modules/.bin/node');
let stateDir: string;
let leaked: number[] = [];

afterAll(() => {
  for (const pid of leaked) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

test('an abrupt process.exit SIGKILLs the running etcd', async () => {
  stateDir = tempStateDir('runtime-exit');
  const base = randomLoopbackBase();
  const ip = `${base}.51`;
  const pki = makeTestPki('kubernetes-master', `${base}.200`);
  const vm = instance(stateDir, 'europe-west1-d', 'kubernetes-master', ip, {
    ...masterMetadata({ pki, master: 'kubernetes-master', staticIp: `${base}.200`, state: 'new', initialCluster: ['kubernetes-master'] }),
    ...memberCertsMetadata(pki.member('kubernetes-master', ip)),
  });
  const inputPath = join(stateDir, 'input.json');
  writeFileSync(
    inputPath,
    JSON.stringify({
      world: { instances: [vm], forwardingRules: [], firewalls: [] },
      options: { stateDir, lbProgrammingDelayMs: 0, leaseRenewIntervalMs: 1000, etcdBinary: '/usr/bin/etcd' },
    }),
  );
  const { stdout } = await run(NODE, ['__tests__/support/runtime-exit-child.ts', inputPath], { timeout: 30_000 });
  leaked = stdout.trim().split(',').filter(Boolean).map(Number);
  expect(leaked).toHaveLength(1);
  // SIGKILL is delivered before the parent exits; dying takes the kernel a moment.
  await waitFor('etcd gone', 2000, async () => (leaked.some(processAlive) ? undefined : true), 20);
  expect(leaked.filter(processAlive)).toEqual([]);
}, 40_000);
