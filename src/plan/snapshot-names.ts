// The names of a cluster's etcd snapshots, `<master>-<UTC time>.db` (kubernetes-master-20261203T150405Z.db),
// and which of them `etcd-snapshot-keep` lets go. Pure: the engine lists and deletes (snapshot-store.ts).

/** The snapshot of cluster `master` taken at `at` (an ISO time): second precision, sorts by time. */
export function snapshotName(master: string, at: string): string {
  return `${master}-${at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.db`;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `name` is one of cluster `master`'s snapshots (not another cluster's whose name begins alike, nor a user's file). */
export function isSnapshotOf(master: string, name: string): boolean {
  return new RegExp(`^${escapeRegExp(master)}-\\d{8}T\\d{6}Z\\.db$`).test(name);
}

/** The snapshots of `master` among `names` beyond the newest `keep`, oldest last. */
export function snapshotsBeyond(master: string, names: string[], keep: number): string[] {
  return names
    .filter((n) => isSnapshotOf(master, n))
    .sort()
    .reverse()
    .slice(keep);
}
