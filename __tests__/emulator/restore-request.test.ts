// `etcd-restore-from` on a process-runtime VM is read as vm/startup.sh reads it
// (emulator/runtime/master-spec.ts, snapshot-restore.ts): no nonce asks for nothing; a nonce with a
// malformed rest fails the start-up with the script's words, before anything is downloaded; a value
// whose nonce this disk has applied is left alone.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreRequestOf, type MasterSpec } from '../../emulator/runtime/master-spec.ts';
import { restoreIfAsked, type RestoreContext } from '../../emulator/runtime/snapshot-restore.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'restore-request-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function attempt(value: string) {
  const reads: string[] = [];
  const spec = { vm: 'kubernetes-master', internalIp: '127.0.0.9', ...restoreRequestOf(value) } as unknown as MasterSpec;
  const outcome = restoreIfAsked(spec, {
    dataDiskDir: dir,
    serviceAccount: 'sa@p.iam.gserviceaccount.com',
    etcdBinary: 'etcd',
    read: async (bucket: string, object: string) => {
      reads.push(`${bucket}/${object}`);
      return { status: 404 };
    },
    log: () => {},
  } as unknown as RestoreContext);
  return { outcome, reads };
}

test('a well-formed value is a request for exactly that snapshot; no nonce is none', () => {
  expect(restoreRequestOf('n1 backups etcd%2Fsnap.db 1733200000000000 AAAAAAAAAAAAAAAAAAAAAA==')).toEqual({
    restoreFrom: {
      nonce: 'n1',
      bucket: 'backups',
      object: 'etcd/snap.db',
      generation: '1733200000000000',
      md5: 'AAAAAAAAAAAAAAAAAAAAAA==',
    },
  });
  expect(restoreRequestOf('n1 backups snap.db 17 -')).toMatchObject({ restoreFrom: { md5: '-' } });
  expect(restoreRequestOf('')).toEqual({});
  expect(restoreRequestOf('   ')).toEqual({});
});

test.each([
  ['a missing md5', 'n2 backups snap.db 17'],
  ['a generation that is not a number', 'n2 backups snap.db latest -'],
  ['an upper-case bucket', 'n2 Backups snap.db 17 -'],
  ['a word too many', 'n2 backups snap.db 17 - extra'],
  ['an object with a raw slash', 'n2 backups etcd/snap.db 17 -'],
])("%s fails the start-up in the start-up script's words, nothing downloaded", async (_, value) => {
  const { outcome, reads } = attempt(value);
  expect(await outcome).toBe(`etcd-restore-from: bad value '${value}' (want: nonce bucket object generation md5)`);
  expect(reads).toEqual([]);
});

test('a nonce this disk has applied is not looked at again, malformed or not', async () => {
  writeFileSync(join(dir, 'restore-from.applied'), 'n3');
  expect(await attempt('n3 backups snap.db latest -').outcome).toBeUndefined();
});
