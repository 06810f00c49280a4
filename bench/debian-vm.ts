// How fast does a master boot, and how much memory does it take, on the emulator's Debian VMs?
// The engine runs `up` (one master) against the Debian runtime, as in the integration tests; the
// figures come from the emulator's request log, the VM's own journal and /proc:
//  - insert -> etcd ready: from the emulator's answer to the instance insert to etcd's "ready to
//    serve client requests" in the VM's journal (both wall-clock, one kernel); the same to the
//    apiserver's "Serving securely";
//  - engine: the run's own steps createReplica + setMemberCerts + waitReady, which also hold the
//    engine's key and certificate work before the insert and its 1 s readiness poll;
//  - script: the start-up script's own run, first console line to `ok` (kernel timestamps);
//  - memory: PSS summed over every process in the VM's PID namespace, and the distinct resident
//    pages of those processes (bench/vm-memory.ts says why both).
// Other agents may share the machine: each run prints the load average before it. The stand-ins
// start from the compile cache every VM shares (emulator/vm/image.ts), warm from the first VM on
// after a change of their code; that first VM compiles them (~0.5 s of CPU per process).
//
//   node bench/debian-vm.ts [--runs 3]
import { loadavg } from 'node:os';
import { readdirSync, readlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEngineWorld, PROJECT } from '../__tests__/support/engine-world.ts';
import type { EngineWorld } from '../__tests__/support/engine-world.ts';
import { intent as baseIntent } from '../__tests__/support/cluster-builder.ts';
import { debianRuntimeSupport } from '../emulator/vm/support.ts';
import { DEFAULT_IMAGE_CACHE } from '../emulator/vm/image.ts';
import { distinctResidentMb, processMemory } from './vm-memory.ts';

/** Issue 7's targets. */
const TARGET_READY_MS = 3000;
const TARGET_MEMORY_MB = 120;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
const support = debianRuntimeSupport(DEFAULT_IMAGE_CACHE);
if (!support.ok) {
  console.log(`debian-vm bench skipped: the emulator's Debian VMs cannot run here (${support.why})`);
  process.exit(0);
}

const KEY = 'europe-west1-b/kubernetes-master';

/** Every process that shares the PID namespace of `initPid` (the VM's systemd). */
function processesOfVm(initPid: number): number[] {
  const ns = readlinkSync(`/proc/${initPid}/ns/pid`);
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/pid`) === ns;
      } catch {
        return false;
      }
    });
}

/** The VM's PID 1: among the runtime's processes, the one in a PID namespace of its own. */
function vmInit(world: EngineWorld): number {
  const own = readlinkSync('/proc/self/ns/pid');
  const init = world.debian!.pids().find((pid) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/pid`) !== own;
    } catch {
      return false;
    }
  });
  if (init === undefined) throw new Error("the VM's systemd was not found");
  return init;
}

/** Seconds between the script's first console line and its `ok` (the kernel's timestamps). */
function scriptSeconds(serial: string): number | undefined {
  const stamps = serial
    .split(/\r?\n/)
    .filter((l) => l.includes('ha-masters-startup:'))
    .map((l) => ({ t: Number(/\[\s*([\d.]+)\]/.exec(l)?.[1]), ok: /ha-masters-startup: ok\s*$/.test(l) }));
  const ok = stamps.find((s) => s.ok);
  return ok && stamps[0] ? ok.t - stamps[0].t : undefined;
}

/** Journal messages that mark a boot's steps. */
const MILESTONES: [string, string][] = [
  ['journal', 'Journal started'],
  ['script', 'ha-masters-startup: reading metadata'],
  ['units', 'ha-masters-startup: writing and starting systemd units'],
  ['etcd started', 'Started ha-etcd.service'],
  ['script ok', 'ha-masters-startup: ok'],
  ['etcd ready', 'ready to serve client requests'],
  ['apiserver serving', 'Serving securely on'],
  ['leases', 'successfully acquired lease'],
];

/** Wall-clock ms of the first journal message of the VM that contains `text`. */
function journalTime(entries: { at: number; message: string }[], text: string): number | undefined {
  return entries.find((e) => e.message.includes(text))?.at;
}

async function journal(world: EngineWorld): Promise<{ at: number; message: string }[]> {
  const out = await world.debian!.exec(KEY, ['journalctl', '--no-pager', '-o', 'json', '--output-fields=MESSAGE']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { __REALTIME_TIMESTAMP: string; MESSAGE?: unknown })
    .map((e) => ({ at: Number(e.__REALTIME_TIMESTAMP) / 1000, message: typeof e.MESSAGE === 'string' ? e.MESSAGE : '' }));
}

