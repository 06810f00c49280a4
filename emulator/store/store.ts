// Resources keyed by their path (`projects/p/zones/z/instances/n`), held in memory and, when a
// state dir is given, mirrored to `<stateDir>/resources/<path>.json` (written atomically), so a
// restarted emulator finds them again.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

export type Resource = Record<string, unknown> & { name: string };

export function writeJsonAtomic(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 1));
  renameSync(tmp, file);
}

export class ResourceStore {
  private readonly items = new Map<string, Resource>();
  private readonly root: string | undefined;

  constructor(stateDir?: string) {
    this.root = stateDir ? join(stateDir, 'resources') : undefined;
    if (this.root && existsSync(this.root)) this.load(this.root);
  }

  get<T extends Resource = Resource>(path: string): T | undefined {
    return this.items.get(path) as T | undefined;
  }

  has(path: string): boolean {
    return this.items.has(path);
  }

  put(path: string, value: Resource): void {
    this.items.set(path, value);
    if (this.root) writeJsonAtomic(this.fileOf(path), value);
  }

  delete(path: string): boolean {
    const had = this.items.delete(path);
    if (had && this.root) rmSync(this.fileOf(path), { force: true });
    return had;
  }

  /** Members of one collection (`projects/p/zones/z/instances`), sorted by name. */
  list<T extends Resource = Resource>(collectionPath: string): T[] {
    const prefix = `${collectionPath}/`;
    const out: T[] = [];
    for (const [key, value] of this.items) {
      if (key.startsWith(prefix) && !key.slice(prefix.length).includes('/')) out.push(value as T);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Every [path, resource] whose path matches, for cross-scope queries. */
  entries(match: (path: string) => boolean): Array<[string, Resource]> {
    return [...this.items].filter(([k]) => match(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Everything, for `GET /_emulator/state`. */
  dump(): Record<string, Resource> {
    return Object.fromEntries([...this.items].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  private fileOf(path: string): string {
    return join(this.root as string, `${path}.json`);
  }

  private load(dir: string): void {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) this.load(full);
      else if (entry.name.endsWith('.json')) {
        const path = relative(this.root as string, full)
          .split(sep)
          .join('/')
          .replace(/\.json$/, '');
        this.items.set(path, JSON.parse(readFileSync(full, 'utf8')) as Resource);
      }
    }
  }
}
