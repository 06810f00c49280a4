// Child program for runtime-exit.test.ts, run directly by Node 24 (type stripping, no jest): it
// starts the runtime on the world in argv[2], prints its etcd PID once one runs, then exits
// abruptly without stop(). The runtime's exit hook must take its etcd down with it.
import { readFileSync } from 'node:fs';
import { createVmRuntime } from '../../emulator/runtime/index.ts';
import type { RuntimeOptions, RuntimeWorld } from '../../emulator/runtime/types.ts';

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { world: RuntimeWorld; options: Omit<RuntimeOptions, 'log'> };
const runtime = createVmRuntime({ ...input.options, log: (line) => process.stderr.write(`${line}\n`) });
await runtime.apply(input.world);
const started = Date.now();
while (runtime.pids().length === 0 && Date.now() - started < 15_000) await new Promise((r) => setTimeout(r, 50));
process.stdout.write(`${runtime.pids().join(',')}\n`);
process.exit(0);
