// How long is the API unreachable on the cluster's static IP while it moves from the first master
// to the load balancer (1 -> 2 replicas)? ha-masters against kube-up's order, side by side on the
// same emulator settings, alternating runs; reports each run and the ratio of medians.
//
//   node bench/lb-downtime.ts [--runs 3] [--op-latency-ms 300] [--lb-delay-ms 1500]
//
// kube-up's create-loadbalancer (cluster/gce/util.sh), replayed here with the same Compute client:
// take the static IP off the master (delete the access config, add an ephemeral one), create the
// target pool, add the master to it, create the forwarding rule; then the replica is added. ha-masters
// builds the replica and the pool first, and only then detaches the IP and creates the rule.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulator } from '../emulator/index.ts';
import { createComputeApi } from '../src/gce/client.ts';
import type { ComputeApiHandle } from '../src/gce/client.ts';
import { createEtcdAdmin } from '../src/etcd/admin.ts';
import { DirectTransport } from '../src/etcd/transport.ts';
import { probeReadyz } from '../src/kube/apiserver.ts';
import { DEFAULT_LIMITS } from '../src/engine/deps.ts';
import type { EngineDeps } from '../src/engine/deps.ts';
import { runEngine } from '../src/engine/run.ts';
import { storedKeysOf } from '../src/engine/secrets.ts';
import { KeyStore } from '../src/engine/key-store.ts';
import { createSecretManager } from '../src/secrets/client.ts';
import { adcTokenSource } from '../src/auth/adc.ts';
import type { Intent } from '../src/model.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'op-latency-ms': { type: 'string', default: '300' },
    'lb-delay-ms': { type: 'string', default: '1500' },
  },
});
const RUNS = Number(values.runs);
const OP_MS = Number(values['op-latency-ms']);
const LB_MS = Number(values['lb-delay-ms']);
const PROJECT = 'bench';
const B = 'europe-west1-b',
  C = 'europe-west1-c';

function intent(over: Partial<Intent>): Intent {
  return {
    operation: 'up',
    project: PROJECT,
    multizone: true,
    quorumRead: false,
    replicate: false,
    deleteNodes: true,
    instancePrefix: 'kubernetes',
    zones: [],
    allowEvenReplicas: false,
    requestId: `bench${Math.random().toString(16).slice(2, 10)}`,
    machineType: 'e2-standard-2',
    image: 'projects/debian-cloud/global/images/family/debian-12',
    network: 'default',
    dataDiskSizeGb: 20,
    ...over,
  };
}

/** Probes https://ip/readyz every 20 ms; returns the longest stretch without a 200. */
function startProber(ip: string, ca: string) {
  let stop = false;
  let lastOk = Date.now();
  let longest = 0;
  const loop = (async () => {
    while (!stop) {
      const r = await probeReadyz(`https://${ip}:443`, ca, 500, { serverName: 'kubernetes' });
      const now = Date.now();
      if (r.ready) {
        longest = Math.max(longest, now - lastOk);
        lastOk = now;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  return async () => {
    stop = true;
    await loop;
    return longest;
  };
}

async function oneRun(order: 'ha-masters' | 'kube-up'): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-lb-'));
  const emulator = await startEmulator({
    port: 0,
    stateDir: dir,
    defaultOperationLatencyMs: OP_MS,
    lbProgrammingDelayMs: LB_MS,
    vmRuntime: 'process',
    log: () => {},
  });
  const compute: ComputeApiHandle = createComputeApi({ project: PROJECT, endpoint: emulator.url, pollIntervalMs: 50 });
  const transport = new DirectTransport();
  process.env.GCE_METADATA_HOST = `127.0.0.1:${emulator.port}`;
  const keys = new KeyStore(createSecretManager({ project: PROJECT, endpoint: emulator.url, token: adcTokenSource(() => {}) }), () => {});
  const deps: EngineDeps = {
    compute,
    keys,
    etcd: (tls) => createEtcdAdmin(tls, transport),
    probeReadyz,
    log: () => {},
    mask: () => {},
    now: () => new Date(),
    limits: { ...DEFAULT_LIMITS, readyTimeoutMs: 120_000 },
  };
  try {
    const first = await runEngine(intent({ zone: B }), deps);
    const ip = first.state.address!.ip;
    const vm = (await compute.getInstance(B, 'kubernetes-master'))!;
    const ca = (await keys.load(storedKeysOf(vm)!)).apiCa.cert;
    const region = 'europe-west1';
    const stopProber = startProber(ip, ca);
    await new Promise((r) => setTimeout(r, 300));
    if (order === 'kube-up') {
      const ac = vm.accessConfigs[0]!;
      await compute.deleteAccessConfig(B, vm.name, ac.name);
      await compute.addAccessConfig(B, vm.name, ac.name);
      await compute.insertTargetPool(region, 'kubernetes-master', [], [compute.httpHealthCheckLink('kubernetes-master-hc')]);
      await compute.addTargetPoolInstance(region, 'kubernetes-master', compute.instanceLink(B, vm.name));
      await compute.insertForwardingRule(region, 'kubernetes-master', ip, compute.targetPoolLink(region, 'kubernetes-master'), '443-443');
    }
    await runEngine(intent({ zone: C, replicate: true }), deps);
    // Wait until the endpoint answers through the rule, then stop probing.
    for (let i = 0; i < 400 && !(await probeReadyz(`https://${ip}:443`, ca, 500, { serverName: 'kubernetes' })).ready; i++)
      await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 200));
    return await stopProber();
  } finally {
    await compute.close();
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ours: number[] = [];
const theirs: number[] = [];
console.log(`operation latency ${OP_MS} ms, load-balancer programming delay ${LB_MS} ms, ${RUNS} runs each, alternating`);
for (let i = 0; i < RUNS; i++) {
  theirs.push(await oneRun('kube-up'));
  ours.push(await oneRun('ha-masters'));
  console.log(`run ${i + 1}: kube-up order ${theirs.at(-1)} ms unreachable, ha-masters ${ours.at(-1)} ms`);
}
console.log(
  `median unreachable: kube-up order ${median(theirs)} ms, ha-masters ${median(ours)} ms; ratio ha-masters/kube-up = ${(median(ours) / median(theirs)).toFixed(2)}`,
);
