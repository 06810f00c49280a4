// `etcd-snapshot-keep`: after a snapshot, the cluster's older snapshots in the same place beyond the
// newest N are deleted, in a directory on the runner or under a Cloud Storage prefix. Only names of
// this cluster's snapshots are touched (plan/snapshot-names.ts); other files stay.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { StorageApi } from '../storage/client.ts';
import { objectUrl } from '../storage/object-url.ts';
import { snapshotsBeyond } from '../plan/snapshot-names.ts';

/** Deletes `master`'s snapshots beyond the newest `keep`; returns where each deleted one was. */
export type SnapshotPruner = (master: string) => Promise<string[]>;

export function directoryPruner(dir: string, keep: number): SnapshotPruner {
  return async (master) => {
    const gone = snapshotsBeyond(master, readdirSync(dir), keep).map((name) => join(dir, name));
    for (const path of gone) rmSync(path, { force: true });
    return gone;
  };
}

/** `prefix` ends with `/` or is empty (inputs.ts): the snapshots are `<prefix><name>`. */
export function bucketPruner(storage: StorageApi, target: { bucket: string; prefix: string }, keep: number): SnapshotPruner {
  return async (master) => {
    const listed = await storage.listObjects(target.bucket, `${target.prefix}${master}-`);
    const byName = new Map(listed.map((o) => [o.object.slice(target.prefix.length), o]));
    const gone: string[] = [];
    for (const name of snapshotsBeyond(master, [...byName.keys()], keep)) {
      const object = byName.get(name)!;
      // A version written since the list is newer than this run's: its delete finds nothing and skips it.
      if (await storage.deleteObject(object)) gone.push(objectUrl(object));
    }
    return gone;
  };
}
