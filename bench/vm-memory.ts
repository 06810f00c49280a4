// What a VM's processes hold in memory, two ways (root: /proc/<pid>/pagemap shows frame numbers):
//  - PSS summed over the processes: each shared page split among all its mappers. The Node binary
//    is bind-mounted from the host, so host Node processes (the emulator, other test runs) take a
//    share of its pages too and the VM's figure falls as the host runs more Node.
//  - distinct resident pages: every physical page any of the VM's processes maps, counted once, as
//    a real VM's own RAM would have to hold them; it does not depend on what the host runs.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

const PAGE = 4096;
const PRESENT = 1n << 63n;
const PFN_MASK = (1n << 55n) - 1n;
const CHUNK_PAGES = 65536;
const chunk = Buffer.alloc(CHUNK_PAGES * 8);

export interface ProcessMemory {
  pid: number;
  name: string;
  pssKb: number;
  rssKb: number;
}

/** A field of /proc/<pid>/smaps_rollup or status, in kB; 0 when the process is gone. */
function procKb(pid: number, file: 'status' | 'smaps_rollup', field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

export function processMemory(pids: number[]): ProcessMemory[] {
  return pids.map((pid) => ({ pid, name: comm(pid), pssKb: procKb(pid, 'smaps_rollup', 'Pss'), rssKb: procKb(pid, 'status', 'VmRSS') }));
}

/** Adds the frame number of every resident page of `pid` to `frames` (mappings with Rss > 0 only). */
function addResidentFrames(pid: number, frames: Set<bigint>): void {
  let smaps: string;
  let fd: number;
  try {
    smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    fd = openSync(`/proc/${pid}/pagemap`, 'r');
  } catch {
    return; // gone
  }
  try {
    let range: [number, number] | undefined;
    for (const line of smaps.split('\n')) {
      const head = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
      if (head) {
        range = [parseInt(head[1]!, 16), parseInt(head[2]!, 16)];
        continue;
      }
      if (!range || !line.startsWith('Rss:') || / 0 kB$/.test(line)) continue;
      // In chunks: a mapping can be gigabytes of address space (V8's and WebAssembly's reservations).
      for (let page = range[0] / PAGE; page < range[1] / PAGE; page += CHUNK_PAGES) {
        const count = Math.min(CHUNK_PAGES, range[1] / PAGE - page);
        const read = readSync(fd, chunk, 0, count * 8, page * 8);
        for (let i = 0; i < read / 8; i++) {
          const entry = chunk.readBigUInt64LE(i * 8);
          if (entry & PRESENT) frames.add(entry & PFN_MASK);
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** MB of distinct physical pages mapped by any of `pids`. */
export function distinctResidentMb(pids: number[]): number {
  const frames = new Set<bigint>();
  for (const pid of pids) addResidentFrames(pid, frames);
  return (frames.size * PAGE) / 1024 / 1024;
}
