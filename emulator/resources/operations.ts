// zoneOperations / regionOperations / globalOperations: get, list, wait, delete, and the
// aggregated list over every scope.
import type { Call } from '../context.ts';
import { ZONES, REGIONS } from '../catalogue.ts';
import { notFound } from '../http/errors.ts';
import { compileFilter } from '../http/filter.ts';
import { page } from '../http/paging.ts';
import { link } from '../http/wire.ts';
import { checkRegion, checkZone, listResponse, mustGet } from './common.ts';

function scopeOf(c: Call): string {
  if (c.params.zone) {
    checkZone(c.params.zone);
    return `projects/${c.project}/zones/${c.params.zone}`;
  }
  if (c.params.region) {
    checkRegion(c.params.region);
    return `projects/${c.project}/regions/${c.params.region}`;
  }
  return `projects/${c.project}/global`;
}

const opPath = (c: Call) => `${scopeOf(c)}/operations/${c.params.operation}`;

export const getOperation = (c: Call) => mustGet(c.ctx, opPath(c));

export async function waitOperation(c: Call) {
  const path = opPath(c);
  mustGet(c.ctx, path);
  await c.ctx.ops.wait(path);
  return mustGet(c.ctx, path);
}

export function deleteOperation(c: Call) {
  const path = opPath(c);
  if (!c.ctx.store.delete(path)) throw notFound(path);
  return undefined;
}

export function listOperations(c: Call) {
  const coll = `${scopeOf(c)}/operations`;
  return listResponse(c, coll, 'operations', c.ctx.store.list(coll));
}

export function aggregatedOperations(c: Call) {
  const filter = compileFilter(c.query.get('filter') ?? undefined);
  const scopes = [...ZONES.map((z) => `zones/${z.name}`), ...REGIONS.map((r) => `regions/${r.name}`), 'global'];
  const flat = scopes.flatMap((s) =>
    c.ctx.store
      .list(`projects/${c.project}/${s}/operations`)
      .filter(filter)
      .map((item) => ({ s, item })),
  );
  const p = page(flat, c.query.get('maxResults') ?? undefined, c.query.get('pageToken') ?? undefined);
  const items: Record<string, object> = {};
  for (const s of scopes) {
    const here = p.items.filter((e) => e.s === s).map((e) => e.item);
    items[s] = here.length
      ? { operations: here }
      : {
          warning: {
            code: 'NO_RESULTS_ON_PAGE',
            message: `There are no results for scope '${s}' on this page.`,
            data: [{ key: 'scope', value: s }],
          },
        };
  }
  return {
    kind: 'compute#operationAggregatedList',
    id: `projects/${c.project}/aggregated/operations`,
    items,
    selfLink: link(`projects/${c.project}/aggregated/operations`),
    ...(p.nextPageToken ? { nextPageToken: p.nextPageToken } : {}),
  };
}
