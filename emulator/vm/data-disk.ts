// A persistent disk as a block device: a sparse file of the disk's size under the disk's own
// directory (so it lives and dies with the disk resource), attached to a loop device while its VM
// runs. The VM sees it at /dev/disk/by-id/google-<device name>, unformatted until it formats it.
import { closeSync, existsSync, mkdirSync, openSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { run, runTolerant } from './sh.ts';

export const diskImagePath = (diskDir: string): string => join(diskDir, 'disk.img');

export async function attachDisk(diskDir: string, sizeGb: number): Promise<string> {
  mkdirSync(diskDir, { recursive: true });
  const file = diskImagePath(diskDir);
  if (!existsSync(file)) {
    const fd = openSync(file, 'w');
    ftruncateSync(fd, sizeGb * 1024 ** 3);
    closeSync(fd);
  }
  return (await run(['losetup', '--find', '--show', file])).trim();
}

export async function detachDisk(loopDevice: string): Promise<void> {
  await runTolerant(['losetup', '--detach', loopDevice], /No such device|not found|No such file/i);
}

/** Loop devices backed by files under `dir` (what a crashed emulator left attached). */
export async function loopDevicesUnder(dir: string): Promise<string[]> {
  const out = await run(['losetup', '--list', '--noheadings', '--output', 'NAME,BACK-FILE']);
  const devices: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+(.*?)(?: \(deleted\))?\s*$/.exec(line.trim());
    if (m && (m[2] as string).startsWith(`${dir}/`)) devices.push(m[1] as string);
  }
  return devices;
}
