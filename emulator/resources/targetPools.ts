// Regional target pools: a set of instances of the pool's region and at most one legacy HTTP health
// check. getHealth answers from the VM runtime's last probe.
import type { Call, EmulatorContext } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { registerEffect } from '../operations.ts';
import { inUse, invalid, notFound } from '../http/errors.ts';
import { link, pathOf } from '../http/wire.ts';
import { healthCheckOf } from '../world.ts';
import {
  aggregatedResponse,
  baseFields,
  bodyAs,
  checkName,
  checkRegion,
  listResponse,
  mustBeFree,
  mustGet,
  regionOfZone,
  write,
} from './common.ts';

export const targetPoolPath = (project: string, region: string, name: string) =>
  `projects/${project}/regions/${region}/targetPools/${name}`;

type Pool = Resource & { instances?: string[]; healthChecks?: string[] };

/** Instance links as stored: each must exist and be in the pool's region. */
function instanceLinks(c: Call, region: string, refs: Array<string | undefined>, field: string): string[] {
  return refs.map((ref, i) => {
    if (!ref) throw invalid(`Required field '${field}[${i}].instance' not specified`);
    const path = pathOf(ref, c.project);
    if (!/^projects\/[^/]+\/zones\/[^/]+\/instances\/[^/]+$/.test(path))
      throw invalid(`Invalid value for field '${field}[${i}]': '${ref}'. Not an instance URL.`);
    mustGet(c.ctx, path);
    if (regionOfZone(path.split('/')[3] as string) !== region) {
      throw invalid(`Invalid value for field '${field}[${i}]': '${ref}'. Instance must be in the same region as the target pool.`);
    }
    return link(path);
  });
}

function healthCheckLinks(c: Call, refs: Array<string | undefined>, field: string): string[] {
  const links = refs.map((ref, i) => {
    if (!ref) throw invalid(`Required field '${field}[${i}].healthCheck' not specified`);
    const path = pathOf(ref.includes('/') ? ref : `global/httpHealthChecks/${ref}`, c.project);
    if (!path.includes('/global/httpHealthChecks/'))
      throw invalid(`Invalid value for field '${field}[${i}]': '${ref}'. Target pools accept only legacy HTTP health checks.`);
    mustGet(c.ctx, path);
    return link(path);
  });
  if (new Set(links).size > 1) throw invalid(`Invalid value for field '${field}': ''. Only one health check is allowed per target pool.`);
  return links;
}

function forwardingRuleUsing(ctx: EmulatorContext, poolPath: string): string | undefined {
  const hit = ctx.store.entries((p) => p.includes('/forwardingRules/')).find(([, r]) => r.target === link(poolPath));
  return hit?.[0];
}

function update(ctx: EmulatorContext, path: string, change: (pool: Pool) => void): void {
  const pool = ctx.store.get<Pool>(path);
  if (!pool) throw notFound(path);
  change(pool);
  pool.__changedAt = Date.now();
  ctx.store.put(path, pool);
}

registerEffect('targetPools.insert', {
  done(ctx, args) {
    ctx.store.put(args.path as string, { ...(args.pool as Pool), __changedAt: Date.now() });
  },
});
registerEffect('targetPools.delete', {
  done(ctx, args) {
    const user = forwardingRuleUsing(ctx, args.path as string);
    if (user) throw inUse('target_pool', args.path as string, user);
    if (!ctx.store.delete(args.path as string)) throw notFound(args.path as string);
  },
});
registerEffect('targetPools.addInstance', {
  done(ctx, args) {
    update(ctx, args.path as string, (p) => {
      p.instances = [...new Set([...(p.instances ?? []), ...(args.links as string[])])];
    });
  },
});
registerEffect('targetPools.removeInstance', {
  done(ctx, args) {
    update(ctx, args.path as string, (p) => {
      const left = (p.instances ?? []).filter((i) => !(args.links as string[]).includes(i));
      if (left.length) p.instances = left;
      else delete p.instances;
    });
  },
});
registerEffect('targetPools.addHealthCheck', {
  done(ctx, args) {
    update(ctx, args.path as string, (p) => {
      const all = [...new Set([...(p.healthChecks ?? []), ...(args.links as string[])])];
      if (all.length > 1) throw invalid("Invalid value for field 'healthChecks': ''. Only one health check is allowed per target pool.");
      p.healthChecks = all;
    });
  },
});
registerEffect('targetPools.removeHealthCheck', {
  done(ctx, args) {
    update(ctx, args.path as string, (p) => {
      const left = (p.healthChecks ?? []).filter((h) => !(args.links as string[]).includes(h));
      if (left.length) p.healthChecks = left;
      else delete p.healthChecks;
    });
  },
});

