// Long-running operations. A write is checked at once (errors are HTTP errors), then becomes an
// Operation that goes PENDING -> RUNNING -> DONE after a latency configured per operationType. Its
// effect is applied at DONE, unless a fault makes it end with `error.errors[]` (then nothing changes).
// The effect is stored as data (name + args), so operations left unfinished by a crash complete
// after a restart.
import { randomBytes } from 'node:crypto';
import type { EmulatorContext } from './context.ts';
import type { Resource } from './store/store.ts';
import { ApiError, invalid } from './http/errors.ts';
import { link, newId, timestamp } from './http/wire.ts';

export interface Effect {
  /** When the operation starts RUNNING (e.g. an instance goes STAGING). */
  running?(ctx: EmulatorContext, args: Record<string, unknown>): void;
  /** The write itself, at DONE. May throw an ApiError: the operation then ends with that error. */
  done(ctx: EmulatorContext, args: Record<string, unknown>): void;
  /** Undo what `running` or the synchronous part did, when the operation ends with an error. */
  failed?(ctx: EmulatorContext, args: Record<string, unknown>): void;
}

const effects = new Map<string, Effect>();

export function registerEffect(name: string, effect: Effect): void {
  effects.set(name, effect);
}

export type Scope = { zone: string } | { region: string } | { global: true };

export interface OperationRequest {
  project: string;
  scope: Scope;
  operationType: string;
  targetPath: string;
  targetId?: string;
  effect: string;
  args: Record<string, unknown>;
  requestId?: string | null;
  /** End with this error whatever happens (e.g. an insert into a zone that is DOWN). */
  forcedError?: OperationError;
}

export interface OperationError {
  code: string;
  message: string;
  httpStatus?: number;
}

export interface OperationSettings {
  defaultLatencyMs: number;
  latencyMs: Record<string, number>;
  waitTimeoutMs: number;
}

type OperationResource = Resource & { status: string; __effect?: { name: string; args: Record<string, unknown> } };

const REQUEST_ID_WINDOW_MS = 60 * 60 * 1000;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function scopePath(project: string, scope: Scope): string {
  if ('zone' in scope) return `projects/${project}/zones/${scope.zone}`;
  if ('region' in scope) return `projects/${project}/regions/${scope.region}`;
  return `projects/${project}/global`;
}

const HTTP_NAMES: Record<number, string> = {
  400: 'BAD REQUEST',
  403: 'FORBIDDEN',
  404: 'NOT FOUND',
  409: 'CONFLICT',
  412: 'PRECONDITION FAILED',
  429: 'TOO MANY REQUESTS',
  503: 'SERVICE UNAVAILABLE',
};

function operationCodeFor(err: ApiError): string {
  switch (err.reason) {
    case 'alreadyExists':
      return 'RESOURCE_ALREADY_EXISTS';
    case 'notFound':
      return 'RESOURCE_NOT_FOUND';
    case 'resourceInUseByAnotherResource':
      return 'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE';
    case 'conditionNotMet':
      return 'CONDITION_NOT_MET';
    default:
      return 'INVALID_USAGE';
  }
}

export class Operations {
  readonly settings: OperationSettings;
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private ctx!: EmulatorContext;
  private stopped = false;

  constructor(settings: OperationSettings) {
    this.settings = settings;
  }

  attach(ctx: EmulatorContext): void {
    this.ctx = ctx;
  }

  latencyFor(operationType: string): number {
    return this.settings.latencyMs[operationType] ?? this.settings.defaultLatencyMs;
  }

  /** The operation already made for this requestId in the last hour, if any (GCE's de-duplication). */
  private byRequestId(project: string, requestId: string): OperationResource | undefined {
    const since = Date.now() - REQUEST_ID_WINDOW_MS;
    return this.ctx.store
      .entries((p) => p.startsWith(`projects/${project}/`) && p.includes('/operations/'))
      .map(([, op]) => op as OperationResource)
      .find((op) => op.__requestId === requestId && Number(op.__createdMs) >= since);
  }

  checkRequestId(project: string, requestId: string | null | undefined): OperationResource | undefined {
    if (requestId === undefined || requestId === null || requestId === '') return undefined;
    if (!UUID.test(requestId) || /^[0-]+$/.test(requestId)) {
      throw invalid(
        `Invalid value for field 'requestId': '${requestId}'. The request ID must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000).`,
      );
    }
    return this.byRequestId(project, requestId);
  }

