// A world for integration tests: the emulator (with real etcd VMs) and the engine's real
// dependencies pointed at it. Nothing here is a fake: the Compute client, etcd client and
// apiserver probe are the ones main.ts uses.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { emulatorAdmin } from './emulator-admin.ts';
import { createComputeApi } from '../../src/gce/client.ts';
import type { ComputeApiHandle } from '../../src/gce/client.ts';
import type { InstanceInfo } from '../../src/gce/types.ts';
import { createEtcdAdmin } from '../../src/etcd/admin.ts';
import { TunnelTransport } from '../../src/etcd/tunnel-transport.ts';
import { createReach } from '../../src/reach.ts';
import type { Reach } from '../../src/reach.ts';
import type { DebianRuntime } from '../../emulator/vm/runtime.ts';
import { loadReleaseManifest } from '../../src/release/load.ts';
import type { ReleaseManifest } from '../../src/release/manifest.ts';
import { probeReadyz } from '../../src/kube/apiserver.ts';
import { DEFAULT_LIMITS } from '../../src/engine/deps.ts';
import { KeyStore } from '../../src/engine/key-store.ts';
import { storedKeysOf } from '../../src/engine/secrets.ts';
import type { ClusterSecrets } from '../../src/engine/secrets.ts';
import { createSecretManager } from '../../src/secrets/client.ts';
import { adcTokenSource } from '../../src/auth/adc.ts';
import type { EngineDeps } from '../../src/engine/deps.ts';
import { planEngine, runEngine } from '../../src/engine/run.ts';
import type { RunOptions } from '../../src/engine/run.ts';
import { clusterNames, DEFAULT_INSTANCE_PREFIX } from '../../src/model.ts';
import type { Intent, RunReport, TransportKind } from '../../src/model.ts';
import { allowSelfHostedRunner } from '../../scripts/runner-firewall.ts';
import { debianRuntimeSupport } from '../../emulator/vm/support.ts';
import { DEFAULT_IMAGE_CACHE } from '../../emulator/vm/image.ts';

export const PROJECT = 'ha-test';

export interface EngineWorld {
  url: string;
  /** Debian runtime: the emulator's release manifest (runs use it when their intent names none). */
  release?: ReleaseManifest;
  /** How the engine reaches the replicas (see WorldReach). */
  reach: WorldReach;
  /** Where the test process dials an etcd client URL: itself, or a tunnel into the VPC. */
  dialUrl(clientUrl: string): Promise<string>;
  /** Debian runtime: the emulator's runtime, to look inside VMs. */
  debian?: DebianRuntime;
  stateDir: string;
  compute: ComputeApiHandle;
  logs: string[];
  run(intent: Intent, options?: RunOptions): Promise<RunReport>;
  /** The same emulator with other engine limits (logs go to the same list). */
  withLimits(limits: Partial<EngineDeps['limits']>): EngineWorld;
  /** A dry run: observe and project the plan, write nothing. */
  dryRun(intent: Intent): Promise<RunReport>;
  /** Runs with the real dependencies passed through `wrap` (e.g. to stop the run after a write). */
  runWith(intent: Intent, wrap: (deps: EngineDeps) => EngineDeps): Promise<RunReport>;
  /** REST calls the emulator served since the last reset that changed something. */
  writes(): Promise<{ method: string; path: string; status: number }[]>;
  resetRequests(): Promise<void>;
  admin(path: string, body?: unknown): Promise<unknown>;
  /** The cluster's keys as the engine reads them (certificates from metadata, keys from Secret Manager). */
  secrets(): Promise<{ secrets: ClusterSecrets; vms: InstanceInfo[] }>;
  /** The engine's own key store (Secret Manager on the emulator, the runner's identity). */
  keys: KeyStore;
  /** The GCE project this world's engine works in, and the instance prefix of its cluster. */
  project: string;
  instancePrefix: string;
  /**
   * Another project on the same emulator, with its own Compute and Secret Manager clients, reach
   * and logs: a cluster of its own, for tests that drive several clusters at once (intents must
   * name the project and the prefix; the prefix must differ between them too, as the emulator's VM
   * runtime tells VMs apart by zone and name). Its `resetRequests` only marks where its `writes`
   * start (the emulator's log is shared: the first world's `resetRequests` clears it for all), and
   * its `writes` are the calls to its own project. `stop` closes its clients, not the emulator.
   */
  inProject(project: string, instancePrefix: string): Promise<EngineWorld>;
  stop(): Promise<void>;
}

