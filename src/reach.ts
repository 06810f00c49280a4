// How this run reaches the replicas' etcd (2379) and apiserver (443): straight to their internal
// IPs (a self-hosted runner inside the VPC), or through Google's IAP relay (a runner outside).
// Both give the engine the same two things: an EtcdTransport and a /readyz probe.
import type { ComputeApi, InstanceInfo } from './gce/types.ts';
import type { EtcdTransport } from './etcd/types.ts';
import { DirectTransport } from './etcd/transport.ts';
import { probeReadyz } from './kube/apiserver.ts';
import type { EngineDeps } from './engine/deps.ts';
import { IapTransport } from './iap/transport.ts';
import { adcTokenSource } from './auth/adc.ts';
import type { TokenSource } from './auth/adc.ts';
import { iapTokenSource } from './iap/token.ts';
import type { TransportKind } from './model.ts';
import { iapFirewallProblem } from './plan/firewall-verdict.ts';

export interface Reach {
  transport: EtcdTransport;
  probeReadyz: EngineDeps['probeReadyz'];
  /**
   * A failure that ends the run: IAP without credentials or permission, or a VPC firewall rule
   * that keeps IAP out of a master's port.
   */
  problem: () => Promise<ReachProblem | undefined>;
  /** Fails early, before anything changes, when the way in cannot work at all (IAP: no token). */
  preflight(): Promise<void>;
  /** The cluster's VMs as the run just listed them (IAP addresses a VM by name, not by IP). */
  learn(vms: InstanceInfo[]): void;
  close(): Promise<void>;
}

export interface ReachProblem {
  problem: string;
  fix: string;
}

/** The firewall rules are read again at most this often while IAP keeps being refused. */
const FIREWALL_RECHECK_MS = 30_000;

export interface ReachOptions {
  kind: TransportKind;
  compute: ComputeApi;
  /** The cluster's master name: its VMs are the only ones a tunnel may go to. */
  master: string;
  /** The cluster's VPC network and its IAP firewall rule (to explain a refused tunnel). */
  network: string;
  iapFirewall: string;
  /** The IAP relay, when not Google's. */
  iapEndpoint?: string;
  /** Tokens for IAP (default: Application Default Credentials). */
  token?: TokenSource;
  /** A CA to trust for the relay instead of the system's (tests against the emulator's relay). */
  iapCa?: string;
  mask: (secret: string) => void;
  log: (line: string) => void;
}

export function createReach(opts: ReachOptions): Reach {
  if (opts.kind === 'direct') {
    return {
      transport: new DirectTransport(),
      probeReadyz,
      problem: async () => undefined,
      preflight: async () => {},
      learn: () => {},
      close: async () => {},
    };
  }
  const token = iapTokenSource(opts.token ?? adcTokenSource(opts.mask));
  const locator = new InstanceLocator(opts.compute, opts.master);
  const iap = new IapTransport({
    project: opts.compute.project,
    locate: (ip) => locator.find(ip),
    token,
    ...(opts.iapEndpoint ? { endpoint: opts.iapEndpoint } : {}),
    ...(opts.iapCa ? { ca: opts.iapCa } : {}),
    log: opts.log,
  });
  let firewallCheck: { at: number; ports: string; result: Promise<ReachProblem | undefined> } | undefined;
  const firewallProblem = (): Promise<ReachProblem | undefined> => {
    // Only VMs of the latest list count: a replica deleted since says nothing about the firewall.
    const blocked = iap.refusedPorts().flatMap((t) => {
      const tags = locator.tagsOf(t.instance);
      return tags ? [{ instance: t.instance, port: t.port, tags }] : [];
    });
    if (blocked.length === 0) return Promise.resolve(undefined);
    // Asked again when other ports are refused, else at most every FIREWALL_RECHECK_MS (a VM that boots
    // keeps its ports refused for a while, and the engine checks every second).
    const ports = blocked
      .map((t) => `${t.instance}:${t.port}:${t.tags.join('+')}`)
      .sort()
      .join(',');
    if (!firewallCheck || firewallCheck.ports !== ports || Date.now() - firewallCheck.at > FIREWALL_RECHECK_MS) {
      const result = opts.compute.listFirewalls(opts.network).then(
        (rules) => iapFirewallProblem(rules, opts.network, opts.iapFirewall, blocked),
        // Without the list the run goes on as before: the tunnel's own message names the firewall.
        (e: unknown) => {
          opts.log(`iap: could not list firewall rules to explain a refused tunnel: ${(e as Error).message}`);
          return undefined;
        },
      );
      firewallCheck = { at: Date.now(), ports, result };
    }
    return firewallCheck.result;
  };
  return {
    transport: iap,
    // The probe keeps verifying the certificate against `serverName`, so the tunnel changes nothing but the path.
    probeReadyz: async (url, ca, ms, tls) => probeReadyz(await iap.localUrl(url), ca, ms, tls),
    problem: async () => iap.problem() ?? (await firewallProblem()),
    preflight: async () => {
      await token();
    },
    learn: (vms) => locator.learn(vms),
    close: () => iap.close(),
  };
}

/**
 * internal IP -> VM of the cluster. The engine hands over each pass's instance list (learn), so a
 * run lists nothing extra and an IP that a deleted VM left to a new one points at the new one. A
 * miss (a caller without the engine, a VM made since the pass) lists the VMs itself, at most once a second.
 */
class InstanceLocator {
  private known = new Map<string, { zone: string; instance: string }>();
  private tags = new Map<string, string[]>();
  private listing: Promise<void> | undefined;
  private listedAt = 0;
  private readonly compute: ComputeApi;
  private readonly master: string;

  constructor(compute: ComputeApi, master: string) {
    this.compute = compute;
    this.master = master;
  }

  learn(vms: InstanceInfo[]): void {
    this.known = new Map(vms.flatMap((vm) => (vm.internalIp ? [[vm.internalIp, { zone: vm.zone, instance: vm.name }] as const] : [])));
    this.tags = new Map(vms.map((vm) => [vm.name, vm.tags]));
    this.listedAt = Date.now();
  }

  /** The network tags of a VM as last listed; undefined when the list did not have it. */
  tagsOf(instance: string): string[] | undefined {
    return this.tags.get(instance);
  }

  async find(ip: string): Promise<{ zone: string; instance: string } | undefined> {
    if (!this.known.has(ip) && Date.now() - this.listedAt > 1000) {
      this.listing ??= this.compute
        .listInstances(this.master)
        .then((vms) => this.learn(vms))
        .finally(() => {
          this.listing = undefined;
        });
      await this.listing;
    }
    return this.known.get(ip);
  }
}
