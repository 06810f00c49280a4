// Zonal managed instance groups: kube-up's node groups (`<prefix>-minion-group[-...]`), listed across
// zones and deleted (with the VMs they manage) by `down` with delete-nodes. The action never creates them.

import { read, write } from './calls.ts';
import type { GceContext } from './context.ts';
import { namePrefixFilter } from './instances.ts';
import { lastSegment, zonalPath } from './links.ts';
import { aggregatedListAll } from './paging.ts';
import type { InstanceGroupManager } from './resources.ts';

function groupPath(ctx: GceContext, zone: string, name: string): string {
  return zonalPath(ctx.project, zone, 'instanceGroupManagers', name);
}

export async function listInstanceGroupManagers(ctx: GceContext, namePrefix: string): Promise<{ name: string; zone: string }[]> {
  const filter = namePrefixFilter(namePrefix);
  const path = `projects/${ctx.project}/aggregated/instanceGroupManagers`;
  // A partial result would leave groups (and their VMs) behind: paging.ts lists all or fails.
  const all = await read(ctx, { verb: 'list', what: 'managed instance groups', resource: `${path} (${filter})` }, () =>
    aggregatedListAll<'instanceGroupManagers', InstanceGroupManager>(ctx, path, 'instanceGroupManagers', { filter }),
  );
  // Only zonal groups (a regional one has `region`, not `zone`); the filter is applied here too.
  return all
    .filter((g) => g.zone && (g.name ?? '').startsWith(namePrefix))
    .map((g) => ({ name: g.name ?? '', zone: lastSegment(g.zone) }))
    .sort((a, b) => a.zone.localeCompare(b.zone) || a.name.localeCompare(b.name));
}

/** One operation: GCE deletes the group's VMs (and their auto-delete disks), then the group. */
export async function deleteInstanceGroupManager(ctx: GceContext, zone: string, name: string): Promise<void> {
  const path = groupPath(ctx, zone, name);
  await write(ctx, { verb: 'delete', what: 'managed instance group', resource: path }, { method: 'DELETE', path });
}
