// Zones of the project, for zone choice and region lookups; the project's default service account.

import { read } from './calls.ts';
import type { GceContext } from './context.ts';
import { lastSegment } from './links.ts';
import { listAll } from './paging.ts';
import type { Project, Zone } from './resources.ts';
import type { ZoneRecord } from './types.ts';

export async function listZones(ctx: GceContext): Promise<ZoneRecord[]> {
  const call = { verb: 'list', what: 'zones', resource: `projects/${ctx.project}/zones` };
  const zones = await read(ctx, call, () => listAll<Zone>(ctx, `projects/${ctx.project}/zones`));
  return zones
    .map((z): ZoneRecord => ({ name: z.name ?? '', region: lastSegment(z.region), status: z.status === 'UP' ? 'UP' : 'DOWN' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The account GCE gives a VM made with `email: default`: `<project number>-compute@developer.gserviceaccount.com`. */
export async function getDefaultServiceAccount(ctx: GceContext): Promise<string> {
  const call = { verb: 'get', what: 'project', resource: `projects/${ctx.project}` };
  const project = await read(ctx, call, () =>
    ctx.rest<Project>({ method: 'GET', path: `projects/${ctx.project}`, timeoutMs: ctx.callTimeoutMs }),
  );
  if (!project.defaultServiceAccount) {
    throw new Error(
      `project ${ctx.project} has no default Compute Engine service account (it was deleted or never made): set the input service-account to the account the masters should run as`,
    );
  }
  return project.defaultServiceAccount;
}