  start(req: OperationRequest): OperationResource {
    const now = Date.now();
    const name = `operation-${now}-${randomBytes(7).toString('hex').slice(0, 13)}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`;
    const scopeP = scopePath(req.project, req.scope);
    const path = `${scopeP}/operations/${name}`;
    const fault = req.forcedError ?? this.ctx.faults.takeOperationError(req.operationType, req.targetPath);
    const op: OperationResource = {
      kind: 'compute#operation',
      id: newId(),
      name,
      operationType: req.operationType,
      targetLink: link(req.targetPath),
      ...(req.targetId ? { targetId: req.targetId } : {}),
      status: 'PENDING',
      user: 'emulator@ha-masters.local',
      progress: 0,
      insertTime: timestamp(now),
      selfLink: link(path),
      ...('zone' in req.scope ? { zone: link(scopeP) } : {}),
      ...('region' in req.scope ? { region: link(scopeP) } : {}),
      __effect: { name: req.effect, args: req.args },
      __createdMs: now,
      __latencyMs: this.latencyFor(req.operationType),
      ...(req.requestId ? { __requestId: req.requestId } : {}),
      ...(fault ? { __fault: fault } : {}),
    };
    this.ctx.store.put(path, op);
    this.schedule(path, op);
    return op;
  }

  /** Finish (after a restart) every operation that was not DONE. */
  resumeAll(): void {
    for (const [path, op] of this.ctx.store.entries((p) => p.includes('/operations/'))) {
      if ((op as OperationResource).status !== 'DONE') this.schedule(path, op as OperationResource);
    }
  }

  private schedule(path: string, op: OperationResource): void {
    const latency = Number(op.__latencyMs ?? this.settings.defaultLatencyMs);
    const elapsed = Date.now() - Number(op.__createdMs ?? Date.now());
    const toRunning = Math.max(0, Math.floor(latency / 3) - elapsed);
    const toDone = Math.max(0, latency - elapsed);
    this.later(toRunning, () => this.markRunning(path));
    this.later(toDone, () => this.finish(path));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.stopped) return;
      try {
        fn();
      } catch (e) {
        this.ctx.log(`operation step failed: ${(e as Error).stack ?? e}`);
      }
    }, ms);
    this.timers.add(t);
  }

  private markRunning(path: string): void {
    const op = this.ctx.store.get<OperationResource>(path);
    if (!op || op.status !== 'PENDING') return;
    op.status = 'RUNNING';
    op.progress = 0;
    op.startTime = timestamp();
    const effect = op.__effect && effects.get(op.__effect.name);
    if (effect?.running && !op.__fault) effect.running(this.ctx, op.__effect!.args);
    this.ctx.store.put(path, op);
    this.ctx.worldChanged();
  }

  private finish(path: string): void {
    const op = this.ctx.store.get<OperationResource>(path);
    if (!op || op.status === 'DONE') return;
    if (op.status === 'PENDING') this.markRunning(path);
    const effect = op.__effect && effects.get(op.__effect.name);
    const args = op.__effect?.args ?? {};
    let error = op.__fault as OperationError | undefined;
    if (!error && effect) {
      try {
        effect.done(this.ctx, args);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        error = { code: operationCodeFor(e), message: e.message, httpStatus: e.status };
      }
    }
    if (error) {
      effect?.failed?.(this.ctx, args);
      const status = error.httpStatus ?? 400;
      op.error = { errors: [{ code: error.code, message: error.message }] };
      op.httpErrorStatusCode = status;
      op.httpErrorMessage = HTTP_NAMES[status] ?? 'ERROR';
    }
    op.status = 'DONE';
    op.progress = 100;
    op.endTime = timestamp();
    delete op.__effect;
    this.ctx.store.put(path, op);
    this.ctx.worldChanged();
    for (const wake of this.waiters.get(path) ?? []) wake();
    this.waiters.delete(path);
  }

  /** Resolves when the operation is DONE or after the wait bound, whichever comes first. */
  async wait(path: string): Promise<void> {
    const op = this.ctx.store.get<OperationResource>(path);
    if (!op || op.status === 'DONE') return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, this.settings.waitTimeoutMs);
      const list = this.waiters.get(path) ?? [];
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      list.push(done);
      this.waiters.set(path, list);
    });
  }

  /** Is an insert of this resource still in flight? (Its name is taken.) */
  pendingTarget(targetPath: string, operationType = 'insert'): boolean {
    const target = link(targetPath);
    return this.ctx.store
      .entries((p) => p.includes('/operations/'))
      .some(([, op]) => op.status !== 'DONE' && op.targetLink === target && op.operationType === operationType);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const list of this.waiters.values()) for (const wake of list) wake();
    this.waiters.clear();
  }
}
