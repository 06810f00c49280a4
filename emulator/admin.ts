// The emulator's own control API under /_emulator/ (JSON): state dump, request log, faults, and the
// IAP relay's counters.
import type { EmulatorContext } from './context.ts';
import type { CrashRule, HttpFailureRule, OperationErrorRule } from './faults.ts';
import type { IapFaultRule } from './iap/faults.ts';
import { instancePath } from './resources/instances.ts';
import { zoneInfo } from './catalogue.ts';

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  time: string;
}

export class AdminError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function need<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null || value === '') throw new AdminError(400, `missing ${what}`);
  return value;
}

export function setZoneDown(ctx: EmulatorContext, zone: string, down: boolean): void {
  if (!zoneInfo(zone)) throw new AdminError(404, `unknown zone ${zone}`);
  const downZones = new Set(ctx.meta.value.downZones);
  if (down) downZones.add(zone);
  else downZones.delete(zone);
  ctx.meta.value.downZones = [...downZones];
  ctx.meta.save();
  for (const [path, vm] of ctx.store.entries((p) => p.split('/')[3] === zone && /\/instances\/[^/]+$/.test(p))) {
    if (down && ['PROVISIONING', 'STAGING', 'RUNNING', 'STOPPING'].includes(String(vm.status))) {
      ctx.store.put(path, { ...vm, status: 'TERMINATED', __zoneDown: true });
    } else if (!down && vm.__zoneDown) {
      const { __zoneDown: _, ...rest } = vm;
      ctx.store.put(path, { ...rest, status: 'RUNNING', name: vm.name });
    }
  }
  ctx.worldChanged();
}

export interface AdminDeps {
  ctx: EmulatorContext;
  requests: RequestLogEntry[];
}

/** Handles one admin call; returns the JSON answer. */
export async function handleAdmin(deps: AdminDeps, method: string, action: string, body: Record<string, unknown>): Promise<unknown> {
  const { ctx } = deps;
  const key = `${method} ${action}`;
  switch (key) {
    case 'GET state':
      return { resources: ctx.store.dump(), meta: ctx.meta.value, faults: ctx.faults.describe(), operationLatency: ctx.ops.settings };
    case 'GET requests':
      return { requests: deps.requests };
    case 'POST reset-requests':
      deps.requests.length = 0;
      return {};
    case 'POST fail':
      ctx.faults.addHttpFailure(body as unknown as HttpFailureRule);
      return ctx.faults.describe();
    case 'POST operation-error':
      need(body.operationType, 'operationType');
      need(body.code, 'code');
      ctx.faults.addOperationError(body as unknown as OperationErrorRule);
      return ctx.faults.describe();
    case 'POST latency': {
      if (typeof body.defaultMs === 'number') ctx.ops.settings.defaultLatencyMs = body.defaultMs;
      if (typeof body.operationType === 'string') ctx.ops.settings.latencyMs[body.operationType] = Number(need(body.ms, 'ms'));
      if (typeof body.waitTimeoutMs === 'number') ctx.ops.settings.waitTimeoutMs = body.waitTimeoutMs;
      return ctx.ops.settings;
    }
    case 'POST lb-delay':
      ctx.faults.lbProgrammingDelayMs = Number(need(body.ms, 'ms'));
      ctx.worldChanged();
      return ctx.faults.describe();
    case 'POST zone-down':
      setZoneDown(ctx, String(need(body.zone, 'zone')), true);
      return { downZones: ctx.meta.value.downZones };
    case 'POST zone-up':
      setZoneDown(ctx, String(need(body.zone, 'zone')), false);
      return { downZones: ctx.meta.value.downZones };
    case 'POST kill-etcd': {
      const zone = String(need(body.zone, 'zone'));
      const instance = String(need(body.instance, 'instance'));
      const project = typeof body.project === 'string' ? body.project : undefined;
      const exists =
        ctx.store.entries((p) =>
          project ? p === instancePath(project, zone, instance) : p.endsWith(`/zones/${zone}/instances/${instance}`),
        ).length > 0;
      if (!exists) throw new AdminError(404, `no instance ${zone}/${instance}`);
      await ctx.runtime.killEtcd(`${zone}/${instance}`, body.keepDown === true);
      return {};
    }
    case 'POST crash': {
      const rule = (body.crashAfter ?? body) as CrashRule;
      need(rule.path, 'path');
      new RegExp(rule.path);
      ctx.faults.crash = { ...rule, when: rule.when ?? 'afterWrite' };
      return ctx.faults.describe();
    }
    case 'GET release':
      if (!ctx.mirror) throw new AdminError(404, 'no release mirror: it runs with the debian VM runtime');
      return { manifestUrl: ctx.mirror.manifestUrl, manifest: ctx.mirror.manifest };
    case 'POST mirror-tamper': {
      if (!ctx.mirror) throw new AdminError(404, 'no release mirror: it runs with the debian VM runtime');
      const artifact = String(need(body.artifact, 'artifact'));
      if (artifact !== 'etcd' && artifact !== 'kubernetes-server')
        throw new AdminError(400, `artifact must be etcd or kubernetes-server, not ${artifact}`);
      ctx.mirror.tamper(artifact, body.tampered !== false);
      return {};
    }
    case 'GET iap':
      if (!ctx.iap) throw new AdminError(404, 'the IAP relay is not running');
      return ctx.iap.stats();
    case 'POST iap-fault':
      try {
        ctx.faults.iap.add(body as IapFaultRule);
      } catch (e) {
        throw new AdminError(400, (e as Error).message);
      }
      return ctx.faults.describe();
    case 'POST clear-faults':
      ctx.faults.clear();
      return ctx.faults.describe();
    default:
      throw new AdminError(404, `no admin action ${key}`);
  }
}
