// Names of what one emulator makes on the host: network namespaces and links. All start with
// `hm<id>`, where id comes from the state dir, so a restarted emulator (same state dir) finds what
// a crashed one left, and two emulators never share a name. Link names fit Linux's 15 characters.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

export interface HostNames {
  id: string;
  /** Every namespace of this emulator starts with this. */
  prefix: string;
  vpcNamespace(network: string): string;
  vmNamespace(vmNumber: number): string;
  /** The VPC-side end of a VM's veth (the VM side is renamed eth0). */
  vmLink(vmNumber: number): string;
}

export function hostNamesFor(stateDir: string): HostNames {
  const id = createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 6);
  const prefix = `hm${id}-`;
  return {
    id,
    prefix,
    vpcNamespace: (network) => `${prefix}net-${network}`,
    vmNamespace: (n) => `${prefix}vm${n}`,
    vmLink: (n) => `hv${id}${n.toString(36)}`.slice(0, 15),
  };
}

/** GCE's auto-mode subnet of each region (a VM's nic0 address comes from its region's range). */
export const REGION_SUBNETS: Record<string, { base: string; prefixLength: number }> = {
  'us-central1': { base: '10.128.0.0', prefixLength: 20 },
  'europe-west1': { base: '10.132.0.0', prefixLength: 20 },
  'us-east1': { base: '10.142.0.0', prefixLength: 20 },
};

/** Host number n of a region's subnet: .1 is the gateway, VMs start at .2. */
export function subnetAddress(region: string, n: number): string {
  const subnet = REGION_SUBNETS[region];
  if (!subnet) throw new Error(`no subnet known for region ${region}`);
  const [a, b, c, d] = subnet.base.split('.').map(Number) as [number, number, number, number];
  const value = ((a << 24) | (b << 16) | (c << 8) | d) + n;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export const subnetGateway = (region: string): string => subnetAddress(region, 1);

/** The metadata server's address inside every VPC, as on GCE. */
export const METADATA_IP = '169.254.169.254';
/** Where the emulator's release mirror answers inside every VPC (link-local, never routed). */
export const MIRROR_IP = '169.254.169.250';
/**
 * Where the emulator's Compute API answers inside every VPC, for a runner that runs inside the VPC
 * (a self-hosted runner reaches Google's APIs by Private Google Access; here, link-local).
 */
export const API_IP = '169.254.169.251';

/**
 * Where traffic into a VM comes from when the emulator makes it from the VPC's side, so that
 * firewall rules see what they would on GCE. Each is a /32 on the VPC's bridge only.
 *  - internet: clients of external IPs and forwarding rules (GCE's network load balancer passes
 *    the client's address through); TEST-NET-3, matched only by 0.0.0.0/0-like ranges.
 *  - health-check: GCE's legacy health checkers probe from 35.191.0.0/16 (among others).
 *  - iap: IAP's TCP forwarding connects from 35.235.240.0/20.
 *  - runner: a self-hosted runner inside the VPC, at the region's subnet gateway address.
 */
export type DialSource = 'internet' | 'health-check' | 'iap' | 'runner';
export const SOURCE_IPS: Record<Exclude<DialSource, 'runner'>, string> = {
  internet: '203.0.113.7',
  'health-check': '35.191.0.1',
  iap: '35.235.240.1',
};
