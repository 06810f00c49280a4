// GCE's VPC firewall, as an nftables ruleset for one VPC namespace. Every VM hangs off the VPC's
// bridge, so the bridge family sees each packet into a VM: from another VM (hook forward) and from
// the VPC namespace itself (hook output: the gateway's dials for load balancers, external IPs and
// health checks, each from its own source address, and a runner inside the VPC).
//
// As on GCE, ingress is denied unless a rule allows it, and of the rules that match a connection
// the one with the lowest priority number decides (a deny wins a tie). Rules are evaluated for new
// TCP connections (a SYN without ACK), so replies need no connection tracking; other protocols and
// egress rules are not enforced (nothing the action runs uses them).
import type { RuntimeFirewall, RuntimeInstance } from '../runtime/types.ts';

const TABLE = 'ha_firewall';

/** The rules that apply to traffic into `target`, in the order GCE evaluates them. */
export function rulesFor(target: RuntimeInstance, firewalls: RuntimeFirewall[]): RuntimeFirewall[] {
  return firewalls
    .filter((fw) => fw.network === target.network && fw.direction === 'INGRESS' && !fw.disabled)
    .filter((fw) => fw.targetTags.length === 0 || fw.targetTags.some((t) => target.tags.includes(t)))
    .sort((a, b) => a.priority - b.priority || (a.action === b.action ? a.name.localeCompare(b.name) : a.action === 'deny' ? -1 : 1));
}

const ipValue = (ip: string): number => ip.split('.').reduce((v, octet) => v * 256 + Number(octet), 0);

/** Whether an IPv4 address lies in a range (`a.b.c.d/n`, or one address). */
export function inRange(ip: string, range: string): boolean {
  const [base = '', bits = '32'] = range.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipValue(ip) / size) === Math.floor(ipValue(base) / size);
}

const coversPort = (ports: string[], port: number): boolean =>
  ports.length === 0 ||
  ports.some((p) => {
    const [low = -1, high = low] = p.split('-').map(Number);
    return port >= low && port <= high;
  });

/**
 * The rule that decides a new TCP connection from `sourceIp` to `target`:`port` (undefined: none
 * matches, so GCE's implied deny), in the order the nftables ruleset below evaluates it. For
 * callers that must know before they dial, e.g. the IAP relay on a runtime without a VPC.
 */
export function decidingRule(
  target: RuntimeInstance,
  firewalls: RuntimeFirewall[],
  network: RuntimeInstance[],
  sourceIp: string,
  port: number,
): RuntimeFirewall | undefined {
  return rulesFor(target, firewalls).find((fw) => {
    const ports = fw.rules.filter((r) => r.protocol === 'tcp' || r.protocol === 'all');
    if (ports.length === 0 || !ports.some((r) => coversPort(r.ports, port))) return false;
    const tagged = network.some((i) => i.internalIp === sourceIp && fw.sourceTags.some((t) => i.tags.includes(t)));
    return tagged || fw.sourceRanges.some((range) => inRange(sourceIp, range));
  });
}

/** nft statements of one rule: one per source kind (ranges, tagged VMs), each ending in its verdict. */
function statementsOf(fw: RuntimeFirewall, network: RuntimeInstance[]): string[] {
  const tcp = fw.rules.filter((r) => r.protocol === 'tcp' || r.protocol === 'all');
  if (tcp.length === 0) return [];
  // Source tags match a VM's primary internal IP when the VM carries one of the tags.
  const taggedIps = network.filter((i) => i.internalIp && fw.sourceTags.some((t) => i.tags.includes(t))).map((i) => i.internalIp);
  const sources = [...new Set([...fw.sourceRanges, ...taggedIps])];
  if (sources.length === 0) return [];
  const verdict = fw.action === 'allow' ? 'accept' : 'drop';
  const everyPort = tcp.some((r) => r.ports.length === 0);
  const ports = everyPort ? '' : ` tcp dport { ${[...new Set(tcp.flatMap((r) => r.ports))].join(', ')} }`;
  return [`ip saddr { ${sources.join(', ')} }${ports} ${verdict} comment "${fw.name}"`];
}

/** The whole ruleset of one VPC: replaces what was there (`nft -f` applies it atomically). */
export function firewallRuleset(network: string, instances: RuntimeInstance[], firewalls: RuntimeFirewall[]): string {
  const members = instances.filter((i) => i.network === network && i.internalIp);
  const lines = [`table bridge ${TABLE}`, `delete table bridge ${TABLE}`, `table bridge ${TABLE} {`];
  const dispatch: string[] = [];
  members.forEach((vm, n) => {
    const chain = `into_vm${n}`;
    dispatch.push(`${vm.internalIp} : jump ${chain}`);
    lines.push(`  chain ${chain} {`, `    # ${vm.key}`);
    for (const fw of rulesFor(vm, firewalls)) for (const s of statementsOf(fw, members)) lines.push(`    ${s}`);
    lines.push('    drop', '  }');
  });
  const newConnection = 'tcp flags & (syn | ack) == syn';
  for (const [chain, hook] of [
    ['from_vms', 'forward'],
    ['from_vpc', 'output'],
  ] as const) {
    lines.push(`  chain ${chain} {`, `    type filter hook ${hook} priority 0; policy accept;`);
    if (dispatch.length > 0) lines.push(`    ${newConnection} ip daddr vmap { ${dispatch.join(', ')} }`);
    lines.push('  }');
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