/**
 * The action's integration tests run on Debian VMs wherever the host allows it (HA_TEST_VM_RUNTIME
 * =process forces the loopback processes); elsewhere they say loudly that they ran on processes.
 */
function defaultVmRuntime(): 'debian' | 'process' {
  const asked = process.env.HA_TEST_VM_RUNTIME;
  if (asked === 'debian' || asked === 'process') return asked;
  const debianSupport = debianRuntimeSupport(DEFAULT_IMAGE_CACHE);
  if (debianSupport.ok) return 'debian';
  console.warn(`engine tests run on the process VM runtime: Debian VMs are not possible here (${debianSupport.why})`);
  return 'process';
}

/**
 * How the engine reaches the replicas:
 *  - `iap` (default on Debian VMs, whose VPC the test process cannot route to): through the
 *    emulator's IAP relay, with a token from Application Default Credentials (the emulator plays
 *    the runner's metadata server), as on a GitHub-hosted runner;
 *  - `inside-vpc` (Debian VMs): as a self-hosted runner in the VPC, through the VPC's gateway (a
 *    TunnelTransport) and with the firewall rule such a runner's owner adds;
 *  - `direct` (process VMs, which listen on this machine's loopback addresses).
 */
export type WorldReach = 'iap' | 'inside-vpc' | 'direct';

