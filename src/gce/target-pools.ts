// Regional target pools: the load balancer's set of master replicas, health-checked by the legacy
// HTTP health check.

import type { google } from '@google-cloud/compute/build/protos/protos.js';
import { readOptional, write } from './calls.ts';
import { callOptions, type GceContext } from './context.ts';
import { canonicalLink, lastSegment, regionalPath } from './links.ts';
import type { TargetPoolInfo } from './types.ts';

type TargetPool = google.cloud.compute.v1.ITargetPool;

function toTargetPoolInfo(ctx: GceContext, pool: TargetPool): TargetPoolInfo {
  return {
    name: pool.name ?? '',
    region: lastSegment(pool.region),
    instances: (pool.instances ?? []).map((l) => canonicalLink(ctx.linkBase, l)),
    healthChecks: (pool.healthChecks ?? []).map((l) => canonicalLink(ctx.linkBase, l)),
    selfLink: canonicalLink(ctx.linkBase, pool.selfLink ?? ''),
  };
}

function poolCall(ctx: GceContext, verb: string, region: string, name: string) {
  return { verb, what: 'target pool', resource: regionalPath(ctx.project, region, 'targetPools', name) };
}

export async function getTargetPool(ctx: GceContext, region: string, name: string): Promise<TargetPoolInfo | undefined> {
  const pool = await readOptional(ctx, poolCall(ctx, 'get', region, name), async () => {
    const [found] = await (await ctx.clients.targetPools()).get({ project: ctx.project, region, targetPool: name }, callOptions(ctx));
    return found;
  });
  return pool && toTargetPoolInfo(ctx, pool);
}

export async function insertTargetPool(
  ctx: GceContext,
  region: string,
  name: string,
  instanceLinks: string[],
  healthCheckLinks: string[],
): Promise<void> {
  await write(ctx, poolCall(ctx, 'insert', region, name), async (requestId) =>
    (await ctx.clients.targetPools()).insert(
      { project: ctx.project, region, requestId, targetPoolResource: { name, instances: instanceLinks, healthChecks: healthCheckLinks } },
      callOptions(ctx),
    ),
  );
}

export async function addTargetPoolInstance(ctx: GceContext, region: string, name: string, instanceLink: string): Promise<void> {
  await write(ctx, poolCall(ctx, `add ${lastSegment(instanceLink)} to`, region, name), async (requestId) =>
    (await ctx.clients.targetPools()).addInstance(
      {
        project: ctx.project,
        region,
        targetPool: name,
        requestId,
        targetPoolsAddInstanceRequestResource: { instances: [{ instance: instanceLink }] },
      },
      callOptions(ctx),
    ),
  );
}

export async function removeTargetPoolInstance(ctx: GceContext, region: string, name: string, instanceLink: string): Promise<void> {
  await write(ctx, poolCall(ctx, `remove ${lastSegment(instanceLink)} from`, region, name), async (requestId) =>
    (await ctx.clients.targetPools()).removeInstance(
      {
        project: ctx.project,
        region,
        targetPool: name,
        requestId,
        targetPoolsRemoveInstanceRequestResource: { instances: [{ instance: instanceLink }] },
      },
      callOptions(ctx),
    ),
  );
}

export async function deleteTargetPool(ctx: GceContext, region: string, name: string): Promise<void> {
  await write(ctx, poolCall(ctx, 'delete', region, name), async (requestId) =>
    (await ctx.clients.targetPools()).delete({ project: ctx.project, region, targetPool: name, requestId }, callOptions(ctx)),
  );
}
