// Global firewall rules of the cluster (API, etcd, health checks).

import { readOptional, write } from './calls.ts';
import { callOptions, type GceContext } from './context.ts';
import { globalPath } from './links.ts';
import type { FirewallSpec } from './types.ts';

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