export async function startEngineWorld(
  opts: {
    lbProgrammingDelayMs?: number;
    lockWaitMs?: number;
    /** How long each GCE operation takes (the emulator's default when not given: 100 ms). */
    operationLatencyMs?: number;
    vmRuntime?: 'debian' | 'process';
    reach?: WorldReach;
    emulatorLog?: string[];
  } = {},
): Promise<EngineWorld> {
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-world-'));
  const emulatorLog = opts.emulatorLog;
  const vmRuntime = opts.vmRuntime ?? defaultVmRuntime();
  const emulator = await startEmulator({
    port: 0,
    stateDir,
    lbProgrammingDelayMs: opts.lbProgrammingDelayMs ?? 300,
    ...(opts.operationLatencyMs !== undefined ? { defaultOperationLatencyMs: opts.operationLatencyMs } : {}),
    vmRuntime,
    log: emulatorLog ? (l) => emulatorLog.push(l) : () => {},
  });
  try {
    // Application Default Credentials find the emulator as the runner's metadata server (Secret
    // Manager and the IAP relay take its tokens).
    process.env.GCE_METADATA_HOST = `${emulator.host}:${emulator.port}`;
    const release = emulator.releaseManifestUrl ? await loadReleaseManifest(emulator.releaseManifestUrl) : undefined;
    const base = { emulator, stateDir, vmRuntime, release, opts };
    const world = await worldOn(base, PROJECT, DEFAULT_INSTANCE_PREFIX, false);
    return {
      ...world,
      stop: async () => {
        await world.stop();
        await emulator.stop();
        rmSync(stateDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    // A world that could not be set up must not leave its VMs running (jest would wait on them).
    await emulator.stop().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
    throw e;
  }
}

/** What every project's world on one emulator shares. */
interface WorldBase {
  emulator: RunningEmulator;
  stateDir: string;
  vmRuntime: 'debian' | 'process';
  release: ReleaseManifest | undefined;
  opts: Parameters<typeof startEngineWorld>[0] & {};
}

/** The engine's world in `project` on the base's emulator; `shared`: other worlds use the emulator's request log too. */
async function worldOn(base: WorldBase, project: string, instancePrefix: string, shared: boolean): Promise<EngineWorld> {
  const { emulator, stateDir, vmRuntime, release, opts } = base;
  const compute = createComputeApi({ project, endpoint: emulator.url });
  const logs: string[] = [];
  const debian = vmRuntime === 'debian' ? (emulator.runtime as DebianRuntime) : undefined;
  const reachKind: WorldReach = opts.reach ?? (process.env.HA_TEST_REACH as WorldReach | undefined) ?? (debian ? 'iap' : 'direct');
  if (reachKind === 'inside-vpc' && !debian) throw new Error('inside-vpc needs the debian VM runtime');
  const master = clusterNames(instancePrefix).master;
  const reach = await worldReach(reachKind, emulator, compute, logs, debian, project, instancePrefix);
  const transportKind: TransportKind = reachKind === 'iap' ? 'iap' : 'direct';
  const keys = new KeyStore(
    createSecretManager({ project, endpoint: emulator.url, token: adcTokenSource(() => {}), log: (l) => logs.push(l) }),
    () => {},
  );
  const deps: EngineDeps = {
    compute,
    keys,
    etcd: (tls) => createEtcdAdmin(tls, reach.transport, { log: (l) => logs.push(l) }),
    probeReadyz: reach.probeReadyz,
    reachProblem: reach.problem,
    sawReplicas: (vms) => reach.learn(vms),
    log: (l) => logs.push(l),
    mask: () => {},
    now: () => new Date(),
    limits: { ...DEFAULT_LIMITS, readyTimeoutMs: 90_000, runTimeoutMs: 240_000, lockWaitMs: opts.lockWaitMs ?? 120_000 },
  };
  const admin = emulatorAdmin(emulator.url);
  // Debian VMs download their release from the emulator's mirror (the pinned one is out of reach);
  // a run through IAP says so in its intent (the plan keeps the IAP firewall rule for it).
  const withRelease = (intent: Intent): Intent => ({
    ...intent,
    ...(release && !intent.release ? { release } : {}),
    ...(intent.transport ? {} : { transport: transportKind }),
  });
  const withDeps = (d: EngineDeps): Pick<EngineWorld, 'run' | 'dryRun' | 'runWith' | 'withLimits'> => ({
    run: (intent, options) => runEngine(withRelease(intent), d, options),
    dryRun: (intent) => planEngine(withRelease(intent), d),
    runWith: (intent, wrap) => runEngine(withRelease(intent), wrap(d)),
    withLimits: (limits) => ({ ...world, ...withDeps({ ...d, limits: { ...d.limits, ...limits } }) }),
  });
  // Where this world's requests start in the emulator's log (0: the log was last reset by this world).
  let mark = 0;
  const requestLog = async () => ((await admin('requests')) as { requests: { method: string; path: string; status: number }[] }).requests;
  const world: EngineWorld = {
    url: emulator.url,
    stateDir,
    project,
    instancePrefix,
    compute,
    logs,
    ...(release ? { release } : {}),
    ...(debian ? { debian } : {}),
    ...withDeps(deps),
    reach: reachKind,
    dialUrl: async (url) => reach.transport.dialUrl(url),
    writes: async () =>
      (await requestLog())
        .slice(mark)
        .filter(
          (r) =>
            r.method !== 'GET' &&
            !/\/operations\/[^/]+\/wait$/.test(r.path) &&
            !r.path.endsWith(':getIamPolicy') &&
            /^\/(compute\/)?v1\//.test(r.path) &&
            (!shared || r.path.includes(`/projects/${project}/`)),
        ),
    resetRequests: async () => {
      if (shared) mark = (await requestLog()).length;
      else await admin('reset-requests', {});
    },
    admin,
    keys,
    secrets: async () => {
      const vms = await compute.listInstances(master);
      const stored = vms.map(storedKeysOf).find((x) => x !== undefined);
      if (!stored) throw new Error('no replica carries the cluster certificates');
      return { secrets: await keys.load(stored), vms };
    },
    inProject: (other, prefix) => worldOn(base, other, prefix, true),
    stop: async () => {
      await compute.close();
      await reach.close();
    },
  };
  return world;
}

/** The engine's way to the replicas for one world (see WorldReach). */
async function worldReach(
  kind: WorldReach,
  emulator: RunningEmulator,
  compute: ComputeApiHandle,
  logs: string[],
  debian: DebianRuntime | undefined,
  project: string,
  instancePrefix: string,
): Promise<Reach> {
  const names = clusterNames(instancePrefix);
  if (kind === 'iap') {
    const reach = createReach({
      kind: 'iap',
      compute,
      master: names.master,
      network: 'default',
      iapFirewall: names.firewallIap,
      iapEndpoint: emulator.iapRelayUrl,
      iapCa: readFileSync(emulator.iapCaFile, 'utf8'),
      mask: () => {},
      log: (l) => logs.push(l),
    });
    await reach.preflight();
    return reach;
  }
  if (kind === 'direct')
    return createReach({
      kind: 'direct',
      compute,
      master: names.master,
      network: 'default',
      iapFirewall: names.firewallIap,
      mask: () => {},
      log: (l) => logs.push(l),
    });
  // Inside the VPC: a self-hosted runner reaches etcd because its owner allowed it (the VPC enforces firewall rules).
  await allowSelfHostedRunner(emulator.url, project);
  const tunnel = new TunnelTransport((host, port) => debian!.dial('default', host, port, 'runner'));
  return {
    transport: tunnel,
    probeReadyz: async (url, ca, ms, tls) => probeReadyz(await tunnel.localUrl(url), ca, ms, tls),
    problem: async () => undefined,
    preflight: async () => {},
    learn: () => {},
    close: () => tunnel.close(),
  };
}
