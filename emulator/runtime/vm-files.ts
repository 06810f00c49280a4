// Per-VM files (certificates, logs) under <stateDir>/vms/<zone>/<name>/, private to root as on a VM.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function vmDirOf(stateDir: string, zone: string, name: string): string {
  const dir = join(stateDir, 'vms', zone, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export function writePrivateFile(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  // writeFileSync keeps the mode of an existing file.
  chmodSync(path, 0o600);
}
