// Snapshot names and etcd-snapshot-keep's choice (src/plan/snapshot-names.ts): second-precision UTC
// names that sort by time; only this cluster's snapshots are ever chosen for deletion.
import { describe, expect, it } from '@jest/globals';
import { isSnapshotOf, snapshotName, snapshotsBeyond } from '../../src/plan/snapshot-names.ts';

describe('snapshot names', () => {
  it('names a snapshot after the cluster and the observation time, in UTC to the second', () => {
    expect(snapshotName('kubernetes-master', '2026-12-03T15:04:05.678Z')).toBe('kubernetes-master-20261203T150405Z.db');
  });

  it("recognises only this cluster's snapshots, not another cluster's whose name begins alike, nor other files", () => {
    expect(isSnapshotOf('kubernetes-master', 'kubernetes-master-20261203T150405Z.db')).toBe(true);
    expect(isSnapshotOf('kubernetes-master', 'kubernetes-master-x-master-20261203T150405Z.db')).toBe(false);
    expect(isSnapshotOf('pr-7-master', 'pr-7-master-20261203T150405Z.db.partial')).toBe(false);
    expect(isSnapshotOf('a.b-master', 'aXb-master-20261203T150405Z.db')).toBe(false); // the dot is not a wildcard
    expect(isSnapshotOf('kubernetes-master', 'notes.db')).toBe(false);
  });

  it('chooses the snapshots beyond the newest `keep`, newest first among them', () => {
    const names = [
      'kubernetes-master-20261201T000000Z.db',
      'kubernetes-master-20261203T000000Z.db',
      'notes.db',
      'kubernetes-master-20261202T000000Z.db',
      'other-master-20200101T000000Z.db',
    ];
    expect(snapshotsBeyond('kubernetes-master', names, 1)).toEqual([
      'kubernetes-master-20261202T000000Z.db',
      'kubernetes-master-20261201T000000Z.db',
    ]);
    expect(snapshotsBeyond('kubernetes-master', names, 3)).toEqual([]);
  });
});
