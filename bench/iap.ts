// What does IAP cost against a direct connection? Side by side on the same master's real etcd
// (the emulator's process runtime, in its own process so the relay does not share this event loop):
//  - an etcd membership call (the admin's observe: member list + status), warm client, alternating
//    direct and IAP, median of N each; and a cold one (a new client, so a new tunnel and TLS);
//  - a snapshot of a ~100 MB store, alternating, throughput of each.
// Targets (issue 8): a membership call through IAP at most 2x the direct one; a 100 MB snapshot
// through IAP at least half the direct throughput.
//
//   node bench/iap.ts [--calls 30] [--snapshots 2] [--mb 100]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { computeClients } from '../__tests__/emulator/support/compute.ts';
import { setIapRule, singleMaster } from '../__tests__/support/iap-world.ts';
import { createComputeApi } from '../src/gce/client.ts';
import { createEtcdAdmin } from '../src/etcd/admin.ts';
import { DirectTransport } from '../src/etcd/transport.ts';
import { createReach } from '../src/reach.ts';
import type { EtcdAdmin, EtcdTransport } from '../src/etcd/types.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '30' },
    snapshots: { type: 'string', default: '2' },
    mb: { type: 'string', default: '100' },
  },
});
const CALLS = Number(values.calls);
const SNAPSHOTS = Number(values.snapshots);
const MB = Number(values.mb);
const project = 'bench-iap';
const zone = 'europe-west1-b';
const dir = mkdtempSync(join(tmpdir(), 'bench-iap-'));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// The machine is shared: a figure means little without how busy it was (1-minute load average).
const load = (): string => loadavg()[0]!.toFixed(1);
const loadAtStart = load();

/** The emulator CLI as its own process; resolves with its API port and relay once it listens. */
async function startEmulatorProcess(): Promise<{ port: number; relay: string; ca: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['emulator/cli.ts', '--state-dir', join(dir, 'state'), '--vm-runtime', 'process', '--latency-ms', '20'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let relay = '',
    ca = '';
  for await (const line of createInterface({ input: child.stdout! })) {
    const iap = /^IAP relay at (\S+) \(CA: (.+)\)$/.exec(line);
    if (iap) [relay, ca] = [iap[1]!, iap[2]!];
    const listening = /^listening on http:\/\/[\d.]+:(\d+)$/.exec(line);
    if (listening) {
      return {
        port: Number(listening[1]),
        relay,
        ca,
        stop: () =>
          new Promise((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    }
  }
  throw new Error('the emulator exited before it listened');
}

const emulator = await startEmulatorProcess();
process.env.GCE_METADATA_HOST = `127.0.0.1:${emulator.port}`;
const gce = computeClients(emulator.port);
const compute = createComputeApi({ project, endpoint: `http://127.0.0.1:${emulator.port}` });
try {
  const { ip, pki } = await singleMaster(gce, project, zone, 'kubernetes-master');
  await setIapRule(gce, project, 'kubernetes-master-iap', ['2379', '443']);
  const url = `https://${ip}:2379`;
  const tls = { ca: pki.etcdCa.cert, cert: pki.etcdClient.cert, key: pki.etcdClient.key };
  const reach = createReach({
    kind: 'iap',
    compute,
    master: 'kubernetes-master',
    network: 'default',
    iapFirewall: 'kubernetes-master-iap',
    iapEndpoint: emulator.relay,
    iapCa: readFileSync(emulator.ca, 'utf8'),
    mask: () => {},
    log: () => {},
  });
  const transports: Record<'direct' | 'iap', EtcdTransport> = { direct: new DirectTransport(), iap: reach.transport };
  const admins: Record<'direct' | 'iap', EtcdAdmin> = {
    direct: createEtcdAdmin(tls, transports.direct),
    iap: createEtcdAdmin(tls, transports.iap),
  };
  for (let i = 0; i < 60 && !(await admins.direct.observe([url])).reachable; i++) await new Promise((r) => setTimeout(r, 500));

  const timed = async (f: () => Promise<unknown>): Promise<number> => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const warm = { direct: [] as number[], iap: [] as number[] };
  const cold = { direct: [] as number[], iap: [] as number[] };
  for (let i = 0; i < CALLS; i++) {
    for (const kind of ['direct', 'iap'] as const) {
      warm[kind].push(
        await timed(async () => {
          if (!(await admins[kind].observe([url])).reachable) throw new Error(`${kind}: unreachable`);
        }),
      );
      const fresh = createEtcdAdmin(tls, transports[kind]);
      cold[kind].push(await timed(() => fresh.observe([url])));
      await fresh.close();
    }
  }

  const filler = new Etcd3({
    hosts: url,
    credentials: { rootCertificate: Buffer.from(tls.ca), certChain: Buffer.from(tls.cert), privateKey: Buffer.from(tls.key) },
  });
  for (let i = 0; i < MB; i++)
    await filler
      .put(`blob-${i}`)
      .value(randomBytes(1024 * 1024))
      .exec();
  filler.close();
  const rate = { direct: [] as number[], iap: [] as number[] };
  let bytes = 0;
  for (let i = 0; i < SNAPSHOTS; i++) {
    for (const kind of ['direct', 'iap'] as const) {
      const file = join(dir, `${kind}-${i}.db`);
      let info: { bytes: number } | undefined;
      const ms = await timed(async () => {
        info = await admins[kind].snapshot([url], file);
      });
      bytes = info!.bytes;
      rate[kind].push(bytes / 1e6 / (ms / 1000));
      rmSync(file);
    }
  }
  for (const a of Object.values(admins)) await a.close();
  await reach.close();

  const fmt = (x: number) => x.toFixed(1);
  const warmRatio = median(warm.iap) / median(warm.direct);
  const coldRatio = median(cold.iap) / median(cold.direct);
  const rateRatio = median(rate.iap) / median(rate.direct);
  console.log(
    `IAP vs direct (emulator relay in its own process, process-runtime etcd, ${CALLS} calls and ${SNAPSHOTS} snapshots each, alternating):`,
  );
  console.log(
    `  membership call, warm client: direct ${fmt(median(warm.direct))} ms, IAP ${fmt(median(warm.iap))} ms, ratio ${warmRatio.toFixed(2)} (target <= 2)`,
  );
  console.log(
    `  membership call, new client (new tunnel, TLS handshake): direct ${fmt(median(cold.direct))} ms, IAP ${fmt(median(cold.iap))} ms, ratio ${coldRatio.toFixed(2)}`,
  );
  console.log(
    `  snapshot of ${fmt(bytes / 1e6)} MB: direct ${fmt(median(rate.direct))} MB/s, IAP ${fmt(median(rate.iap))} MB/s, ratio ${rateRatio.toFixed(2)} (target >= 0.5)`,
  );
  console.log(`  each snapshot, MB/s: direct ${rate.direct.map(fmt).join(', ')}; IAP ${rate.iap.map(fmt).join(', ')}`);
  console.log(`  load average (1 min, ${cpus().length} cores): ${loadAtStart} at the start, ${load()} at the end`);
} finally {
  await compute.close();
  await gce.close();
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
}
