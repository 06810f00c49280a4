// More replicas than etcd recommends (7) are refused by the bundled action before anything is
// written, unless the user opts in with allow-many-replicas.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../emulator/index.ts';
import { bundleRunner } from '../support/run-bundle.ts';

const ZONE = 'europe-west1-b';
let emulator: Awaited<ReturnType<typeof startEmulator>>;
let dir: string;
const action = bundleRunner(() => emulator, () => dir, 'many-replicas');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ha-many-replicas-'));
  emulator = await startEmulator({ port: 0, stateDir: join(dir, 'state'), lbProgrammingDelayMs: 200, vmRuntime: 'process', log: () => {} });
}, 60_000);
afterAll(async () => {
  action.stopAll();
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('replicas: 9 is refused with the reason and writes nothing; with allow-many-replicas it is a warning', async () => {
  const mark = await action.requestCount();
  const refused = await action.run({ operation: 'up', 'gce-zone': ZONE, replicas: '9', 'dry-run': 'true' });
  expect(refused.code).toBe(1);
  expect(refused.stdout).toMatch(/::error::.*replicas: 9 is above 7: etcd recommends at most 7 members.*allow-many-replicas: true/);
  expect(refused.stdout).toMatch(/nothing was changed/i);
  expect(await action.writesSince(mark)).toEqual([]);

  const allowed = await action.run({ operation: 'up', 'gce-zone': ZONE, replicas: '9', 'allow-many-replicas': 'true', 'dry-run': 'true' });
  expect(allowed.code).toBe(0);
  expect(allowed.stdout).toMatch(/::warning title=ha-masters input::replicas: 9; etcd recommends at most 7 members/);
  expect(await action.writesSince(mark)).toEqual([]);
}, 120_000);
