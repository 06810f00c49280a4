// Global legacy HTTP health checks (`httpHealthChecks`), the only kind target pools accept.
// @google-cloud/compute 7.x has no client for this API (its protos no longer define the
// HttpHealthChecks service), so these calls go over plain authenticated REST; the Operation they
// return is waited on like any other.

import { readOptional, write } from './calls.ts';
import type { GceContext } from './context.ts';
import { canonicalLink, globalPath } from './links.ts';
import type { Operation } from './operations.ts';
import type { HttpHealthCheckSpec } from './types.ts';

interface HttpHealthCheck {
  name?: string;
  selfLink?: string;
}

function healthCheckCall(ctx: GceContext, verb: string, name: string) {
  return { verb, what: 'http health check', resource: globalPath(ctx.project, 'httpHealthChecks', name) };
}

export async function getHttpHealthCheck(ctx: GceContext, name: string): Promise<{ name: string; selfLink: string } | undefined> {
  const hc = (await readOptional(ctx, healthCheckCall(ctx, 'get', name), () =>
    ctx.rest({ path: globalPath(ctx.project, 'httpHealthChecks', name), method: 'GET', timeoutMs: ctx.callTimeoutMs }),
  )) as HttpHealthCheck | undefined;
  return hc && { name: hc.name ?? name, selfLink: canonicalLink(ctx.linkBase, hc.selfLink ?? '') };
}

export async function insertHttpHealthCheck(ctx: GceContext, spec: HttpHealthCheckSpec): Promise<void> {
  await write(ctx, healthCheckCall(ctx, 'insert', spec.name), async (requestId) =>
    (await ctx.rest({
      path: `projects/${ctx.project}/global/httpHealthChecks`,
      method: 'POST',
      params: { requestId },
      body: { ...spec },
      timeoutMs: ctx.callTimeoutMs,
    })) as Operation,
  );
}

export async function deleteHttpHealthCheck(ctx: GceContext, name: string): Promise<void> {
  await write(ctx, healthCheckCall(ctx, 'delete', name), async (requestId) =>
    (await ctx.rest({
      path: globalPath(ctx.project, 'httpHealthChecks', name),
      method: 'DELETE',
      params: { requestId },
      timeoutMs: ctx.callTimeoutMs,
    })) as Operation,
  );
}

