// Regional forwarding rules: TCP 443 on the cluster's static IP to its target pool.

import { readOptional, write } from './calls.ts';
import { callOptions, type GceContext } from './context.ts';
import { canonicalLink, lastSegment, regionalPath } from './links.ts';
import type { ForwardingRuleInfo } from './types.ts';

function ruleCall(ctx: GceContext, verb: string, region: string, name: string) {
  return { verb, what: 'forwarding rule', resource: regionalPath(ctx.project, region, 'forwardingRules', name) };
}

export async function getForwardingRule(ctx: GceContext, region: string, name: string): Promise<ForwardingRuleInfo | undefined> {
  const rule = await readOptional(ctx, ruleCall(ctx, 'get', region, name), async () => {
    const [found] = await (await ctx.clients.forwardingRules()).get({ project: ctx.project, region, forwardingRule: name }, callOptions(ctx));
    return found;
  });
  return (
    rule && {
      name: rule.name ?? '',
      region: lastSegment(rule.region),
      IPAddress: rule.IPAddress ?? '',
      target: canonicalLink(ctx.linkBase, rule.target ?? ''),
      portRange: rule.portRange ?? '',
    }
  );
}

export async function insertForwardingRule(
  ctx: GceContext,
  region: string,
  name: string,
  ip: string,
  targetLink: string,
  portRange: string,
): Promise<void> {
  await write(ctx, ruleCall(ctx, 'insert', region, name), async (requestId) =>
    (await ctx.clients.forwardingRules()).insert(
      {
        project: ctx.project,
        region,
        requestId,
        forwardingRuleResource: { name, IPAddress: ip, IPProtocol: 'TCP', portRange, target: targetLink, loadBalancingScheme: 'EXTERNAL' },
      },
      callOptions(ctx),
    ),
  );
}

export async function deleteForwardingRule(ctx: GceContext, region: string, name: string): Promise<void> {
  await write(ctx, ruleCall(ctx, 'delete', region, name), async (requestId) =>
    (await ctx.clients.forwardingRules()).delete({ project: ctx.project, region, forwardingRule: name, requestId }, callOptions(ctx)),
  );
}
