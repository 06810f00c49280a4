// The public API: one line per method and path template, relative to /compute/v1/projects/{project}/.
import type { Call } from '../context.ts';
import * as zones from '../resources/zones.ts';
import * as regions from '../resources/regions.ts';
import * as images from '../resources/images.ts';
import * as machineTypes from '../resources/machineTypes.ts';
import * as networks from '../resources/networks.ts';
import * as instances from '../resources/instances.ts';
import * as disks from '../resources/disks.ts';
import * as addresses from '../resources/addresses.ts';
import * as firewalls from '../resources/firewalls.ts';
import * as healthChecks from '../resources/httpHealthChecks.ts';
import * as pools from '../resources/targetPools.ts';
import * as rules from '../resources/forwardingRules.ts';
import * as templates from '../resources/instanceTemplates.ts';
import * as groups from '../resources/instanceGroupManagers.ts';
import * as operations from '../resources/operations.ts';
import * as projects from '../resources/projects.ts';
import * as guest from '../resources/guest.ts';

export type Handler = (call: Call) => unknown;
export interface Route {
  method: string;
  template: string;
  handler: Handler;
  write: boolean;
}

const table: Array<[string, string, Handler]> = [
  ['GET', '', projects.getProject],
  ['GET', 'zones', zones.listZones],
  ['GET', 'zones/{zone}', zones.getZone],
  ['GET', 'regions', regions.listRegions],
  ['GET', 'regions/{region}', regions.getRegion],
  ['GET', 'global/images', images.listImages],
  ['GET', 'global/images/family/{family}', images.getImageFromFamily],
  ['GET', 'global/images/{image}', images.getImage],
  ['GET', 'zones/{zone}/machineTypes', machineTypes.listMachineTypes],
  ['GET', 'zones/{zone}/machineTypes/{machineType}', machineTypes.getMachineType],
  ['GET', 'aggregated/machineTypes', machineTypes.aggregatedMachineTypes],
  ['GET', 'zones/{zone}/diskTypes', networks.listDiskTypes],
  ['GET', 'zones/{zone}/diskTypes/{diskType}', networks.getDiskType],
  ['GET', 'global/networks', networks.listNetworks],
  ['GET', 'global/networks/{network}', networks.getNetwork],
  ['GET', 'regions/{region}/subnetworks/{subnetwork}', networks.getSubnetwork],

  ['POST', 'zones/{zone}/instances', instances.insertInstance],
  ['GET', 'zones/{zone}/instances', instances.listInstances],
  ['GET', 'aggregated/instances', instances.aggregatedInstances],
  ['GET', 'zones/{zone}/instances/{instance}', instances.getInstance],
  ['DELETE', 'zones/{zone}/instances/{instance}', instances.deleteInstance],
  ['POST', 'zones/{zone}/instances/{instance}/setMetadata', instances.setMetadata],
  ['POST', 'zones/{zone}/instances/{instance}/setLabels', instances.setLabels],
  ['POST', 'zones/{zone}/instances/{instance}/setTags', instances.setTags],
  ['POST', 'zones/{zone}/instances/{instance}/addAccessConfig', instances.addAccessConfig],
  ['POST', 'zones/{zone}/instances/{instance}/deleteAccessConfig', instances.deleteAccessConfig],
  ['POST', 'zones/{zone}/instances/{instance}/start', instances.startInstance],
  ['POST', 'zones/{zone}/instances/{instance}/stop', instances.stopInstance],
  ['POST', 'zones/{zone}/instances/{instance}/reset', instances.resetInstance],
  ['GET', 'zones/{zone}/instances/{instance}/serialPort', guest.getSerialPortOutput],
  ['GET', 'zones/{zone}/instances/{instance}/getGuestAttributes', guest.getGuestAttributes],

  ['POST', 'zones/{zone}/disks', disks.insertDisk],
  ['GET', 'zones/{zone}/disks', disks.listDisks],
  ['GET', 'aggregated/disks', disks.aggregatedDisks],
  ['GET', 'zones/{zone}/disks/{disk}', disks.getDisk],
  ['DELETE', 'zones/{zone}/disks/{disk}', disks.deleteDisk],

  ['POST', 'regions/{region}/addresses', addresses.insertAddress],
  ['GET', 'regions/{region}/addresses', addresses.listAddresses],
  ['GET', 'aggregated/addresses', addresses.aggregatedAddresses],
  ['GET', 'regions/{region}/addresses/{address}', addresses.getAddress],
  ['DELETE', 'regions/{region}/addresses/{address}', addresses.deleteAddress],
  ['POST', 'regions/{region}/addresses/{address}/setLabels', addresses.setAddressLabels],

  ['POST', 'global/firewalls', firewalls.insertFirewall],
  ['GET', 'global/firewalls', firewalls.listFirewalls],
  ['GET', 'global/firewalls/{firewall}', firewalls.getFirewall],
  ['DELETE', 'global/firewalls/{firewall}', firewalls.deleteFirewall],
  ['PATCH', 'global/firewalls/{firewall}', firewalls.patchFirewall],

  ['POST', 'global/httpHealthChecks', healthChecks.insertHttpHealthCheck],
  ['GET', 'global/httpHealthChecks', healthChecks.listHttpHealthChecks],
  ['GET', 'global/httpHealthChecks/{httpHealthCheck}', healthChecks.getHttpHealthCheck],
  ['DELETE', 'global/httpHealthChecks/{httpHealthCheck}', healthChecks.deleteHttpHealthCheck],

  ['POST', 'regions/{region}/targetPools', pools.insertTargetPool],
  ['GET', 'regions/{region}/targetPools', pools.listTargetPools],
  ['GET', 'aggregated/targetPools', pools.aggregatedTargetPools],
  ['GET', 'regions/{region}/targetPools/{targetPool}', pools.getTargetPool],
  ['DELETE', 'regions/{region}/targetPools/{targetPool}', pools.deleteTargetPool],
  ['POST', 'regions/{region}/targetPools/{targetPool}/addInstance', pools.addInstance],
  ['POST', 'regions/{region}/targetPools/{targetPool}/removeInstance', pools.removeInstance],
  ['POST', 'regions/{region}/targetPools/{targetPool}/addHealthCheck', pools.addHealthCheck],
  ['POST', 'regions/{region}/targetPools/{targetPool}/removeHealthCheck', pools.removeHealthCheck],
  ['POST', 'regions/{region}/targetPools/{targetPool}/getHealth', pools.getHealth],

  ['POST', 'regions/{region}/forwardingRules', rules.insertForwardingRule],
  ['GET', 'regions/{region}/forwardingRules', rules.listForwardingRules],
  ['GET', 'aggregated/forwardingRules', rules.aggregatedForwardingRules],
  ['GET', 'regions/{region}/forwardingRules/{forwardingRule}', rules.getForwardingRule],
  ['DELETE', 'regions/{region}/forwardingRules/{forwardingRule}', rules.deleteForwardingRule],

  ['POST', 'global/instanceTemplates', templates.insertInstanceTemplate],
  ['GET', 'global/instanceTemplates', templates.listInstanceTemplates],
  ['GET', 'aggregated/instanceTemplates', templates.aggregatedInstanceTemplates],
  ['GET', 'global/instanceTemplates/{instanceTemplate}', templates.getInstanceTemplate],
  ['DELETE', 'global/instanceTemplates/{instanceTemplate}', templates.deleteInstanceTemplate],

  ['POST', 'zones/{zone}/instanceGroupManagers', groups.insertInstanceGroupManager],
  ['GET', 'zones/{zone}/instanceGroupManagers', groups.listInstanceGroupManagers],
  ['GET', 'aggregated/instanceGroupManagers', groups.aggregatedInstanceGroupManagers],
  ['GET', 'zones/{zone}/instanceGroupManagers/{instanceGroupManager}', groups.getInstanceGroupManager],
  ['DELETE', 'zones/{zone}/instanceGroupManagers/{instanceGroupManager}', groups.deleteInstanceGroupManager],
  ['POST', 'zones/{zone}/instanceGroupManagers/{instanceGroupManager}/resize', groups.resizeInstanceGroupManager],
  ['POST', 'zones/{zone}/instanceGroupManagers/{instanceGroupManager}/listManagedInstances', groups.listManagedInstances],
  ['GET', 'zones/{zone}/instanceGroups', groups.listInstanceGroups],
  ['GET', 'zones/{zone}/instanceGroups/{instanceGroup}', groups.getInstanceGroup],
  ['GET', 'zones/{zone}/autoscalers', groups.listAutoscalers],

  ['GET', 'zones/{zone}/operations', operations.listOperations],
  ['GET', 'zones/{zone}/operations/{operation}', operations.getOperation],
  ['POST', 'zones/{zone}/operations/{operation}/wait', operations.waitOperation],
  ['DELETE', 'zones/{zone}/operations/{operation}', operations.deleteOperation],
  ['GET', 'regions/{region}/operations', operations.listOperations],
  ['GET', 'regions/{region}/operations/{operation}', operations.getOperation],
  ['POST', 'regions/{region}/operations/{operation}/wait', operations.waitOperation],
  ['DELETE', 'regions/{region}/operations/{operation}', operations.deleteOperation],
  ['GET', 'global/operations', operations.listOperations],
  ['GET', 'global/operations/{operation}', operations.getOperation],
  ['POST', 'global/operations/{operation}/wait', operations.waitOperation],
  ['DELETE', 'global/operations/{operation}', operations.deleteOperation],
  ['GET', 'aggregated/operations', operations.aggregatedOperations],
];

