// One emulated VPC network: a namespace holding a bridge that carries each region's subnet gateway
// (and forwards between regions, as GCE's VPC routes do), the metadata server's and the mirror's
// link-local addresses, the source addresses of the emulator's own dials (names.ts), the firewall
// (firewall.ts), and the gateway process (gateway.ts), the only path between host and VPC.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { addNamespace, deleteNamespace, ipBatch, ipIn } from './netns.ts';
import { run } from './sh.ts';
import { dialVpc, dialVpcConfirmed } from './vpc-dial.ts';
import { API_IP, METADATA_IP, MIRROR_IP, REGION_SUBNETS, SOURCE_IPS, subnetGateway } from './names.ts';
import type { DialSource } from './names.ts';

const BRIDGE_MAC = '02:68:6d:00:00:01';
/** A runner's dials leave from the address the kernel picks (the subnet's gateway). */
const sourceIp = (from: DialSource): string | undefined => (from === 'runner' ? undefined : SOURCE_IPS[from]);
const gatewayEntry = fileURLToPath(new URL('./gateway.ts', import.meta.url));

export interface VpcOptions {
  network: string;
  namespace: string;
  /** Unix sockets: where the gateway accepts dials, and where it hands metadata / mirror traffic. */
  dialSocket: string;
  metadataSocket: string;
  mirrorSocket: string;
  apiSocket: string;
  /** Where connections from inside the VPC to external IPs (tcp:443) are handed to the host. */
  externalSocket: string;
  /** Node's compile cache for the gateway (a Node program in TypeScript): it starts without compiling. */
  compileCacheDir: string;
  log: (line: string) => void;
}

export class Vpc {
  readonly options: VpcOptions;
  private gateway: ChildProcess | undefined;
  private readonly regions = new Set<string>();
  private firewall = '';

  constructor(options: VpcOptions) {
    this.options = options;
  }

  get gatewayPid(): number | undefined {
    return this.gateway?.pid;
  }

  async start(): Promise<void> {
    const { namespace: ns } = this.options;
    await addNamespace(ns);
    // A bridge without an address of its own takes the lowest MAC of its ports, so a VM booting
    // (a new veth) could change the gateway's MAC under the VMs' ARP caches and cut the VPC side's
    // connections to them for seconds. A fixed, locally administered MAC keeps it still.
    await ipBatch(ns, [
      ['link', 'add', 'br0', 'address', BRIDGE_MAC, 'type', 'bridge'],
      ['link', 'set', 'br0', 'up'],
      ...[METADATA_IP, MIRROR_IP, API_IP, ...Object.values(SOURCE_IPS)].map((ip) => ['addr', 'add', `${ip}/32`, 'dev', 'br0']),
    ]);
    await run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await this.startGateway();
  }

  private async startGateway(): Promise<void> {
    const o = this.options;
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        o.namespace,
        process.execPath,
        gatewayEntry,
        '--dial',
        o.dialSocket,
        '--forward',
        `${METADATA_IP}:80=${o.metadataSocket}`,
        '--forward',
        `${MIRROR_IP}:80=${o.mirrorSocket}`,
        '--forward',
        `${API_IP}:80=${o.apiSocket}`,
        '--forward-any',
        `443=${o.externalSocket}`,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_COMPILE_CACHE: o.compileCacheDir } },
    );
    this.gateway = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the gateway of VPC ${o.network} exited (${code}): ${stderr.trim()}`)));
    });
    child.on('exit', (code, signal) => {
      if (this.gateway === child) o.log(`VPC ${o.network}: gateway exited (${signal ?? code}) ${stderr.trim()}`);
    });
  }

  async ensureRegion(region: string): Promise<void> {
    if (this.regions.has(region)) return;
    const subnet = REGION_SUBNETS[region];
    if (!subnet) throw new Error(`no subnet known for region ${region}`);
    await ipIn(this.options.namespace, 'addr', 'add', `${subnetGateway(region)}/${subnet.prefixLength}`, 'dev', 'br0');
    this.regions.add(region);
  }

  dial(host: string, port: number, from: DialSource): Socket {
    return dialVpc(this.options.dialSocket, host, port, sourceIp(from));
  }

  /** dial, resolved once connected; rejects when refused or not connected within timeoutMs. */
  connect(host: string, port: number, from: DialSource, timeoutMs: number): Promise<Socket> {
    return dialVpcConfirmed(this.options.dialSocket, host, port, sourceIp(from), timeoutMs);
  }

  /** Enforces a firewall ruleset (firewall.ts); the same text again changes nothing. */
  async setFirewall(ruleset: string): Promise<void> {
    if (ruleset === this.firewall) return;
    await run(['ip', 'netns', 'exec', this.options.namespace, 'nft', '-f', '-'], { input: ruleset });
    this.firewall = ruleset;
  }

  async stop(): Promise<void> {
    const child = this.gateway;
    this.gateway = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      const hard = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(hard);
    }
    await deleteNamespace(this.options.namespace);
  }

  /** Synchronous last resort (process exit). */
  kill(): void {
    try {
      if (this.gateway?.pid) process.kill(this.gateway.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
