// `etcd-snapshot-dir` is checked before the run writes anything: the directory is created and a
// probe file written and removed, so a directory that cannot hold the snapshot refuses the run
// up front instead of failing it between two membership changes.
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { InputProblem } from '../errors.ts';
import { errorMessage } from '../errors.ts';
import { makeDirs } from '../make-dirs.ts';

/** The snapshot holds every secret of the cluster: only the runner's user may read the directory. */
export const SNAPSHOT_DIR_MODE = 0o700;

/** Why `dir` cannot hold a snapshot, or undefined when it can (it then exists). */
export function snapshotDirProblem(dir: string): InputProblem | undefined {
  const full = resolve(dir);
  const probe = join(full, `.ha-masters-probe-${process.pid}`);
  try {
    makeDirs(full, SNAPSHOT_DIR_MODE);
    writeFileSync(probe, 'probe', { mode: 0o600 });
  } catch (err) {
    return {
      input: 'etcd-snapshot-dir',
      problem: `${JSON.stringify(dir)} cannot hold the etcd snapshot: creating it and writing a file in it failed (${errorMessage(err)}).`,
      fix: 'give a directory the runner can create and write, such as ${{ runner.temp }}/etcd-backups, or leave etcd-snapshot-dir empty to go on without a backup.',
    };
  } finally {
    rmSync(probe, { force: true });
  }
  return undefined;
}
