// regions.get / regions.list: the catalogue; a region's `zones` lists its zones' URLs.
import type { Call } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { REGIONS, ZONES, regionInfo } from '../catalogue.ts';
import { notFound } from '../http/errors.ts';
import { link } from '../http/wire.ts';
import { listResponse } from './common.ts';

function regionResource(project: string, name: string): Resource {
  const r = regionInfo(name);
  if (!r) throw notFound(`projects/${project}/regions/${name}`);
  return {
    kind: 'compute#region',
    id: r.id,
    creationTimestamp: '1969-12-31T16:00:00.000-08:00',
    name: r.name,
    description: r.description,
    status: 'UP',
    zones: ZONES.filter((z) => z.region === r.name).map((z) => link(`projects/${project}/zones/${z.name}`)),
    quotas: [
      { metric: 'CPUS', limit: 24, usage: 0 },
      { metric: 'IN_USE_ADDRESSES', limit: 8, usage: 0 },
      { metric: 'STATIC_ADDRESSES', limit: 8, usage: 0 },
    ],
    selfLink: link(`projects/${project}/regions/${r.name}`),
    supportsPzs: false,
  };
}

export const getRegion = (c: Call) => regionResource(c.project, c.params.region as string);
export const listRegions = (c: Call) =>
  listResponse(
    c,
    `projects/${c.project}/regions`,
    'regions',
    REGIONS.map((r) => regionResource(c.project, r.name)),
  );
