// Regional target pools: the load balancer's set of master replicas, health-checked by the legacy
// HTTP health check.

import { getOptional, write } from './calls.ts';
import type { GceContext } from './context.ts';
import { canonicalLink, lastSegment, regionalPath } from './links.ts';
import type { TargetPool, TargetPoolInstances } from './resources.ts';
import type { TargetPoolInfo } from './types.ts';

function toTargetPoolInfo(ctx: GceContext, pool: TargetPool): TargetPoolInfo {
  return {
    name: pool.name ?? '',
    region: lastSegment(pool.region),
    instances: (pool.instances ?? []).map((l) => canonicalLink(ctx.linkBase, l)),
    healthChecks: (pool.healthChecks ?? []).map((l) => canonicalLink(ctx.linkBase, l)),
    selfLink: canonicalLink(ctx.linkBase, pool.selfLink ?? ''),
  };
}

function poolPath(ctx: GceContext, region: string, name: string): string {
  return regionalPath(ctx.project, region, 'targetPools', name);
}

function poolCall(ctx: GceContext, verb: string, region: string, name: string) {
  return { verb, what: 'target pool', resource: poolPath(ctx, region, name) };
}

export async function getTargetPool(ctx: GceContext, region: string, name: string): Promise<TargetPoolInfo | undefined> {
  const pool = await getOptional<TargetPool>(ctx, poolCall(ctx, 'get', region, name), poolPath(ctx, region, name));
  return pool && toTargetPoolInfo(ctx, pool);
}

export async function insertTargetPool(
  ctx: GceContext,
  region: string,
  name: string,
  instanceLinks: string[],
  healthCheckLinks: string[],
): Promise<void> {
  const body: TargetPool = { name, instances: instanceLinks, healthChecks: healthCheckLinks };
  await write(ctx, poolCall(ctx, 'insert', region, name), {
    method: 'POST',
    path: `projects/${ctx.project}/regions/${region}/targetPools`,
    body,
  });
}

export async function addTargetPoolInstance(ctx: GceContext, region: string, name: string, instanceLink: string): Promise<void> {
  const body: TargetPoolInstances = { instances: [{ instance: instanceLink }] };
  await write(ctx, poolCall(ctx, `add ${lastSegment(instanceLink)} to`, region, name), {
    method: 'POST',
    path: `${poolPath(ctx, region, name)}/addInstance`,
    body,
  });
}

export async function removeTargetPoolInstance(ctx: GceContext, region: string, name: string, instanceLink: string): Promise<void> {
  const body: TargetPoolInstances = { instances: [{ instance: instanceLink }] };
  await write(ctx, poolCall(ctx, `remove ${lastSegment(instanceLink)} from`, region, name), {
    method: 'POST',
    path: `${poolPath(ctx, region, name)}/removeInstance`,
    body,
  });
}

export async function deleteTargetPool(ctx: GceContext, region: string, name: string): Promise<void> {
  await write(ctx, poolCall(ctx, 'delete', region, name), { method: 'DELETE', path: poolPath(ctx, region, name) });
}
