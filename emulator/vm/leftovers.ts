// What one emulator's Debian runtime holds on the host, written down as it goes, so that the next
// emulator start can undo what a crashed one left: processes (by PID and start time, so a reused
// PID is never hit), mounts under its run directory, loop devices over its disk files, and its
// network namespaces. Lives under /run/ha-masters-emulator/<id>/ (tmpfs: gone at reboot anyway).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deleteNamespace, listNamespaces } from './netns.ts';
import { detachDisk, loopDevicesUnder } from './data-disk.ts';
import { runTolerant } from './sh.ts';

export const RUN_ROOT = '/run/ha-masters-emulator';

interface Owner {
  pid: number;
  pidStart: string;
  stateDir: string;
  namespacePrefix: string;
}

interface Tracked {
  pid: number;
  start: string;
}

function startTimeOf(pid: number): string | undefined {
  try {
    // Field 22 (starttime), after the parenthesised command name, which may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const alive = (t: Tracked): boolean => startTimeOf(t.pid) === t.start;

export class HostLedger {
  readonly dir: string;
  private readonly pidsFile: string;
  private readonly tracked = new Map<number, Tracked>();

  constructor(id: string, stateDir: string, namespacePrefix: string) {
    this.dir = join(RUN_ROOT, id);
    this.pidsFile = join(this.dir, 'pids.json');
    mkdirSync(this.dir, { recursive: true });
    const owner: Owner = { pid: process.pid, pidStart: startTimeOf(process.pid) ?? '', stateDir, namespacePrefix };
    writeFileSync(join(this.dir, 'owner.json'), JSON.stringify(owner));
    this.save();
  }

  track(pid: number | undefined): void {
    const start = pid === undefined ? undefined : startTimeOf(pid);
    if (pid === undefined || start === undefined) return;
    this.tracked.set(pid, { pid, start });
    this.save();
  }

  untrack(pid: number | undefined): void {
    if (pid !== undefined && this.tracked.delete(pid)) this.save();
  }

  private save(): void {
    writeFileSync(this.pidsFile, JSON.stringify([...this.tracked.values()]));
  }

  /** After a clean stop: nothing is left to undo. */
  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Undoes what emulators that are no longer running left behind (their owner PID is gone), this
 * emulator's own directory included when a crashed run with the same state dir left it.
 */
export async function sweepLeftovers(log: (line: string) => void): Promise<void> {
  if (!existsSync(RUN_ROOT)) return;
  for (const id of readdirSync(RUN_ROOT)) {
    const dir = join(RUN_ROOT, id);
    let owner: Owner | undefined;
    try {
      owner = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as Owner;
    } catch {
      owner = undefined;
    }
    if (owner && alive({ pid: owner.pid, start: owner.pidStart })) continue;
    log(`cleaning up after an emulator that did not stop cleanly (${dir})`);
    let tracked: Tracked[];
    try {
      tracked = JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8')) as Tracked[];
    } catch {
      tracked = [];
    }
    for (const t of tracked) {
      if (!alive(t)) continue;
      try {
        process.kill(t.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 200));
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(`${dir}/`));
    for (const m of mounts.sort().reverse()) await runTolerant(['umount', '--lazy', m], /not mounted|no mount point/i);
    if (owner) {
      for (const loop of await loopDevicesUnder(join(owner.stateDir, 'disks'))) await detachDisk(loop);
      for (const ns of listNamespaces(owner.namespacePrefix)) await deleteNamespace(ns);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
