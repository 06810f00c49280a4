// Global firewall rules of the cluster (API, etcd, health checks).

import type { google } from '@google-cloud/compute/build/protos/protos.js';
import { read, readOptional, write } from './calls.ts';
import { callOptions, type GceContext } from './context.ts';
import { globalPath } from './links.ts';
import type { FirewallRule, FirewallSpec } from './types.ts';

function firewallCall(ctx: GceContext, verb: string, name: string) {
  return { verb, what: 'firewall', resource: globalPath(ctx.project, 'firewalls', name) };
}

export async function getFirewall(ctx: GceContext, name: string): Promise<{ name: string } | undefined> {
  const fw = await readOptional(ctx, firewallCall(ctx, 'get', name), async () => {
    const [found] = await (await ctx.clients.firewalls()).get({ project: ctx.project, firewall: name }, callOptions(ctx));
    return found;
  });
  return fw && { name: fw.name ?? name };
}

export async function insertFirewall(ctx: GceContext, spec: FirewallSpec): Promise<void> {
  const network = spec.network.includes('/') ? spec.network : `projects/${ctx.project}/global/networks/${spec.network}`;
  await write(ctx, firewallCall(ctx, 'insert', spec.name), async (requestId) =>
    (await ctx.clients.firewalls()).insert(
      {
        project: ctx.project,
        requestId,
        firewallResource: {
          name: spec.name,
          network,
          description: spec.description,
          direction: 'INGRESS',
          allowed: spec.allowed.map((a) => ({ IPProtocol: a.IPProtocol, ports: [...a.ports] })),
          targetTags: spec.targetTags,
          ...(spec.sourceTags ? { sourceTags: spec.sourceTags } : {}),
          ...(spec.sourceRanges ? { sourceRanges: spec.sourceRanges } : {}),
        },
      },
      callOptions(ctx),
    ),
  );
}

export async function deleteFirewall(ctx: GceContext, name: string): Promise<void> {
  await write(ctx, firewallCall(ctx, 'delete', name), async (requestId) =>
    (await ctx.clients.firewalls()).delete({ project: ctx.project, firewall: name, requestId }, callOptions(ctx)),
  );
}

const lastPart = (url: string | null | undefined): string => (url ?? '').split('/').pop() ?? '';

function toRule(fw: google.cloud.compute.v1.IFirewall): FirewallRule {
  const allow = (fw.allowed ?? []).length > 0;
  const entries = (allow ? fw.allowed : fw.denied) ?? [];
  return {
    name: fw.name ?? '',
    network: lastPart(fw.network),
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
  const call = { verb: 'list', what: 'firewall rules', resource: `projects/${ctx.project}/global/firewalls` };
  const all = await read(ctx, call, async () => {
    const found: google.cloud.compute.v1.IFirewall[] = [];
    const pages = (await ctx.clients.firewalls()).listAsync({ project: ctx.project, maxResults: ctx.pageSize }, { ...callOptions(ctx), autoPaginate: false });
    for await (const fw of pages) found.push(fw);
    return found;
  });
  const want = lastPart(network);
  return all.map(toRule).filter((r) => r.network === want);
}
