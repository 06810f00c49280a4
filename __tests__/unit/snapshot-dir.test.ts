// etcd-snapshot-dir: checked by creating it and writing a probe file; and no directory, however
// broken (mkdir answers ENOENT under /proc, where Node's recursive mkdir spins forever), makes the
// snapshot writer hang.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { snapshotDirProblem } from '../../src/engine/snapshot-dir.ts';
import { makeDirs } from '../../src/make-dirs.ts';
import { writeSnapshot } from '../../src/etcd/snapshot.ts';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ha-snapdir-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('makeDirs', () => {
  it('creates missing parents 0700 and accepts a directory that exists', () => {
    const path = join(dir, 'a', 'b', 'c');
    makeDirs(path, 0o700);
    makeDirs(path, 0o700);
    expect(statSync(path).isDirectory()).toBe(true);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o700);
  });

  it('throws where mkdir fails instead of looping: under /proc, or under a file', () => {
    expect(() => makeDirs('/proc/ha-masters-test/x', 0o700)).toThrow(/ENOENT.*\/proc\/ha-masters-test/);
    writeFileSync(join(dir, 'file'), '');
    expect(() => makeDirs(join(dir, 'file', 'x'), 0o700)).toThrow(/exists and is not a directory/);
  });
});

describe('snapshotDirProblem', () => {
  it('creates a writable directory and leaves no probe file in it', () => {
    const path = join(dir, 'backups', 'new');
    expect(snapshotDirProblem(path)).toBeUndefined();
    expect(readdirSync(path)).toEqual([]);
  });

  it('refuses one that cannot be created, saying why and how to fix it', () => {
    expect(snapshotDirProblem('/proc/ha-masters-test/backups')).toEqual({
      input: 'etcd-snapshot-dir',
      problem: expect.stringMatching(/^"\/proc\/ha-masters-test\/backups" cannot hold the etcd snapshot: .*ENOENT/),
      fix: expect.stringContaining('leave etcd-snapshot-dir empty'),
    });
    expect(existsSync('/proc/ha-masters-test')).toBe(false);
  });
});

describe('writeSnapshot', () => {
  it("does not start once the run's deadline has passed", async () => {
    await expect(writeSnapshot({} as Etcd3, 'https://10.0.0.1:2379', join(dir, 's.db'), 1000, Date.now() - 1)).rejects.toThrow(
      /timeout has passed/,
    );
  });

  // In a child process: a writer that spins would block this one's event loop, and the test with it.
  it('fails, instead of spinning, on a directory under /proc', async () => {
    const script = `
      import { writeSnapshot } from ${JSON.stringify(join(root, 'src/etcd/snapshot.ts'))};
      writeSnapshot({}, 'https://10.0.0.1:2379', '/proc/ha-masters-test/x/s.db', 1000).then(
        () => console.log('resolved'), (err) => console.log('rejected: ' + err.message));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((res) => child.on('exit', res));
    expect([code, out.trim()]).toEqual([0, expect.stringMatching(/^rejected: ENOENT.*\/proc\/ha-masters-test/)]);
  }, 60_000);
});
