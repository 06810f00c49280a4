// etcd-snapshot-dir is checked by the bundled action before it writes anything: one that cannot be
// created (under /proc, where Node's recursive mkdir used to spin forever) is refused at once.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundleAgainstEmulator } from '../support/run-bundle.ts';

const ZONE = 'europe-west1-b';
const action = bundleAgainstEmulator('snapshot-dir');

test('a directory that cannot be created is refused with why and how to fix it, before any write', async () => {
  const mark = await action.requestCount();
  const r = await action.run({ operation: 'up', 'gce-zone': ZONE, 'etcd-snapshot-dir': '/proc/ha-masters-test/backups' });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(
    /::error::.*etcd-snapshot-dir: "\/proc\/ha-masters-test\/backups" cannot hold the etcd snapshot: .*Fix: give a directory the runner can create and write/,
  );
  expect(r.stdout).toMatch(/nothing was changed/i);
  expect(await action.writesSince(mark)).toEqual([]);
}, 120_000);

test('a directory that can be written is created up front, and no probe file is left in it', async () => {
  const backups = join(action.dir(), 'new', 'backups');
  const r = await action.run({ operation: 'status', 'gce-zone': ZONE, 'etcd-snapshot-dir': backups });
  expect(r.code).toBe(0);
  expect(readdirSync(backups)).toEqual([]);
}, 120_000);
