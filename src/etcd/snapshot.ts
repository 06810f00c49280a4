// A full etcd snapshot (Maintenance.Snapshot stream) written to a file before a membership change,
// so that a change that goes wrong can be undone by `etcdctl snapshot restore`. kops' etcd-manager
// backs up before every change; Cluster API does not. The file holds every secret of the cluster:
// it is created 0600, and only renamed into place once complete.
import { createHash } from 'node:crypto';
import { openSync, closeSync, renameSync, rmSync, writeSync, fsyncSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { makeDirs } from '../make-dirs.ts';

export interface SnapshotInfo {
  path: string;
  bytes: number;
  sha256: string;
  /** Store revision when the snapshot began (etcd 3.4 sends no header in the stream itself). */
  revision: string;
  /** The member it came from (its client URL). */
  from: string;
}

/**
 * The longest a whole snapshot may stream. Its real limit is `stallMs`: a big store through a slow
 * link (IAP from a hosted runner) may take minutes, but bytes must keep coming.
 */
const SNAPSHOT_LIMIT_MS = 60 * 60_000;

/** `deadline` (epoch ms): the run's own end; the stream is cut there whatever its pace. */
export async function writeSnapshot(
  client: Etcd3,
  from: string,
  path: string,
  stallMs: number,
  deadline = Infinity,
): Promise<SnapshotInfo> {
  if (Date.now() >= deadline) throw new Error(`etcd snapshot from ${from} not started: the run's timeout has passed`);
  makeDirs(dirname(path), 0o700);
  const partial = `${path}.partial`;
  const fd = openSync(partial, 'w', 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  let revision: string;
  try {
    const status = await client.maintenance.status({ deadline: Math.min(Date.now() + stallMs, deadline) });
    revision = String(status.header.revision);
    const stream = await client.maintenance.snapshot({ deadline: Math.min(Date.now() + SNAPSHOT_LIMIT_MS, deadline) });
    await new Promise<void>((resolve, reject) => {
      let watchdog: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        if (err) reject(err);
        else resolve();
      };
      const watch = (): void => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          settle(new Error(`the stream stalled: no bytes for ${Math.round(stallMs / 1000)} s after ${bytes}`));
          // The stream is a grpc call underneath: cancelling it frees the member's side too.
          (stream as unknown as { cancel?: () => void }).cancel?.();
        }, stallMs);
      };
      watch();
      stream.on('data', (chunk: { header?: { revision?: string }; blob?: Buffer }) => {
        // A chunk already on its way when the stall ended the wait must not touch the closed file.
        if (settled) return;
        watch();
        if (chunk.header?.revision && chunk.header.revision !== '0') revision = String(chunk.header.revision);
        if (chunk.blob && chunk.blob.length > 0) {
          writeSync(fd, chunk.blob);
          hash.update(chunk.blob);
          bytes += chunk.blob.length;
        }
      });
      stream.on('error', (err) => settle(err));
      stream.on('end', () => settle());
    });
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(partial, { force: true });
    throw new Error(`etcd snapshot from ${from} failed: ${(err as Error).message}`, { cause: err });
  }
  closeSync(fd);
  if (bytes === 0) {
    rmSync(partial, { force: true });
    throw new Error(`etcd snapshot from ${from} was empty`);
  }
  renameSync(partial, path);
  return { path, bytes, sha256: hash.digest('hex'), revision, from };
}
