// startEmulator: the Compute Engine emulator in-process. Serves on loopback, keeps its state in
// `stateDir`, and hands the world to the VM runtime after every change (and once at start, so a
// restart on the same state dir runs the RUNNING VMs again). Beside the Compute API it serves the
// runner's metadata server (credentials) and IAP's TCP-forwarding relay (emulator/iap/).
import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { EmulatorContext } from './context.ts';
import type { VmRuntime } from './runtime/types.ts';
import type { RequestLogEntry } from './admin.ts';
import { ResourceStore } from './store/store.ts';
import { MetaStore } from './store/meta.ts';
import { IpAllocator } from './ips.ts';
import { Operations } from './operations.ts';
import { Faults } from './faults.ts';
import { computeWorld } from './world.ts';
import { createHandler, secretManagerDeps, storageDeps, type ServerDeps } from './http/server.ts';
import { vmObjectReader } from './storage/vm-access.ts';
import { createVmRuntime } from './runtime/index.ts';
import { createDebianRuntime } from './vm/runtime.ts';
import { DEFAULT_IMAGE_CACHE, ensureImage } from './vm/image.ts';
import { debianRuntimeSupport } from './vm/support.ts';
import { startReleaseMirror } from './vm/mirror.ts';
import { AccessTokens } from './iap/tokens.ts';
import { SecretStore } from './secretmanager/store.ts';
import { SecretManagerService } from './secretmanager/service.ts';
import { StorageService } from './storage/service.ts';
import { vmSecretReader } from './secretmanager/vm-access.ts';
import type { VmObjectRead, VmSecretRead } from './runtime/types.ts';
import { startIapRelay } from './iap/relay.ts';
import type { IapRelay } from './iap/relay.ts';
import type { ReleaseMirror } from './vm/mirror.ts';
import { join } from 'node:path';

/**
 * How VMs run: `debian` boots real Debian 12 machines (systemd-nspawn, one network namespace per
 * VPC) that run the instance's start-up script; `process` runs the master contract as host
 * processes on loopback addresses; `auto` takes `debian` where the host allows it.
 */
export type VmRuntimeKind = 'debian' | 'process' | 'auto';

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  stateDir: string;
  /** The VM runtime; default: the real one from emulator/runtime/index.ts. */
  runtime?: VmRuntime;
  /** Default operation latency in ms (PENDING -> RUNNING at a third, DONE at the end). */
  defaultOperationLatencyMs?: number;
  /** Latency per operationType (`insert`, `delete`, `setMetadata`, ...). */
  operationLatencyMs?: Record<string, number>;
  /** Longest time one `operations.wait` call blocks (GCE: about 2 minutes; default 2 s). */
  waitTimeoutMs?: number;
  /** ms before a new or changed forwarding rule carries traffic (adjustable at run time). */
  lbProgrammingDelayMs?: number;
  /** Identity lease renew interval handed to the runtime. */
  leaseRenewIntervalMs?: number;
  etcdBinary?: string;
  /** Which VM runtime to use when `runtime` is not given (default `auto`: debian where the host allows it). */
  vmRuntime?: VmRuntimeKind;
  /** Where the Debian image is cached (default /var/cache/ha-masters-emulator). */
  imageCache?: string;
  /** The runner's project, as its metadata server tells Google's libraries (default `emulator-project`). */
  runnerProject?: string;
  /** How long the IAP relay waits for a VM's port to accept (default 5000 ms; then close 4003). */
  iapConnectTimeoutMs?: number;
  /** How long an IAP session without a WebSocket waits for a reconnect (default 60 s). */
  iapResumeWindowMs?: number;
  /** Log every request and response body. */
  debug?: boolean;
  log?: (line: string) => void;
  /** Called for a crash fault instead of exiting (in-process tests); default: kill VMs and exit(70). */
  onCrash?: (why: string) => void;
}

