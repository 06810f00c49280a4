// Creates a directory and its missing parents, one level at a time. Node's own
// `mkdir(..., { recursive: true })` never returns where mkdir answers ENOENT under a parent that
// exists (any path under /proc): it spins at full CPU, out of reach of every timeout.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Like `mkdir -p`; throws the first failure (ENOENT, EACCES, EROFS, ENOTDIR...) instead of looping. */
export function makeDirs(path: string, mode: number): void {
  const missing: string[] = [];
  // Bounded by the path's depth: each turn moves one level up, and `/` is its own parent.
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const kind = kindOf(dir);
    if (kind === 'directory') break;
    if (kind === 'other') throw new Error(`${dir} exists and is not a directory`);
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode });
    } catch (err) {
      // Another process made it in between: as good as made here.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && kindOf(dir) === 'directory') continue;
      throw err;
    }
  }
}

function kindOf(path: string): 'directory' | 'other' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}
