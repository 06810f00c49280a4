// Global legacy HTTP health checks (`httpHealthChecks`), the only kind target pools accept.

import { getOptional, write } from './calls.ts';
import type { GceContext } from './context.ts';
import { canonicalLink, globalPath } from './links.ts';
import type { HttpHealthCheck } from './resources.ts';
import type { HttpHealthCheckSpec } from './types.ts';

function healthCheckPath(ctx: GceContext, name: string): string {
  return globalPath(ctx.project, 'httpHealthChecks', name);
}

function healthCheckCall(ctx: GceContext, verb: string, name: string) {
  return { verb, what: 'http health check', resource: healthCheckPath(ctx, name) };
}

export async function getHttpHealthCheck(ctx: GceContext, name: string): Promise<{ name: string; selfLink: string } | undefined> {
  const hc = await getOptional<HttpHealthCheck>(ctx, healthCheckCall(ctx, 'get', name), healthCheckPath(ctx, name));
  return hc && { name: hc.name ?? name, selfLink: canonicalLink(ctx.linkBase, hc.selfLink ?? '') };
}

export async function insertHttpHealthCheck(ctx: GceContext, spec: HttpHealthCheckSpec): Promise<void> {
  const body: HttpHealthCheck = { ...spec };
  await write(ctx, healthCheckCall(ctx, 'insert', spec.name), {
    method: 'POST',
    path: `projects/${ctx.project}/global/httpHealthChecks`,
    body,
  });
}

export async function deleteHttpHealthCheck(ctx: GceContext, name: string): Promise<void> {
  await write(ctx, healthCheckCall(ctx, 'delete', name), { method: 'DELETE', path: healthCheckPath(ctx, name) });
}
