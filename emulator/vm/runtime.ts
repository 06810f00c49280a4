// The Debian VM runtime: every RUNNING instance booted from a debian-12 image is a real Debian
// machine (machine.ts) in its network's VPC namespace (vpc.ts), with GCE's metadata server, a
// serial console and guest attributes. The host reaches VMs only through external IPs and forwarding
// rules (relayed into the VPC by its gateway), never by their internal IPs, as a GitHub-hosted
// runner would. Google's APIs answer inside every VPC: the emulator's API at API_IP:80, and over TLS
// at API_IP:443 as `secretmanager.googleapis.com` and `storage.googleapis.com` (each VM resolves
// those names there and trusts the emulator's CA). Like the process runtime, apply() is level-triggered and serialised.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { connect as connectTcp, createServer as createNetServer, Socket as NetSocket } from 'node:net';
import type { Server, Socket } from 'node:net';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimeForwardingRule, RuntimeHealthCheck, RuntimeInstance, RuntimeWorld, VmRuntime } from '../runtime/types.ts';
import { ExternalNat } from '../runtime/external-nat.ts';
import { HealthChecker } from '../runtime/health-checker.ts';
import { LoadBalancer } from '../runtime/load-balancer.ts';
import { relay } from '../runtime/tcp-proxy.ts';
import type { VpcDialer } from '../runtime/tcp-proxy.ts';
import type { VmImage } from './image.ts';
import { standinCompileCacheDir } from './image.ts';
import { Machine } from './machine.ts';
import { MetadataServer } from './metadata-server.ts';
import type { MetadataInstance } from './metadata-server.ts';
import { Vpc } from './vpc.ts';
import { readProxyHeader } from './vpc-dial.ts';
import { API_IP, hostNamesFor, REGION_SUBNETS, subnetGateway } from './names.ts';
import type { DialSource } from './names.ts';
import { firewallRuleset } from './firewall.ts';
import { HostLedger, sweepLeftovers } from './leftovers.ts';
import { run } from './sh.ts';
import type { AccessTokens } from '../iap/tokens.ts';
import { googleApisTls } from '../iap/ca.ts';
import { API_HOST_NAMES, GUEST_CA_BUNDLE, writeCaBundle } from './guest-files.ts';
import { DEFAULT_COMPILE_CACHE_DIR } from '../standins/wrappers.ts';