interface PoolBody {
  name?: string;
  description?: string;
  instances?: string[];
  healthChecks?: string[];
  sessionAffinity?: string;
  failoverRatio?: number;
  backupPool?: string;
}

export function insertTargetPool(c: Call) {
  const region = c.params.region as string;
  checkRegion(region);
  const body = bodyAs<PoolBody>(c, 'TargetPool');
  const name = checkName(body.name);
  const path = targetPoolPath(c.project, region, name);
  return write(c, {
    scope: { region },
    operationType: 'insert',
    targetPath: path,
    effect: 'targetPools.insert',
    args: { path },
    prepare() {
      mustBeFree(c.ctx, path);
      const instances = instanceLinks(c, region, body.instances ?? [], 'resource.instances');
      const healthChecks = healthCheckLinks(c, body.healthChecks ?? [], 'resource.healthChecks');
      const pool: Pool = {
        ...baseFields('targetPools', path, c.project, { region }, name),
        ...(body.description ? { description: body.description } : {}),
        ...(instances.length ? { instances: [...new Set(instances)] } : {}),
        ...(healthChecks.length ? { healthChecks } : {}),
        sessionAffinity: body.sessionAffinity ?? 'NONE',
        ...(body.failoverRatio !== undefined ? { failoverRatio: body.failoverRatio } : {}),
      };
      this.args.pool = pool;
      this.targetId = String(pool.id);
    },
  });
}

function regionalPool(c: Call): { region: string; path: string; pool: Pool } {
  const region = c.params.region as string;
  checkRegion(region);
  const path = targetPoolPath(c.project, region, c.params.targetPool as string);
  return { region, path, pool: mustGet<Pool>(c.ctx, path) };
}

export const getTargetPool = (c: Call) => regionalPool(c).pool;

export function listTargetPools(c: Call) {
  const region = c.params.region as string;
  checkRegion(region);
  const coll = `projects/${c.project}/regions/${region}/targetPools`;
  return listResponse(c, coll, 'targetPools', c.ctx.store.list(coll));
}

export const aggregatedTargetPools = (c: Call) =>
  aggregatedResponse(c, 'targetPools', 'regions', (region) => c.ctx.store.list(`projects/${c.project}/regions/${region}/targetPools`));

export function deleteTargetPool(c: Call) {
  const { region, path, pool } = regionalPool(c);
  return write(c, {
    scope: { region },
    operationType: 'delete',
    targetPath: path,
    targetId: String(pool.id),
    effect: 'targetPools.delete',
    args: { path },
    prepare() {
      const user = forwardingRuleUsing(c.ctx, path);
      if (user) throw inUse('target_pool', path, user);
    },
  });
}

export function addInstance(c: Call) {
  const { region, path, pool } = regionalPool(c);
  const body = bodyAs<{ instances?: Array<{ instance?: string }> }>(c, 'TargetPoolsAddInstanceRequest');
  const links = instanceLinks(
    c,
    region,
    (body.instances ?? []).map((i) => i.instance),
    'instances',
  );
  return write(c, {
    scope: { region },
    operationType: 'addInstance',
    targetPath: path,
    targetId: String(pool.id),
    effect: 'targetPools.addInstance',
    args: { path, links },
  });
}

