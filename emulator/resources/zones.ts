// zones.get / zones.list: the catalogue, with status DOWN for zones taken down by a fault.
import type { Call, EmulatorContext } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { ZONES, zoneInfo } from '../catalogue.ts';
import { notFound } from '../http/errors.ts';
import { link } from '../http/wire.ts';
import { listResponse } from './common.ts';

export function zoneResource(ctx: EmulatorContext, project: string, name: string): Resource {
  const z = zoneInfo(name);
  if (!z) throw notFound(`projects/${project}/zones/${name}`);
  return {
    kind: 'compute#zone',
    id: z.id,
    creationTimestamp: '1969-12-31T16:00:00.000-08:00',
    name: z.name,
    description: z.name,
    status: ctx.meta.value.downZones.includes(z.name) ? 'DOWN' : 'UP',
    region: link(`projects/${project}/regions/${z.region}`),
    selfLink: link(`projects/${project}/zones/${z.name}`),
    availableCpuPlatforms: ['Intel Broadwell', 'Intel Cascade Lake', 'AMD Milan'],
    supportsPzs: false,
  };
}

export const getZone = (c: Call) => zoneResource(c.ctx, c.project, c.params.zone as string);
export const listZones = (c: Call) =>
  listResponse(
    c,
    `projects/${c.project}/zones`,
    'zones',
    ZONES.map((z) => zoneResource(c.ctx, c.project, z.name)),
  );
