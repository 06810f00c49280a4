// Global legacy HTTP health checks (the only kind a target pool accepts).
import type { Call } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { registerEffect } from '../operations.ts';
import { inUse, invalid, notFound } from '../http/errors.ts';
import { link, pathOf } from '../http/wire.ts';
import { baseFields, bodyAs, checkName, listResponse, mustBeFree, mustGet, write } from './common.ts';

export const healthCheckPath = (project: string, name: string) => `projects/${project}/global/httpHealthChecks/${name}`;

interface HealthCheckBody {
  name?: string;
  description?: string;
  host?: string;
  port?: number;
  requestPath?: string;
  checkIntervalSec?: number;
  timeoutSec?: number;
  healthyThreshold?: number;
  unhealthyThreshold?: number;
}

registerEffect('httpHealthChecks.insert', {
  done(ctx, args) {
    ctx.store.put(args.path as string, args.check as Resource);
  },
});
registerEffect('httpHealthChecks.delete', {
  done(ctx, args) {
    const path = args.path as string;
    const user = poolUsing(
      ctx.store.entries((p) => p.includes('/targetPools/')).map(([, r]) => r),
      path,
    );
    if (user) throw inUse('http_health_check', path, user);
    if (!ctx.store.delete(path)) throw notFound(path);
  },
});

function poolUsing(pools: Resource[], checkPath: string): string | undefined {
  const pool = pools.find((p) => ((p.healthChecks as string[] | undefined) ?? []).includes(link(checkPath)));
  return pool ? pathOf(String(pool.selfLink), '') : undefined;
}

export function insertHttpHealthCheck(c: Call) {
  const body = bodyAs<HealthCheckBody>(c, 'HttpHealthCheck');
  const name = checkName(body.name);
  const path = healthCheckPath(c.project, name);
  return write(c, {
    scope: { global: true },
    operationType: 'insert',
    targetPath: path,
    effect: 'httpHealthChecks.insert',
    args: { path },
    prepare() {
      mustBeFree(c.ctx, path);
      const port = body.port ?? 80;
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw invalid(`Invalid value for field 'resource.port': '${port}'. Must be between 1 and 65535.`);
      const requestPath = body.requestPath ?? '/';
      if (!requestPath.startsWith('/'))
        throw invalid(`Invalid value for field 'resource.requestPath': '${requestPath}'. Must start with '/'.`);
      const check: Resource = {
        ...baseFields('httpHealthChecks', path, c.project, { global: true }, name),
        ...(body.description ? { description: body.description } : {}),
        ...(body.host ? { host: body.host } : {}),
        requestPath,
        port,
        checkIntervalSec: body.checkIntervalSec ?? 5,
        timeoutSec: body.timeoutSec ?? 5,
        unhealthyThreshold: body.unhealthyThreshold ?? 2,
        healthyThreshold: body.healthyThreshold ?? 2,
      };
      this.args.check = check;
      this.targetId = String(check.id);
    },
  });
}

export const getHttpHealthCheck = (c: Call) => mustGet(c.ctx, healthCheckPath(c.project, c.params.httpHealthCheck as string));

export function listHttpHealthChecks(c: Call) {
  const coll = `projects/${c.project}/global/httpHealthChecks`;
  return listResponse(c, coll, 'httpHealthChecks', c.ctx.store.list(coll));
}

export function deleteHttpHealthCheck(c: Call) {
  const path = healthCheckPath(c.project, c.params.httpHealthCheck as string);
  const check = mustGet(c.ctx, path);
  return write(c, {
    scope: { global: true },
    operationType: 'delete',
    targetPath: path,
    targetId: String(check.id),
    effect: 'httpHealthChecks.delete',
    args: { path },
    prepare() {
      const user = poolUsing(
        c.ctx.store.entries((p) => p.startsWith(`projects/${c.project}/`) && p.includes('/targetPools/')).map(([, r]) => r),
        path,
      );
      if (user) throw inUse('http_health_check', path, user);
    },
  });
}