export interface RunningEmulator {
  url: string;
  port: number;
  host: string;
  stateDir: string;
  runtime: VmRuntime;
  ctx: EmulatorContext;
  /** The release manifest the VMs' binaries come from (Debian runtime): the `release-manifest` input. */
  releaseManifestUrl?: string;
  /** The IAP relay, `wss://127.0.0.1:PORT` (gcloud's --iap-tunnel-url-override). */
  iapRelayUrl: string;
  /** The CA file a client trusts the relay with (`<stateDir>/iap/ca.pem`). */
  iapCaFile: string;
  /** Resolves once the runtime has been given the latest world. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  const host = opts.host ?? '127.0.0.1';
  if (!host.startsWith('127.')) throw new Error(`the emulator listens on loopback only, not ${host}`);
  const log = opts.log ?? ((line: string) => process.stderr.write(`[emulator] ${line}\n`));
  mkdirSync(opts.stateDir, { recursive: true });
  const runnerProject = opts.runnerProject ?? 'emulator-project';
  const runnerEmail = `ha-masters-runner@${runnerProject}.iam.gserviceaccount.com`;
  // One issuer for the runner's tokens and the VMs' (their metadata servers), checked by the IAP relay and Secret Manager.
  const tokens = new AccessTokens(opts.stateDir, runnerEmail);
  // Process-runtime VMs read secrets in-process through the API, bound once it is built (below).
  let vmRead: VmSecretRead | undefined;
  const readSecret: VmSecretRead = (version, account) => (vmRead ? vmRead(version, account) : Promise.resolve({ status: 503 }));
  let vmObjectRead: VmObjectRead | undefined;
  const readObject: VmObjectRead = (...args) => (vmObjectRead ? vmObjectRead(...args) : Promise.resolve({ status: 503 }));
  const { runtime, mirror } = opts.runtime
    ? { runtime: opts.runtime, mirror: undefined }
    : await chooseRuntime(opts, tokens, { readSecret, readObject }, log);

  let applying: Promise<void> | undefined;
  let dirty = false;
  const ops = new Operations({
    defaultLatencyMs: opts.defaultOperationLatencyMs ?? 100,
    latencyMs: { ...(opts.operationLatencyMs ?? {}) },
    waitTimeoutMs: opts.waitTimeoutMs ?? 2000,
  });
  const meta = new MetaStore(opts.stateDir);
  const ctx: EmulatorContext = {
    store: new ResourceStore(opts.stateDir),
    meta,
    ips: new IpAllocator(meta),
    ops,
    faults: new Faults(opts.lbProgrammingDelayMs ?? 0),
    runtime,
    ...(mirror ? { mirror } : {}),
    runner: { project: runnerProject, email: runnerEmail, tokens },
    stateDir: opts.stateDir,
    log,
    worldChanged() {
      dirty = true;
      if (!applying) applying = applyLoop();
    },
  };
  async function applyLoop(): Promise<void> {
    while (dirty) {
      dirty = false;
      try {
        await runtime.apply(computeWorld(ctx));
      } catch (e) {
        log(`runtime.apply failed: ${(e as Error).stack ?? e}`);
      }
    }
    applying = undefined;
  }
  ops.attach(ctx);
  let iap: IapRelay;
  try {
    iap = await startIapRelay({
      ctx,
      tokens: ctx.runner.tokens,
      faults: ctx.faults.iap,
      host,
      stateDir: opts.stateDir,
      ...(opts.iapConnectTimeoutMs !== undefined ? { connectTimeoutMs: opts.iapConnectTimeoutMs } : {}),
      ...(opts.iapResumeWindowMs !== undefined ? { resumeWindowMs: opts.iapResumeWindowMs } : {}),
    });
  } catch (e) {
    await runtime.stop();
    await mirror?.close();
    throw e;
  }
  ctx.iap = iap;
  log(`IAP relay at ${iap.url} (CA: ${iap.caFile})`);

  const requests: RequestLogEntry[] = [];
  let baseUrl = '';
  const crash = (why: string): never => {
    log(why);
    if (opts.onCrash) {
      opts.onCrash(why);
      throw new Error(why);
    }
    for (const pid of runtime.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    process.exit(70);
  };
  const serverDeps: ServerDeps = {
    ctx,
    baseUrl: () => baseUrl,
    requests,
    secrets: new SecretManagerService(new SecretStore(opts.stateDir)),
    storage: new StorageService(opts.stateDir),
    debug: opts.debug ?? false,
    crash,
  };
  vmRead = vmSecretReader(secretManagerDeps(serverDeps), tokens);
  vmObjectRead = vmObjectReader(storageDeps(serverDeps), tokens);
  const server: Server = createServer(createHandler(serverDeps));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  }).catch(async (e: unknown) => {
    await iap.close();
    throw e;
  });
  const port = (server.address() as AddressInfo).port;
  // A runner inside an emulated VPC reaches the same API there (Debian runtime).
  (runtime as { exposeApi?: (s: Server) => void }).exposeApi?.(server);
  baseUrl = `http://${host}:${port}`;

  ops.resumeAll();
  ctx.worldChanged();

  let stopped: Promise<void> | undefined;
  return {
    url: baseUrl,
    port,
    host,
    stateDir: opts.stateDir,
    runtime,
    ctx,
    ...(mirror ? { releaseManifestUrl: mirror.manifestUrl } : {}),
    iapRelayUrl: iap.url,
    iapCaFile: iap.caFile,
    async settled() {
      while (applying) await applying;
    },
    stop() {
      stopped ??= (async () => {
        ops.stop();
        await iap.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        while (applying) await applying;
        await runtime.stop();
        await mirror?.close();
      })();
      return stopped;
    },
  };
}

async function chooseRuntime(
  opts: EmulatorOptions,
  tokens: AccessTokens,
  reads: { readSecret: VmSecretRead; readObject: VmObjectRead },
  log: (line: string) => void,
): Promise<{ runtime: VmRuntime; mirror?: ReleaseMirror }> {
  const kind = opts.vmRuntime ?? 'auto';
  const imageCache = opts.imageCache ?? DEFAULT_IMAGE_CACHE;
  if (kind !== 'process') {
    const support = debianRuntimeSupport(imageCache);
    if (support.ok) {
      const image = await ensureImage(imageCache, log);
      const why = kind === 'auto' ? 'this host allows it: root, namespaces, overlayfs, nft' : 'asked for';
      log(`VM runtime: debian (${why}; Debian 12 machines from ${image.dir}, booted with systemd-nspawn)`);
      const etcd = opts.etcdBinary ?? '/usr/bin/etcd';
      const mirror = await startReleaseMirror({
        dir: join(opts.stateDir, 'mirror'),
        etcdBinary: etcd,
        etcdctlBinary: join(etcd, '../etcdctl'),
        log,
      });
      return { runtime: await createDebianRuntime({ stateDir: opts.stateDir, image, log, tokens, mirror: mirror.handle }), mirror };
    }
    if (kind === 'debian') throw new Error(`the debian VM runtime cannot run here: ${support.why}`);
    log(`VM runtime: process (debian is not possible here: ${support.why})`);
  } else {
    log('VM runtime: process (asked for; master VMs are host processes on loopback addresses, --vm-runtime debian boots Debian machines)');
  }
  return {
    runtime: createVmRuntime({
      stateDir: opts.stateDir,
      // The emulator adds its own (adjustable) delay to each rule's changedAt; see world.ts.
      lbProgrammingDelayMs: 0,
      leaseRenewIntervalMs: opts.leaseRenewIntervalMs ?? 10_000,
      etcdBinary: opts.etcdBinary ?? 'etcd',
      ...reads,
      log,
    }),
  };
}

export { createNullRuntime } from './null-runtime.ts';
