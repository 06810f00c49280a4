// Zonal managed instance groups: kube-up's node groups (`<prefix>-minion-group[-...]`), listed across
// zones and deleted (with the VMs they manage) by `down` with delete-nodes. The action never creates them.

import type { google } from '@google-cloud/compute/build/protos/protos.js';
import { read, write } from './calls.ts';
import { namePrefixFilter } from './instances.ts';
import { callOptions, type GceContext } from './context.ts';
import { lastSegment, zonalPath } from './links.ts';

type InstanceGroupManager = google.cloud.compute.v1.IInstanceGroupManager;

function groupCall(ctx: GceContext, verb: string, zone: string, name: string) {
  return { verb, what: 'managed instance group', resource: zonalPath(ctx.project, zone, 'instanceGroupManagers', name) };
}

export async function listInstanceGroupManagers(ctx: GceContext, namePrefix: string): Promise<{ name: string; zone: string }[]> {
  const filter = namePrefixFilter(namePrefix);
  const call = { verb: 'list', what: 'managed instance groups', resource: `projects/${ctx.project}/aggregated/instanceGroupManagers (${filter})` };
  // A failed page restarts the whole listing: a partial result would leave groups (and their VMs) behind.
  const all = await read(ctx, call, async () => {
    const found: InstanceGroupManager[] = [];
    const pages = (await ctx.clients.instanceGroupManagers()).aggregatedListAsync(
      { project: ctx.project, filter, maxResults: ctx.pageSize },
      { ...callOptions(ctx), autoPaginate: false },
    );
    for await (const [, scoped] of pages) found.push(...(scoped.instanceGroupManagers ?? []));
    return found;
  });
  // Only zonal groups (a regional one has `region`, not `zone`); the filter is applied here too.
  return all
    .filter((g) => g.zone && (g.name ?? '').startsWith(namePrefix))
    .map((g) => ({ name: g.name ?? '', zone: lastSegment(g.zone) }))
    .sort((a, b) => a.zone.localeCompare(b.zone) || a.name.localeCompare(b.name));
}

/** One operation: GCE deletes the group's VMs (and their auto-delete disks), then the group. */
export async function deleteInstanceGroupManager(ctx: GceContext, zone: string, name: string): Promise<void> {
  await write(ctx, groupCall(ctx, 'delete', zone, name), async (requestId) =>
    (await ctx.clients.instanceGroupManagers()).delete({ project: ctx.project, zone, instanceGroupManager: name, requestId }, callOptions(ctx)),
  );
}
