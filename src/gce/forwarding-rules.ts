// Regional forwarding rules: TCP 443 on the cluster's static IP to its target pool.

import { getOptional, write } from './calls.ts';
import type { GceContext } from './context.ts';
import { canonicalLink, lastSegment, regionalPath } from './links.ts';
import type { ForwardingRule } from './resources.ts';
import type { ForwardingRuleInfo } from './types.ts';

function rulePath(ctx: GceContext, region: string, name: string): string {
  return regionalPath(ctx.project, region, 'forwardingRules', name);
}

function ruleCall(ctx: GceContext, verb: string, region: string, name: string) {
  return { verb, what: 'forwarding rule', resource: rulePath(ctx, region, name) };
}

export async function getForwardingRule(ctx: GceContext, region: string, name: string): Promise<ForwardingRuleInfo | undefined> {
  const rule = await getOptional<ForwardingRule>(ctx, ruleCall(ctx, 'get', region, name), rulePath(ctx, region, name));
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
  labels: Record<string, string> = {},
): Promise<void> {
  const body: ForwardingRule = {
    name,
    IPAddress: ip,
    IPProtocol: 'TCP',
    portRange,
    target: targetLink,
    loadBalancingScheme: 'EXTERNAL',
    labels,
  };
  await write(ctx, ruleCall(ctx, 'insert', region, name), {
    method: 'POST',
    path: `projects/${ctx.project}/regions/${region}/forwardingRules`,
    body,
  });
}

export async function deleteForwardingRule(ctx: GceContext, region: string, name: string): Promise<void> {
  await write(ctx, ruleCall(ctx, 'delete', region, name), { method: 'DELETE', path: rulePath(ctx, region, name) });
}
