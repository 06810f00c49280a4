// `etcd-restore-from` on a process-runtime VM, as vm/startup.sh does it on a Debian VM: before etcd
// starts, once per nonce, download that generation of the object as the VM's service account, check
// its MD5, restore it with etcdctl into a new one-member cluster of this VM (the data found before
// kept beside it), and record the nonce on the data disk. A failure is the start-up's.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { memberNameOf, peerUrlOf } from './etcd-join.ts';
import type { MasterSpec } from './master-spec.ts';
import type { VmObjectRead } from './types.ts';

const run = promisify(execFile);

export interface RestoreContext {
  /** The VM's data disk; etcd's data is its `etcd` directory. */
  dataDiskDir: string;
  etcdBinary: string;
  serviceAccount: string | undefined;
  read: VmObjectRead;
  log: (line: string) => void;
}

/** Restores when the spec asks for a nonce this disk has not applied; returns why it failed, or undefined. */
export async function restoreIfAsked(spec: MasterSpec, ctx: RestoreContext): Promise<string | undefined> {
  const want = spec.restoreFrom;
  if (!want) return undefined;
  const applied = join(ctx.dataDiskDir, 'restore-from.applied');
  if (existsSync(applied) && readFileSync(applied, 'utf8') === want.nonce) return undefined;
  if ('bad' in want) return `etcd-restore-from: bad value '${want.bad}' (want: nonce bucket object generation md5)`;
  const where = `gs://${want.bucket}/${want.object} generation ${want.generation}`;
  if (!ctx.serviceAccount) return `etcd-restore-from: the VM has no service account to download ${where} with`;
  const got = await ctx.read(want.bucket, want.object, want.generation, ctx.serviceAccount);
  if (got.status !== 200 || !got.data) {
    return `etcd-restore-from: ${where}: HTTP ${got.status} (the object must exist at that generation, and the VM's service account ${ctx.serviceAccount} needs roles/storage.objectViewer on the bucket)`;
  }
  const md5 = createHash('md5').update(got.data).digest('base64');
  if (want.md5 !== '-' && md5 !== want.md5) {
    return `etcd-restore-from: the download's MD5 is ${md5}, Cloud Storage said ${want.md5}: damaged on the way; re-run recover`;
  }
  const db = join(ctx.dataDiskDir, 'restore.db');
  const data = join(ctx.dataDiskDir, 'etcd');
  const restoring = `${data}.restoring`;
  writeFileSync(db, got.data, { mode: 0o600 });
  rmSync(restoring, { recursive: true, force: true });
  const peer = peerUrlOf(spec.internalIp);
  try {
    // etcdctl beside the etcd binary, or on PATH as etcd is.
    await run(
      ctx.etcdBinary.includes('/') ? join(dirname(ctx.etcdBinary), 'etcdctl') : 'etcdctl',
      [
        'snapshot',
        'restore',
        db,
        `--data-dir=${restoring}`,
        `--name=${memberNameOf(spec.vm)}`,
        `--initial-cluster=${memberNameOf(spec.vm)}=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
      ],
      { env: { ...process.env, ETCDCTL_API: '3' } },
    );
  } catch (err) {
    const lines = `${(err as { stderr?: string }).stderr ?? (err as Error).message}`.trim().split('\n');
    return `etcd-restore-from: etcdctl snapshot restore failed: ${lines.at(-1)}`;
  } finally {
    rmSync(db, { force: true });
  }
  rmSync(`${data}.before-restore`, { recursive: true, force: true });
  if (existsSync(data)) renameSync(data, `${data}.before-restore`);
  renameSync(restoring, data);
  writeFileSync(applied, want.nonce, { mode: 0o600 });
  ctx.log(`${spec.vm}: etcd restored from ${where} with etcdctl: a new one-member cluster (etcd-restore-from ${want.nonce})`);
  return undefined;
}
