// Which VPC firewall rule decides whether IAP's TCP forwarding may reach a master's port, the way
// GCE evaluates ingress: of the enabled INGRESS rules of the network that apply to the VM and match
// the source and the port, the lowest priority number wins, a deny before an allow at equal
// priority; no match is GCE's implied deny. Used only to explain a tunnel IAP could not connect.
//
// Not seen from here: hierarchical and network firewall policies, and rules that pick their VMs or
// sources by service account (the instance list does not carry the VM's account). A rule of the
// latter kind is left out, so a verdict of "allowed" can still be wrong.
import type { FirewallRule } from '../gce/types.ts';

/** IAP's TCP forwarding connects from this range (Google's documented source). */
export const IAP_SOURCE_RANGE = '35.235.240.0/20';

const ipValue = (ip: string): number => ip.split('.').reduce((v, octet) => v * 256 + Number(octet), 0);

function bounds(range: string): [number, number] {
  const [base = '0.0.0.0', bits = '32'] = range.split('/');
  const size = 2 ** (32 - Number(bits));
  const low = Math.floor(ipValue(base) / size) * size;
  return [low, low + size - 1];
}

/** Whether two CIDR ranges share an address: a rule on part of IAP's range still blocks some tunnels. */
export function rangesOverlap(a: string, b: string): boolean {
  const [aLow, aHigh] = bounds(a);
  const [bLow, bHigh] = bounds(b);
  return aLow <= bHigh && bLow <= aHigh;
}

const coversPort = (ports: string[], port: number): boolean =>
  ports.length === 0 ||
  ports.some((p) => {
    const [low = -1, high = low] = p.split('-').map(Number);
    return port >= low && port <= high;
  });

export interface IapDestination {
  network: string;
  /** The VM's network tags. */
  tags: string[];
  port: number;
}

/** The rule that decides a tunnel from IAP to `target`, or undefined for GCE's implied deny. */
export function decidingRuleForIap(rules: FirewallRule[], target: IapDestination): FirewallRule | undefined {
  return rules
    .filter((r) => r.network === target.network && r.direction === 'INGRESS' && !r.disabled && !r.byServiceAccount)
    .filter((r) => r.targetTags.length === 0 || r.targetTags.some((t) => target.tags.includes(t)))
    .filter((r) => r.sourceRanges.some((range) => rangesOverlap(range, IAP_SOURCE_RANGE)))
    .filter((r) => r.rules.some((x) => (x.protocol === 'tcp' || x.protocol === 'all') && coversPort(x.ports, target.port)))
    .sort((a, b) => a.priority - b.priority || (a.action === b.action ? a.name.localeCompare(b.name) : a.action === 'deny' ? -1 : 1))[0];
}

export interface BlockedTunnel {
  instance: string;
  tags: string[];
  port: number;
}

/**
 * Why IAP could not connect, when the VPC's own rules are the reason: a deny that outranks the
 * cluster's IAP rule, or a rule that does not apply to the VM. Undefined when the rules let IAP in
 * (then nothing listens on the port yet, which a retry mends) and when the cluster's rule is
 * missing (every operation but status makes it again before it dials).
 */
export function iapFirewallProblem(
  rules: FirewallRule[],
  network: string,
  iapRule: string,
  blocked: BlockedTunnel[],
): { problem: string; fix: string } | undefined {
  const ours = rules.find((r) => r.name === iapRule);
  if (!ours) return undefined;
  for (const t of blocked) {
    const rule = decidingRuleForIap(rules, { network, tags: t.tags, port: t.port });
    if (rule?.action === 'allow') continue;
    const where = `${t.instance} on tcp ${t.port}`;
    if (rule) {
      return {
        problem: `IAP cannot reach ${where}: the firewall rule ${rule.name} (priority ${rule.priority}) denies IAP's range ${IAP_SOURCE_RANGE} and outranks ${iapRule} (priority ${ours.priority}), which allows it`,
        fix: `Narrow or delete ${rule.name}, or give ${iapRule} a smaller priority number than ${rule.priority}, so that ${IAP_SOURCE_RANGE} gets in on tcp 2379 and 443 to the masters; or run on a self-hosted runner inside the VPC with transport: direct`,
      };
    }
    const tags = t.tags.length ? `the tags ${t.tags.join(', ')}` : 'no network tags';
    return {
      problem: `IAP cannot reach ${where}: no firewall rule of network ${network} lets IAP's range ${IAP_SOURCE_RANGE} in to it; ${iapRule} targets ${ours.targetTags.join(', ') || 'every VM'} on ${ours.network}, and the VM has ${tags}`,
      fix: `Make ${iapRule} allow ${IAP_SOURCE_RANGE} on tcp 2379 and 443 to the masters' tag (delete it and re-run operation: up to have it made again)`,
    };
  }
  return undefined;
}
