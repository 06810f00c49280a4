// A full etcd snapshot (Maintenance.Snapshot stream) written to a file before a membership change,
// so that a change that goes wrong can be undone by `etcdctl snapshot restore`. kops' etcd-manager
// backs up before every change; Cluster API does not. The file holds every secret of the cluster:
// it is created 0600, and only renamed into place once complete.
import { createHash } from 'node:crypto';
import { mkdirSync, openSync, closeSync, renameSync, rmSync, writeSync, fsyncSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Etcd3 } from 'etcd3';

export interface SnapshotInfo {
  path: string;
  bytes: number;
  sha256: string;
  /** Store revision when the snapshot began (etcd 3.4 sends no header in the stream itself). */
  revision: string;
  /** The member it came from (its client URL). */
  from: string;
}

export async function writeSnapshot(client: Etcd3, from: string, path: string, timeoutMs: number): Promise<SnapshotInfo> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const partial = `${path}.partial`;
  const fd = openSync(partial, 'w', 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  let revision = '';
  try {
    const status = await client.maintenance.status({ deadline: Date.now() + timeoutMs });
    revision = String(status.header.revision);
    const stream = await client.maintenance.snapshot({ deadline: Date.now() + timeoutMs });
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: { header?: { revision?: string }; blob?: Buffer }) => {
        if (chunk.header?.revision && chunk.header.revision !== '0') revision = String(chunk.header.revision);
        if (chunk.blob && chunk.blob.length > 0) {
          writeSync(fd, chunk.blob);
          hash.update(chunk.blob);
          bytes += chunk.blob.length;
        }
      });
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(partial, { force: true });
    throw new Error(`etcd snapshot from ${from} failed: ${(err as Error).message}`);
  }
  closeSync(fd);
  if (bytes === 0) {
    rmSync(partial, { force: true });
    throw new Error(`etcd snapshot from ${from} was empty`);
  }
  renameSync(partial, path);
  return { path, bytes, sha256: hash.digest('hex'), revision, from };
}