export interface DebianRuntimeOptions {
  stateDir: string;
  image: VmImage;
  log: (line: string) => void;
  /** Issues the VMs' tokens (their metadata server) for their service accounts. */
  tokens: AccessTokens;
  /** Answers the release mirror's requests from inside the VPCs (MIRROR_IP:80). */
  mirror?: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface DebianRuntime extends VmRuntime {
  readonly addressing: 'vpc';
  serialOutput(instanceKey: string): Buffer;
  guestAttributes(instanceKey: string): Map<string, string>;
  /**
   * Reaches an address inside a VPC from one of the emulator's sources (names.ts), through the VPC's
   * firewall. Tests: "is the runner outside?" is answered by not using this.
   */
  dial(network: string, host: string, port: number, from: DialSource): Socket;
  /** Runs a command inside a running VM (as `nsenter` into its namespaces) and returns stdout. */
  exec(instanceKey: string, argv: string[]): Promise<string>;
  /** The network namespace of a VPC, for running a process "inside the VPC". */
  vpcNamespace(network: string): string;
  /** Makes a VPC exist before any VM does (a runner inside it needs the API first); its namespace. */
  ensureVpc(network: string): Promise<string>;
  /** Serves the emulator's API inside every VPC at API_IP:80, and over TLS at API_IP:443 (Google's API host names). */
  exposeApi(server: HttpServer): void;
}

const repoRoot = resolvePath(fileURLToPath(new URL('../..', import.meta.url)));
const ETCD_UNIT = 'ha-etcd.service';

export const bootsOnDebian = (inst: RuntimeInstance): boolean =>
  /\/images\/debian-12-/.test(inst.bootImage) || /family\/debian-12$/.test(inst.bootImage);

export async function createDebianRuntime(options: DebianRuntimeOptions): Promise<DebianRuntime> {
  const { log, image } = options;
  await sweepLeftovers(log);
  const names = hostNamesFor(options.stateDir);
  const ledger = new HostLedger(names.id, resolvePath(options.stateDir), names.prefix);
  const runDir = ledger.dir;
  const metadata = new MetadataServer(options.tokens);
  // Google's API host names, served in every VPC with a certificate of the emulator's CA, which VMs trust.
  const apiTls = await googleApisTls(options.stateDir);
  const caBundle = join(runDir, 'ca-certificates.crt');
  writeCaBundle(image.rootfs, apiTls.caFile, caBundle);
  const compileCache = standinCompileCacheDir(image);
  mkdirSync(compileCache, { recursive: true });
  const vpcs = new Map<string, Vpc>();
  const machines = new Map<string, { machine: Machine; fingerprint: string }>();
  const vmNumbers = new Map<string, number>();
  const servers: Server[] = [];
  const warnedDark = new Set<string>();
  let instances = new Map<string, RuntimeInstance>();
  let nextVm = 1;
  let nextNet = 1;
  let stopped = false;
  let queue: Promise<void> = Promise.resolve();
  let apiServer: HttpServer | undefined;

  /** A VPC address with no VPC behind it fails like an unroutable one: the connection, not the caller. */
  const unreachable = (host: string, port: number, why: string): NetSocket => {
    const socket = new NetSocket();
    process.nextTick(() =>
      socket.destroy(Object.assign(new Error(`connect EHOSTUNREACH ${host}:${port} (${why})`), { code: 'EHOSTUNREACH' })),
    );
    return socket;
  };
  const dialNetwork = (network: string, host: string, port: number, from: DialSource): NetSocket =>
    vpcs.get(network)?.dial(host, port, from) ?? unreachable(host, port, `no VM of VPC ${network} runs yet`);
  const dialFrom =
    (from: DialSource): VpcDialer =>
    (target, port) =>
      dialNetwork(instances.get(target.key)?.network ?? '', target.internalIp, port, from);
  const health = new HealthChecker(dialFrom('health-check'));
  // GCE's external IPs and network load balancers pass the client's address through to the VM.
  const nat = new ExternalNat(log, dialFrom('internet'));
  const lb = new LoadBalancer({ lbProgrammingDelayMs: 0, log, health, instance: (key) => instances.get(key), dial: dialFrom('internet') });

  const metadataHttp = createHttpServer((req, res) => {
    const key = (req.socket as Socket & { vmKey?: string }).vmKey;
    metadata.handle(req, res, key).catch((e: Error) => {
      log(`metadata server: ${e.message}`);
      res.destroy();
    });
  });
  const apiHttps = createHttpsServer({ cert: apiTls.cert, key: apiTls.key }, (req, res) => {
    if (apiServer) apiServer.emit('request', req, res);
    else res.writeHead(503).end('the emulator API is not up yet\n');
  });
  const mirrorHttp = createHttpServer((req, res) => {
    if (options.mirror) options.mirror(req, res);
    else res.writeHead(404).end('no release mirror\n');
  });

  async function listenUnix(path: string, onConnection: (socket: Socket) => void): Promise<void> {
    rmSync(path, { force: true });
    const server = createNetServer(onConnection);
    servers.push(server);
    await new Promise<void>((res, rej) => server.once('error', rej).listen(path, () => res()));
  }

  async function vpcFor(network: string): Promise<Vpc> {
    const existing = vpcs.get(network);
    if (existing) return existing;
    const n = nextNet++;
    const metadataSocket = join(runDir, `net${n}.md.sock`);
    const mirrorSocket = join(runDir, `net${n}.mirror.sock`);
    const apiSocket = join(runDir, `net${n}.api.sock`);
    const externalSocket = join(runDir, `net${n}.ext.sock`);
    await listenUnix(externalSocket, (socket) => {
      void readProxyHeader(socket).then((to) => {
        // tcp:443 of the API address is Google's APIs over TLS.
        if (to?.destinationIp === API_IP) {
          apiHttps.emit('connection', socket);
          return void socket.resume();
        }
        // Only the external IPs (the host's loopback addresses the emulator hands out) are reached.
        if (!to || !to.destinationIp.startsWith('127.')) return void socket.destroy();
        relay(socket, connectTcp({ host: to.destinationIp, port: 443 }));
        socket.resume();
      });
    });
    await listenUnix(apiSocket, (socket) => {
      void readProxyHeader(socket).then(() => {
        if (!apiServer) return void socket.destroy();
        apiServer.emit('connection', socket);
        socket.resume();
      });
    });
    await listenUnix(metadataSocket, (socket) => {
      void readProxyHeader(socket).then((from) => {
        const inst = from
          ? [...instances.values()].find((i) => i.network === network && i.internalIp === from.sourceIp && i.status === 'RUNNING')
          : undefined;
        (socket as Socket & { vmKey?: string }).vmKey = inst?.key;
        metadataHttp.emit('connection', socket);
        socket.resume();
      });
    });
    await listenUnix(mirrorSocket, (socket) => {
      void readProxyHeader(socket).then(() => {
        mirrorHttp.emit('connection', socket);
        socket.resume();
      });
    });
    const vpc = new Vpc({
      network,
      namespace: names.vpcNamespace(network),
      dialSocket: join(runDir, `net${n}.dial.sock`),
      metadataSocket,
      mirrorSocket,
      apiSocket,
      externalSocket,
      compileCacheDir: compileCache,
      log,
    });
    vpcs.set(network, vpc);
    await vpc.start();
    ledger.track(vpc.gatewayPid);
    log(`VPC ${network}: namespace ${vpc.options.namespace}`);
    return vpc;
  }

  const vmDir = (inst: RuntimeInstance): string => join(options.stateDir, 'vms', inst.zone, `${inst.name}-${inst.id}`);
  const fingerprintOf = (inst: RuntimeInstance): string =>
    JSON.stringify([inst.internalIp, inst.network, inst.bootDiskDir, inst.dataDisk ?? null]);

  function desiredMachines(world: RuntimeWorld): RuntimeInstance[] {
    return world.instances.filter((inst) => {
      if (inst.status !== 'RUNNING') return false;
      if (bootsOnDebian(inst) && REGION_SUBNETS[inst.region] && inst.bootDiskDir) return true;
      if (!warnedDark.has(inst.key)) {
        warnedDark.add(inst.key);
        log(
          `${inst.key}: boot image ${inst.bootImage || '(none)'} cannot boot in the Debian runtime (only debian-12 can): the instance runs with nothing inside`,
        );
      }
      return false;
    });
  }

  async function powerOff(key: string, graceful: boolean): Promise<void> {
    const entry = machines.get(key);
    if (!entry) return;
    machines.delete(key);
    const pids = [entry.machine.nspawnPid, entry.machine.initPid()];
    await entry.machine.powerOff(graceful);
    for (const pid of pids) ledger.untrack(pid);
  }

  async function powerOn(inst: RuntimeInstance): Promise<void> {
    const vpc = await vpcFor(inst.network);
    await vpc.ensureRegion(inst.region);
    const n = vmNumbers.get(inst.key) ?? nextVm++;
    vmNumbers.set(inst.key, n);
    const dir = vmDir(inst);
    mkdirSync(dir, { recursive: true });
    const nodeBinary = process.execPath;
    const machine = new Machine(
      {
        key: inst.key,
        name: inst.name,
        internalIp: inst.internalIp,
        prefixLength: REGION_SUBNETS[inst.region]!.prefixLength,
        gateway: subnetGateway(inst.region),
        vpcNamespace: vpc.options.namespace,
        vmNamespace: names.vmNamespace(n),
        vmLink: names.vmLink(n),
        bootDiskDir: inst.bootDiskDir,
        ...(inst.dataDisk ? { dataDisk: inst.dataDisk } : {}),
        mountDir: join(runDir, `vm${n}`, 'root'),
        serialLog: join(dir, 'serial.log'),
        // The Kubernetes stand-ins are Node programs from this repository (see emulator/standins).
        binds: [
          { host: nodeBinary, guest: '/opt/ha-emulator/node' },
          { host: repoRoot, guest: '/opt/ha-emulator/repo' },
          { host: caBundle, guest: GUEST_CA_BUNDLE },
          // One compile cache for every VM: a new VM's stand-ins start from the code earlier VMs compiled.
          { host: compileCache, guest: DEFAULT_COMPILE_CACHE_DIR, writable: true },
        ],
        hostsEntry: { ip: API_IP, names: API_HOST_NAMES },
      },
      image,
      log,
    );
    machines.set(inst.key, { machine, fingerprint: fingerprintOf(inst) });
    try {
      await machine.powerOn();
    } catch (e) {
      log(`${inst.key}: cannot boot: ${(e as Error).message}`);
      machines.delete(inst.key);
      await machine.powerOff(false).catch(() => undefined);
      return;
    }
    ledger.track(machine.nspawnPid);
    ledger.track(machine.initPid());
    log(`${inst.key}: booted (${inst.internalIp} in VPC ${inst.network})`);
  }

  async function reconcile(world: RuntimeWorld): Promise<void> {
    const previous = instances;
    instances = new Map(world.instances.map((i) => [i.key, i]));
    // Every instance, running or not: a stopped VM keeps its guest attributes (only running VMs can
    // reach the server anyway, by their source address).
    metadata.sync(world.instances.map(toMetadataInstance));
    const desired = new Map(desiredMachines(world).map((i) => [i.key, i]));
    const stopping: Promise<void>[] = [];
    for (const [key, entry] of machines) {
      const want = desired.get(key);
      if (want && entry.fingerprint === fingerprintOf(want)) continue;
      // instances.stop shuts the guest down; a deletion, a zone outage or a changed NIC cuts it.
      const graceful = instances.get(key)?.status === 'STOPPING' || instances.get(key)?.status === 'TERMINATED';
      stopping.push(powerOff(key, graceful));
    }
    await Promise.all(stopping);
    // The firewall is in place before a VM boots into its VPC, and follows every change of rules or tags.
    // A network with firewall rules gets its VPC before its first VM (as on GCE, where the network
    // exists first): that VM's boot does not wait for the namespace and the gateway.
    const networks = [...vpcs.keys(), ...world.firewalls.map((f) => f.network), ...[...desired.values()].map((i) => i.network)];
    for (const network of new Set(networks)) {
      const vpc = await vpcFor(network);
      await vpc.setFirewall(firewallRuleset(network, world.instances, world.firewalls));
    }
    for (const key of previous.keys()) {
      if (instances.has(key)) continue;
      const gone = previous.get(key)!;
      metadata.forget(key);
      warnedDark.delete(key);
      rmSync(vmDir(gone), { recursive: true, force: true });
    }
    await Promise.all([...desired.values()].filter((i) => !machines.has(i.key)).map((i) => powerOn(i)));
  }

  const serialised = (work: () => Promise<void>): Promise<void> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };

