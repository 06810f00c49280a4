// Zones of the project, for zone choice and region lookups.

import { read } from './calls.ts';
import { callOptions, type GceContext } from './context.ts';
import { lastSegment } from './links.ts';
import type { ZoneRecord } from './types.ts';

export async function listZones(ctx: GceContext): Promise<ZoneRecord[]> {
  const call = { verb: 'list', what: 'zones', resource: `projects/${ctx.project}/zones` };
  const zones = await read(ctx, call, async () => {
    const found = [];
    for await (const z of (await ctx.clients.zones()).listAsync({ project: ctx.project, maxResults: ctx.pageSize }, { ...callOptions(ctx), autoPaginate: false })) found.push(z);
    return found;
  });
  return zones
    .map((z): ZoneRecord => ({ name: z.name ?? '', region: lastSegment(z.region), status: z.status === 'UP' ? 'UP' : 'DOWN' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