export function removeInstance(c: Call) {
  const { region, path, pool } = regionalPool(c);
  const body = bodyAs<{ instances?: Array<{ instance?: string }> }>(c, 'TargetPoolsRemoveInstanceRequest');
  const links = (body.instances ?? []).map((i, n) => {
    if (!i.instance) throw invalid(`Required field 'instances[${n}].instance' not specified`);
    return link(pathOf(i.instance, c.project));
  });
  return write(c, {
    scope: { region },
    operationType: 'removeInstance',
    targetPath: path,
    targetId: String(pool.id),
    effect: 'targetPools.removeInstance',
    args: { path, links },
  });
}

export function addHealthCheck(c: Call) {
  const { region, path, pool } = regionalPool(c);
  const body = bodyAs<{ healthChecks?: Array<{ healthCheck?: string }> }>(c, 'TargetPoolsAddHealthCheckRequest');
  const links = healthCheckLinks(
    c,
    (body.healthChecks ?? []).map((h) => h.healthCheck),
    'healthChecks',
  );
  if (new Set([...(pool.healthChecks ?? []), ...links]).size > 1)
    throw invalid("Invalid value for field 'healthChecks': ''. Only one health check is allowed per target pool.");
  return write(c, {
    scope: { region },
    operationType: 'addHealthCheck',
    targetPath: path,
    targetId: String(pool.id),
    effect: 'targetPools.addHealthCheck',
    args: { path, links },
  });
}

export function removeHealthCheck(c: Call) {
  const { region, path, pool } = regionalPool(c);
  const body = bodyAs<{ healthChecks?: Array<{ healthCheck?: string }> }>(c, 'TargetPoolsRemoveHealthCheckRequest');
  const links = (body.healthChecks ?? []).map((h, n) => {
    if (!h.healthCheck) throw invalid(`Required field 'healthChecks[${n}].healthCheck' not specified`);
    return link(pathOf(h.healthCheck.includes('/') ? h.healthCheck : `global/httpHealthChecks/${h.healthCheck}`, c.project));
  });
  return write(c, {
    scope: { region },
    operationType: 'removeHealthCheck',
    targetPath: path,
    targetId: String(pool.id),
    effect: 'targetPools.removeHealthCheck',
    args: { path, links },
  });
}

/** One entry per forwarding rule IP in front of the pool (one without IP if there is none). */
export function getHealth(c: Call) {
  const { path, pool } = regionalPool(c);
  const body = bodyAs<{ instance?: string }>(c, 'InstanceReference');
  if (!body.instance) throw invalid("Required field 'instance' not specified");
  const instancePath = pathOf(body.instance, c.project);
  if (!(pool.instances ?? []).includes(link(instancePath))) {
    throw invalid(`Invalid value for field 'resource': '${body.instance}'. Instance is not a member of target pool '${path}'.`);
  }
  const instance = c.ctx.store.get(instancePath);
  const key = `${instancePath.split('/')[3]}/${instancePath.split('/')[5]}`;
  const check = healthCheckOf(c.ctx, pool);
  const state = !instance || instance.status !== 'RUNNING' ? 'UNHEALTHY' : check ? c.ctx.runtime.backendHealth(key, check) : 'HEALTHY';
  const rules = c.ctx.store
    .entries((p) => p.includes('/forwardingRules/'))
    .filter(([, r]) => r.target === link(path))
    .map(([, r]) => r);
  const healthStatus = (rules.length ? rules : [undefined]).map((r) => ({
    healthState: state,
    instance: link(instancePath),
    ...(r ? { ipAddress: r.IPAddress, port: Number(String(r.portRange ?? '0').split('-')[0]) } : {}),
  }));
  return { kind: 'compute#targetPoolInstanceHealth', healthStatus };
}
