// Global firewall rules of the cluster (API, etcd, health checks).

import { getOptional, read, write } from './calls.ts';
import type { GceContext } from './context.ts';
import { globalPath, lastSegment } from './links.ts';
import { listAll } from './paging.ts';
import type { Firewall } from './resources.ts';
import type { FirewallRule, FirewallSpec } from './types.ts';

function firewallPath(ctx: GceContext, name: string): string {
  return globalPath(ctx.project, 'firewalls', name);
}

function firewallCall(ctx: GceContext, verb: string, name: string) {
  return { verb, what: 'firewall', resource: firewallPath(ctx, name) };
}

export async function getFirewall(ctx: GceContext, name: string): Promise<{ name: string } | undefined> {
  const fw = await getOptional<Firewall>(ctx, firewallCall(ctx, 'get', name), firewallPath(ctx, name));
  return fw && { name: fw.name ?? name };
}

export async function insertFirewall(ctx: GceContext, spec: FirewallSpec): Promise<void> {
  const body: Firewall = {
    name: spec.name,
    network: spec.network.includes('/') ? spec.network : `projects/${ctx.project}/global/networks/${spec.network}`,
    description: spec.description,
    direction: 'INGRESS',
    allowed: spec.allowed.map((a) => ({ IPProtocol: a.IPProtocol, ports: [...a.ports] })),
    targetTags: spec.targetTags,
    ...(spec.sourceTags ? { sourceTags: spec.sourceTags } : {}),
    ...(spec.sourceRanges ? { sourceRanges: spec.sourceRanges } : {}),
  };
  await write(ctx, firewallCall(ctx, 'insert', spec.name), { method: 'POST', path: `projects/${ctx.project}/global/firewalls`, body });
}

export async function deleteFirewall(ctx: GceContext, name: string): Promise<void> {
  await write(ctx, firewallCall(ctx, 'delete', name), { method: 'DELETE', path: firewallPath(ctx, name) });
}

function toRule(fw: Firewall): FirewallRule {
  const allow = (fw.allowed ?? []).length > 0;
  const entries = (allow ? fw.allowed : fw.denied) ?? [];
  return {
    name: fw.name ?? '',
    network: lastSegment(fw.network),
    direction: fw.direction === 'EGRESS' ? 'EGRESS' : 'INGRESS',
    // GCE's default priority when none is given.
    priority: fw.priority ?? 1000,
    disabled: fw.disabled ?? false,
    action: allow ? 'allow' : 'deny',
    rules: entries.map((e) => ({ protocol: (e.IPProtocol ?? '').toLowerCase(), ports: [...(e.ports ?? [])] })),
    sourceRanges: [...(fw.sourceRanges ?? [])],
    sourceTags: [...(fw.sourceTags ?? [])],
    targetTags: [...(fw.targetTags ?? [])],
    byServiceAccount: (fw.targetServiceAccounts ?? []).length > 0 || (fw.sourceServiceAccounts ?? []).length > 0,
  };
}

export async function listFirewalls(ctx: GceContext, network: string): Promise<FirewallRule[]> {
  const path = `projects/${ctx.project}/global/firewalls`;
  const all = await read(ctx, { verb: 'list', what: 'firewall rules', resource: path }, () => listAll<Firewall>(ctx, path));
  const want = lastSegment(network);
  return all.map(toRule).filter((r) => r.network === want);
}
