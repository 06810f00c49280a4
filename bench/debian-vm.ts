// How fast does a master boot, and how much memory does it take, on the emulator's Debian VMs?
// The engine runs `up` (one master) against the Debian runtime, as in the integration tests; the
// figures are read from the run's own step timings, the VM's serial console and /proc:
//  - insert -> ready: from the VM's insert to a healthy etcd voter with a ready apiserver (the
//    createReplica, setMemberCerts and waitReady steps);
//  - script: the start-up script's own run, first console line to `ok` (kernel timestamps);
//  - memory: PSS and RSS summed over every process in the VM's PID namespace.
// Targets (issue 7): ready etcd within 3 s of boot, at most 120 MB per master VM.
//
//   node bench/debian-vm.ts [--runs 3]
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEngineWorld, PROJECT } from '../__tests__/support/engine-world.ts';
import { intent as baseIntent } from '../__tests__/support/cluster-builder.ts';
import { debianRuntimeSupport } from '../emulator/vm/support.ts';
import { DEFAULT_IMAGE_CACHE } from '../emulator/vm/image.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
const support = debianRuntimeSupport(DEFAULT_IMAGE_CACHE);
if (!support.ok) {
  console.log(`debian-vm bench skipped: the emulator's Debian VMs cannot run here (${support.why})`);
  process.exit(0);
}

/** kB of a /proc status field (VmRSS) or smaps_rollup field (Pss) of one process, 0 when gone. */
function procKb(pid: number, file: 'status' | 'smaps_rollup', field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

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

/** Seconds between the script's first console line and its `ok` (the kernel's timestamps). */
function scriptSeconds(serial: string): number | undefined {
  const stamps = serial
    .split(/\r?\n/)
    .filter((l) => l.includes('ha-masters-startup:'))
    .map((l) => ({ t: Number(/\[\s*([\d.]+)\]/.exec(l)?.[1]), ok: /ha-masters-startup: ok\s*$/.test(l) }));
  const ok = stamps.find((s) => s.ok);
  return ok && stamps[0] ? ok.t - stamps[0].t : undefined;
}

const rows: { readyMs: number; scriptS: number | undefined; pssMb: number; rssMb: number; processes: number }[] = [];
for (let run = 1; run <= RUNS; run++) {
  const world = await startEngineWorld({ vmRuntime: 'debian' });
  try {
    const report = await world.run(baseIntent({ project: PROJECT, requestId: `bench${run}`, zone: 'europe-west1-b' }));
    const readyMs = report.steps
      .filter((s) => ['createReplica', 'setMemberCerts', 'waitReady'].includes(s.step.kind))
      .reduce((sum, s) => sum + s.ms, 0);
    const key = 'europe-west1-b/kubernetes-master';
    // Let the control plane settle (leader election, first lease renewals) before reading memory.
    await new Promise((r) => setTimeout(r, 5000));
    const initPid = world.debian!.pids().find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'systemd';
      } catch {
        return false;
      }
    });
    if (initPid === undefined) throw new Error("the VM's systemd was not found");
    const pids = processesOfVm(initPid);
    const pssMb = pids.reduce((sum, pid) => sum + procKb(pid, 'smaps_rollup', 'Pss'), 0) / 1024;
    const rssMb = pids.reduce((sum, pid) => sum + procKb(pid, 'status', 'VmRSS'), 0) / 1024;
    const scriptS = scriptSeconds(world.debian!.serialOutput(key).toString());
    rows.push({ readyMs, scriptS, pssMb, rssMb, processes: pids.length });
    // Where the memory goes, largest first: what to slim next.
    const comm = (pid: number) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        return '?';
      }
    };
    const each = pids.map((pid) => ({ name: comm(pid), mb: procKb(pid, 'smaps_rollup', 'Pss') / 1024 })).sort((a, b) => b.mb - a.mb);
    console.log(`run ${run}: PSS by process: ${each.map((e) => `${e.name} ${e.mb.toFixed(0)}`).join(', ')}`);
    console.log(
      `run ${run}: insert -> ready ${readyMs} ms, script ${scriptS?.toFixed(2) ?? '?'} s, ${pids.length} processes, PSS ${pssMb.toFixed(0)} MB, RSS ${rssMb.toFixed(0)} MB`,
    );
  } finally {
    await world.stop();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `median of ${RUNS}: insert -> ready ${median(rows.map((r) => r.readyMs))} ms; script ${median(rows.map((r) => r.scriptS ?? NaN)).toFixed(2)} s (target: ready etcd within 3 s of boot); PSS ${median(rows.map((r) => r.pssMb)).toFixed(0)} MB, RSS ${median(rows.map((r) => r.rssMb)).toFixed(0)} MB per master VM (target: 120 MB)`,
);
