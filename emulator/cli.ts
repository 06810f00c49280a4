// `npm run emulator -- --port 0 --state-dir DIR [--host 127.0.0.1] [--latency-ms 100]
//   [--latency insert=300] [--wait-timeout-ms 2000] [--lb-delay-ms 0] [--fail 'POST:regex:503[:nth]']
//   [--crash-after 'POST:regex'] [--no-vms] [--vm-runtime process|debian|auto] [--image-cache DIR] [--debug]`
// Prints `IAP relay at wss://127.0.0.1:PORT (CA: FILE)` and `listening on http://127.0.0.1:PORT` once it
// serves; SIGINT/SIGTERM stop every process it started.
import { parseArgs } from 'node:util';
import { startEmulator } from './index.ts';
import { createNullRuntime } from './null-runtime.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'state-dir': { type: 'string' },
    'latency-ms': { type: 'string' },
    latency: { type: 'string', multiple: true },
    'wait-timeout-ms': { type: 'string' },
    'lb-delay-ms': { type: 'string' },
    fail: { type: 'string', multiple: true },
    'crash-after': { type: 'string' },
    'crash-before': { type: 'string' },
    'no-vms': { type: 'boolean', default: false },
    'vm-runtime': { type: 'string', default: 'auto' },
    'image-cache': { type: 'string' },
    debug: { type: 'boolean', default: false },
  },
});

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: emulator --state-dir DIR [--port 0] [--host 127.0.0.1] [--latency-ms N] [--latency TYPE=MS]... [--wait-timeout-ms N] [--lb-delay-ms N] [--fail METHOD:PATH_REGEX:STATUS[:NTH]]... [--crash-after METHOD:PATH_REGEX] [--crash-before METHOD:PATH_REGEX] [--no-vms] [--vm-runtime process|debian|auto] [--image-cache DIR] [--debug]\n`,
  );
  process.exit(2);
}

/** `METHOD:REGEX` -> parts; the regex may itself contain ':'. */
function methodAndRest(spec: string): [string, string] {
  const i = spec.indexOf(':');
  if (i < 0) usage(`bad spec '${spec}'`);
  return [spec.slice(0, i).toUpperCase(), spec.slice(i + 1)];
}

const stateDir = values['state-dir'] ?? usage('--state-dir is required');
const vmRuntime = values['vm-runtime'];
if (vmRuntime !== 'debian' && vmRuntime !== 'process' && vmRuntime !== 'auto')
  usage(`bad --vm-runtime '${vmRuntime}' (want debian, process or auto)`);
const latency: Record<string, number> = {};
for (const l of values.latency ?? []) {
  const [type, ms] = l.split('=');
  if (!type || !ms || Number.isNaN(Number(ms))) usage(`bad --latency '${l}' (want TYPE=MS)`);
  latency[type] = Number(ms);
}

const emulator = await startEmulator({
  port: Number(values.port),
  host: values.host,
  stateDir,
  ...(values['no-vms'] ? { runtime: createNullRuntime() } : {}),
  vmRuntime,
  ...(values['image-cache'] ? { imageCache: values['image-cache'] } : {}),
  ...(values['latency-ms'] ? { defaultOperationLatencyMs: Number(values['latency-ms']) } : {}),
  operationLatencyMs: latency,
  ...(values['wait-timeout-ms'] ? { waitTimeoutMs: Number(values['wait-timeout-ms']) } : {}),
  ...(values['lb-delay-ms'] ? { lbProgrammingDelayMs: Number(values['lb-delay-ms']) } : {}),
  debug: values.debug,
});

for (const f of values.fail ?? []) {
  const [method, rest] = methodAndRest(f);
  const m = /^(.*):(\d{3})(?::(\d+))?$/.exec(rest);
  if (!m) usage(`bad --fail '${f}' (want METHOD:PATH_REGEX:STATUS[:NTH])`);
  emulator.ctx.faults.addHttpFailure({ method, path: m[1] as string, status: Number(m[2]), nth: Number(m[3] ?? 1) });
}
for (const [flag, when] of [
  ['crash-after', 'afterWrite'],
  ['crash-before', 'beforeWrite'],
] as const) {
  const spec = values[flag];
  if (spec) {
    const [method, path] = methodAndRest(spec);
    emulator.ctx.faults.crash = { method, path, when };
  }
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`[emulator] ${signal}: stopping\n`);
  await emulator.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

if (emulator.releaseManifestUrl) process.stdout.write(`release manifest at ${emulator.releaseManifestUrl}\n`);
process.stdout.write(`IAP relay at ${emulator.iapRelayUrl} (CA: ${emulator.iapCaFile})\n`);
process.stdout.write(`listening on ${emulator.url}\n`);