/** Wall-clock ms at which the emulator answered the instance insert. */
async function insertTime(world: EngineWorld): Promise<number> {
  const log = (await world.admin('requests')) as { requests: { method: string; path: string; status: number; time: string }[] };
  const insert = log.requests.find((r) => r.method === 'POST' && /\/zones\/[^/]+\/instances$/.test(r.path) && r.status === 200);
  if (!insert) throw new Error('no instance insert in the emulator request log');
  return Date.parse(insert.time);
}

interface Row {
  etcdMs: number;
  apiserverMs: number;
  engineMs: number;
  scriptS: number;
  pssMb: number;
  distinctMb: number;
  rssMb: number;
}

const rows: Row[] = [];
for (let run = 1; run <= RUNS; run++) {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const world = await startEngineWorld({ vmRuntime: 'debian' });
  try {
    const report = await world.run(baseIntent({ project: PROJECT, requestId: `bench${run}`, zone: 'europe-west1-b' }));
    const engineMs = report.steps
      .filter((s) => ['createReplica', 'setMemberCerts', 'waitReady'].includes(s.step.kind))
      .reduce((sum, s) => sum + s.ms, 0);
    const inserted = await insertTime(world);
    // Let the control plane settle (leader election, first lease renewals) before reading memory.
    await new Promise((r) => setTimeout(r, 5000));
    const entries = await journal(world);
    const etcdAt = journalTime(entries, 'ready to serve client requests');
    const apiserverAt = journalTime(entries, 'Serving securely on');
    if (etcdAt === undefined || apiserverAt === undefined) throw new Error('the VM journal lacks etcd or apiserver readiness');
    // Where the time goes: the VM's milestones, ms after the insert.
    const milestones = MILESTONES.map(([label, text]) => {
      const at = journalTime(entries, text);
      return `${label} ${at === undefined ? '?' : Math.round(at - inserted)}`;
    });
    const pids = processesOfVm(vmInit(world));
    const each = processMemory(pids).sort((a, b) => b.pssKb - a.pssKb);
    const row: Row = {
      etcdMs: Math.round(etcdAt - inserted),
      apiserverMs: Math.round(apiserverAt - inserted),
      engineMs,
      scriptS: scriptSeconds(world.debian!.serialOutput(KEY).toString()) ?? NaN,
      pssMb: each.reduce((sum, p) => sum + p.pssKb, 0) / 1024,
      distinctMb: distinctResidentMb(pids),
      rssMb: each.reduce((sum, p) => sum + p.rssKb, 0) / 1024,
    };
    rows.push(row);
    // Where the memory goes, largest first: what to slim next.
    console.log(
      `run ${run} (load average before: ${load}): PSS by process: ${each.map((e) => `${e.name} ${(e.pssKb / 1024).toFixed(0)}`).join(', ')}`,
    );
    console.log(`run ${run}: ms after the insert: ${milestones.join(', ')}`);
    console.log(
      `run ${run}: insert -> etcd ready ${row.etcdMs} ms, -> apiserver serving ${row.apiserverMs} ms, engine saw ready after ${engineMs} ms, script ${row.scriptS.toFixed(2)} s; ` +
        `${pids.length} processes, PSS ${row.pssMb.toFixed(0)} MB, distinct resident ${row.distinctMb.toFixed(0)} MB, RSS ${row.rssMb.toFixed(0)} MB`,
    );
  } finally {
    await world.stop();
  }
}

const median = (pick: (r: Row) => number): number => {
  const xs = rows.map(pick).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)]!;
};
const verdict = (value: number, target: number): string => (value <= target ? 'met' : 'NOT met');
console.log(
  `median of ${RUNS}: insert -> etcd ready ${median((r) => r.etcdMs)} ms (target ${TARGET_READY_MS} ms: ${verdict(
    median((r) => r.etcdMs),
    TARGET_READY_MS,
  )}), ` +
    `-> apiserver serving ${median((r) => r.apiserverMs)} ms, engine saw ready after ${median((r) => r.engineMs)} ms (its 1 s poll), script ${median((r) => r.scriptS).toFixed(2)} s; ` +
    `PSS ${median((r) => r.pssMb).toFixed(0)} MB per master VM (target ${TARGET_MEMORY_MB} MB: ${verdict(
      median((r) => r.pssMb),
      TARGET_MEMORY_MB,
    )}), ` +
    `distinct resident ${median((r) => r.distinctMb).toFixed(0)} MB (host-independent; against the same target: ${verdict(
      median((r) => r.distinctMb),
      TARGET_MEMORY_MB,
    )}), RSS ${median((r) => r.rssMb).toFixed(0)} MB; ` +
    `load average now ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