  const healthChecksOf = (rules: RuntimeForwardingRule[]): { instanceKey: string; check: RuntimeHealthCheck }[] =>
    rules.flatMap((r) => (r.healthCheck ? r.backends.map((instanceKey) => ({ instanceKey, check: r.healthCheck! })) : []));

  const exitHook = (): void => {
    for (const { machine } of machines.values()) machine.kill();
    for (const vpc of vpcs.values()) vpc.kill();
  };
  process.on('exit', exitHook);

  return {
    addressing: 'vpc',

    apply(world) {
      return serialised(async () => {
        if (stopped) return;
        await reconcile(world);
        health.sync(healthChecksOf(world.forwardingRules), instances);
        await lb.sync(world.forwardingRules);
        await nat.sync(world.instances);
      });
    },

    backendHealth: (key, check) => health.health(key, check),

    killEtcd(instanceKey, keepDown) {
      return serialised(async () => {
        const entry = machines.get(instanceKey);
        if (!entry) return log(`killEtcd ${instanceKey}: no running VM, nothing to kill`);
        // keepDown: stop the unit, so systemd does not bring it back until it is started again.
        const argv = keepDown ? ['systemctl', 'stop', ETCD_UNIT] : ['systemctl', 'kill', '--signal=SIGKILL', ETCD_UNIT];
        await execIn(entry.machine, argv).catch((e: Error) => log(`killEtcd ${instanceKey}: ${e.message}`));
      });
    },

    pids() {
      return [
        ...[...machines.values()].flatMap(({ machine }) => [machine.nspawnPid, machine.initPid()]),
        ...[...vpcs.values()].map((v) => v.gatewayPid),
      ].filter((p): p is number => p !== undefined);
    },

    serialOutput(instanceKey) {
      const inst = instances.get(instanceKey);
      const file = inst ? join(vmDir(inst), 'serial.log') : undefined;
      return file && existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
    },

    guestAttributes: (instanceKey) => metadata.guestAttributes(instanceKey),

    dial: dialNetwork,

    connectForIap(target, port, timeoutMs) {
      const vpc = vpcs.get(target.network);
      if (!vpc) return Promise.reject(Object.assign(new Error(`no VM of VPC ${target.network} runs yet`), { code: 'EHOSTUNREACH' }));
      return vpc.connect(target.internalIp, port, 'iap', timeoutMs);
    },

    exec(instanceKey, argv) {
      const entry = machines.get(instanceKey);
      if (!entry) return Promise.reject(new Error(`${instanceKey} is not running`));
      return execIn(entry.machine, argv);
    },

    vpcNamespace: (network) => names.vpcNamespace(network),

    ensureVpc(network) {
      return serialised(async () => {
        await vpcFor(network);
      }).then(() => names.vpcNamespace(network));
    },

    exposeApi(server) {
      apiServer = server;
    },

    stop() {
      return serialised(async () => {
        stopped = true;
        health.stop();
        await Promise.all([nat.stop(), lb.stop()]);
        await Promise.all([...machines.keys()].map((key) => powerOff(key, false)));
        for (const vpc of vpcs.values()) await vpc.stop();
        vpcs.clear();
        metadata.stop();
        await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
        metadataHttp.closeAllConnections();
        mirrorHttp.closeAllConnections();
        apiHttps.closeAllConnections();
        process.off('exit', exitHook);
        ledger.close();
      });
    },
  };
}

function execIn(machine: Machine, argv: string[]): Promise<string> {
  const pid = machine.initPid();
  if (pid === undefined) return Promise.reject(new Error(`${machine.spec.key} has not booted`));
  return run(['nsenter', `--target=${pid}`, '--mount', '--uts', '--ipc', '--net', '--pid', '--', ...argv], { timeoutMs: 60_000 });
}

function toMetadataInstance(inst: RuntimeInstance): MetadataInstance {
  return {
    key: inst.key,
    project: inst.project,
    name: inst.name,
    id: inst.id,
    zone: inst.zone,
    internalIp: inst.internalIp,
    externalIps: inst.externalIps,
    attributes: inst.metadata,
    ...(inst.serviceAccountEmail ? { serviceAccountEmail: inst.serviceAccountEmail } : {}),
  };
}
