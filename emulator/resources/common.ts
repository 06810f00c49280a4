// Helpers shared by the resource files: scope checks, names, new-resource boilerplate, list and
// aggregatedList answers, and turning a write into an Operation.
import type { Call, EmulatorContext } from '../context.ts';
import type { Resource } from '../store/store.ts';
import type { OperationError, Scope } from '../operations.ts';
import { REGIONS, ZONES, regionInfo, zoneInfo } from '../catalogue.ts';
import { ApiError, alreadyExists, invalid, notFound } from '../http/errors.ts';
import { aggregatedListKind, link, listKind, newId, timestamp, KINDS } from '../http/wire.ts';
import { compileFilter } from '../http/filter.ts';
import { page, sortBy } from '../http/paging.ts';
import { validateBody } from '../schema.ts';

const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function checkZone(zone: string): void {
  if (!zoneInfo(zone)) throw invalid(`Invalid value for field 'zone': '${zone}'. Unknown zone.`);
}

export function checkRegion(region: string): void {
  if (!regionInfo(region)) throw invalid(`Invalid value for field 'region': '${region}'. Unknown region.`);
}

export function checkName(name: unknown, field = 'resource.name'): string {
  if (name === undefined || name === null || name === '') throw new ApiError(400, 'required', `Required field '${field}' not specified`);
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalid(
      `Invalid value for field '${field}': '${String(name)}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`,
    );
  }
  return name;
}

/** The body as an object, validated against the Compute v1 message. */
export function bodyAs<T = Record<string, unknown>>(call: Call, messageName: string): T {
  const body = call.body === undefined || call.body === '' || call.body === null ? {} : call.body;
  validateBody(messageName, body);
  return body as T;
}

export function mustGet<T extends Resource = Resource>(ctx: EmulatorContext, path: string): T {
  const r = ctx.store.get<T>(path);
  if (!r) throw notFound(path);
  return r;
}

/** Throw 409 if the resource exists or an insert of it is in flight. */
export function mustBeFree(ctx: EmulatorContext, path: string): void {
  if (ctx.store.has(path) || ctx.ops.pendingTarget(path)) throw alreadyExists(path);
}

export function scopeLink(project: string, scope: Scope): Record<string, string> {
  if ('zone' in scope) return { zone: link(`projects/${project}/zones/${scope.zone}`) };
  if ('region' in scope) return { region: link(`projects/${project}/regions/${scope.region}`) };
  return {};
}

export function baseFields(collection: string, path: string, project: string, scope: Scope, name: string): Resource {
  return {
    kind: KINDS[collection] as string,
    id: newId(),
    creationTimestamp: timestamp(),
    name,
    selfLink: link(path),
    ...scopeLink(project, scope),
  };
}

/**
 * Start a write's Operation, or hand back the one already made for the same requestId. `prepare`
 * runs only for a new request; it may fill in `args`, `targetId` and `forcedError` on the request
 * object (`this`) once its checks passed.
 */
export function write(
  call: Call,
  req: {
    forcedError?: OperationError;
    scope: Scope;
    operationType: string;
    targetPath: string;
    targetId?: string;
    effect: string;
    args: Record<string, unknown>;
    /** Synchronous checks and immediate changes; runs only when the request is new. */
    prepare?: () => void;
  },
): Resource {
  const requestId = call.query.get('requestId');
  const previous = call.ctx.ops.checkRequestId(call.project, requestId);
  if (previous) return previous;
  req.prepare?.();
  return call.ctx.ops.start({ project: call.project, requestId, ...req });
}

export function listResponse(call: Call, collectionPath: string, collection: string, items: Resource[]): object {
  const filtered = sortBy(items.filter(compileFilter(call.query.get('filter') ?? undefined)), call.query.get('orderBy') ?? undefined);
  const p = page(filtered, call.query.get('maxResults') ?? undefined, call.query.get('pageToken') ?? undefined);
  return {
    kind: listKind(collection),
    id: collectionPath,
    ...(p.items.length ? { items: p.items } : {}),
    selfLink: link(collectionPath),
    ...(p.nextPageToken ? { nextPageToken: p.nextPageToken } : {}),
  };
}

/** aggregatedList over every zone or region of the catalogue; empty scopes carry GCE's warning. */
export function aggregatedResponse(
  call: Call,
  collection: string,
  scopeKind: 'zones' | 'regions',
  itemsOf: (scope: string) => Resource[],
): object {
  const filter = compileFilter(call.query.get('filter') ?? undefined);
  const scopes = scopeKind === 'zones' ? ZONES.map((z) => z.name) : REGIONS.map((r) => r.name);
  const flat: Array<{ scope: string; item: Resource }> = [];
  for (const s of scopes) for (const item of itemsOf(s).filter(filter)) flat.push({ scope: `${scopeKind}/${s}`, item });
  const p = page(flat, call.query.get('maxResults') ?? undefined, call.query.get('pageToken') ?? undefined);
  const items: Record<string, object> = {};
  for (const s of scopes) {
    const key = `${scopeKind}/${s}`;
    const here = p.items.filter((e) => e.scope === key).map((e) => e.item);
    items[key] = here.length
      ? { [collection]: here }
      : {
          warning: {
            code: 'NO_RESULTS_ON_PAGE',
            message: `There are no results for scope '${key}' on this page.`,
            data: [{ key: 'scope', value: key }],
          },
        };
  }
  return {
    kind: aggregatedListKind(collection),
    id: `projects/${call.project}/aggregated/${collection}`,
    items,
    selfLink: link(`projects/${call.project}/aggregated/${collection}`),
    ...(p.nextPageToken ? { nextPageToken: p.nextPageToken } : {}),
  };
}

export function regionOfZone(zone: string): string {
  return zoneInfo(zone)?.region ?? zone.replace(/-[a-z]$/, '');
}

export function labelsOf(value: unknown): Record<string, string> {
  return value && typeof value === 'object' ? { ...(value as Record<string, string>) } : {};
}

const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

export function checkLabels(labels: Record<string, string>): void {
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(String(v))) {
      throw invalid(`Invalid value for field 'labels': '${k}=${v}'. Label keys and values must be lowercase letters, digits, '_' or '-'.`);
    }
  }
}