interface Compiled {
  method: string;
  regex: RegExp;
  names: string[];
  handler: Handler;
  write: boolean;
}

const compiled: Compiled[] = table.map(([method, template, handler]) => {
  const names: string[] = [];
  const source = template
    .split('/')
    .map((seg) => {
      const m = /^\{(\w+)\}$/.exec(seg);
      if (!m) return seg;
      names.push(m[1] as string);
      return '([^/]+)';
    })
    .join('/');
  const isWrite =
    method !== 'GET' && !template.endsWith('/wait') && !template.endsWith('/getHealth') && !template.endsWith('/listManagedInstances');
  return { method, regex: new RegExp(`^${source}$`), names, handler, write: isWrite };
});

export type Match = { handler: Handler; params: Record<string, string>; write: boolean } | { methodNotAllowed: true } | undefined;

/** Finds the route for `rest` (the path after `projects/{project}/`). */
export function matchRoute(method: string, rest: string): Match {
  let pathMatched = false;
  for (const r of compiled) {
    const m = r.regex.exec(rest);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== method) continue;
    const params: Record<string, string> = {};
    r.names.forEach((n, i) => {
      params[n] = decodeURIComponent(m[i + 1] as string);
    });
    return { handler: r.handler, params, write: r.write };
  }
  return pathMatched ? { methodNotAllowed: true } : undefined;
}
