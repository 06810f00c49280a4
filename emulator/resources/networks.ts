// The default network and its auto-mode subnetworks, and disk types: read-only catalogue entries
// that instance and disk inserts refer to.
import type { Call } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { DISK_TYPES, NETWORKS, REGIONS } from '../catalogue.ts';
import { notFound } from '../http/errors.ts';
import { link } from '../http/wire.ts';
import { checkRegion, checkZone, listResponse } from './common.ts';

function networkResource(project: string, name: string): Resource {
  return {
    kind: 'compute#network',
    id: '4004',
    creationTimestamp: '2024-01-01T00:00:00.000-08:00',
    name,
    description: 'Default network for the project',
    autoCreateSubnetworks: true,
    routingConfig: { routingMode: 'REGIONAL' },
    networkFirewallPolicyEnforcementOrder: 'AFTER_CLASSIC_FIREWALL',
    subnetworks: REGIONS.map((r) => link(`projects/${project}/regions/${r.name}/subnetworks/${name}`)),
    selfLink: link(`projects/${project}/global/networks/${name}`),
  };
}

function subnetworkResource(project: string, region: string, name: string): Resource {
  return {
    kind: 'compute#subnetwork',
    id: '4005',
    creationTimestamp: '2024-01-01T00:00:00.000-08:00',
    name,
    network: link(`projects/${project}/global/networks/${name}`),
    ipCidrRange: '10.128.0.0/20',
    gatewayAddress: '10.128.0.1',
    region: link(`projects/${project}/regions/${region}`),
    stackType: 'IPV4_ONLY',
    purpose: 'PRIVATE',
    fingerprint: 'pVXv0fIYeh8=',
    selfLink: link(`projects/${project}/regions/${region}/subnetworks/${name}`),
  };
}

export function networkExists(name: string): boolean {
  return NETWORKS.includes(name);
}

export function getNetwork(c: Call) {
  if (!networkExists(c.params.network as string)) throw notFound(`projects/${c.project}/global/networks/${c.params.network}`);
  return networkResource(c.project, c.params.network as string);
}

export const listNetworks = (c: Call) =>
  listResponse(
    c,
    `projects/${c.project}/global/networks`,
    'networks',
    NETWORKS.map((n) => networkResource(c.project, n)),
  );

export function getSubnetwork(c: Call) {
  checkRegion(c.params.region as string);
  if (!networkExists(c.params.subnetwork as string))
    throw notFound(`projects/${c.project}/regions/${c.params.region}/subnetworks/${c.params.subnetwork}`);
  return subnetworkResource(c.project, c.params.region as string, c.params.subnetwork as string);
}

function diskTypeResource(project: string, zone: string, name: string): Resource {
  return {
    kind: 'compute#diskType',
    id: String(30000 + DISK_TYPES.indexOf(name)),
    creationTimestamp: '1969-12-31T16:00:00.000-08:00',
    name,
    description: name,
    validDiskSize: '10GB-65536GB',
    zone: link(`projects/${project}/zones/${zone}`),
    defaultDiskSizeGb: name === 'pd-standard' ? '500' : '100',
    selfLink: link(`projects/${project}/zones/${zone}/diskTypes/${name}`),
  };
}

export function getDiskType(c: Call) {
  checkZone(c.params.zone as string);
  if (!DISK_TYPES.includes(c.params.diskType as string))
    throw notFound(`projects/${c.project}/zones/${c.params.zone}/diskTypes/${c.params.diskType}`);
  return diskTypeResource(c.project, c.params.zone as string, c.params.diskType as string);
}

export function listDiskTypes(c: Call) {
  checkZone(c.params.zone as string);
  return listResponse(
    c,
    `projects/${c.project}/zones/${c.params.zone}/diskTypes`,
    'diskTypes',
    DISK_TYPES.map((d) => diskTypeResource(c.project, c.params.zone as string, d)),
  );
}
