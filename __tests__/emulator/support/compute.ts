// The official @google-cloud/compute clients pointed at an emulator, plus helpers to finish an
// operation the documented way (loop on *Operations.wait) and to read raw error bodies.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
const scope = globalThis as { __dirname?: string };
scope.__dirname ??= dirname(fileURLToPath(import.meta.url));

import { AddressesClient } from '@google-cloud/compute/build/src/v1/addresses_client.js';
import { DisksClient } from '@google-cloud/compute/build/src/v1/disks_client.js';
import { FirewallsClient } from '@google-cloud/compute/build/src/v1/firewalls_client.js';
import { ForwardingRulesClient } from '@google-cloud/compute/build/src/v1/forwarding_rules_client.js';
import { GlobalOperationsClient } from '@google-cloud/compute/build/src/v1/global_operations_client.js';
import { ImagesClient } from '@google-cloud/compute/build/src/v1/images_client.js';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client.js';
import { MachineTypesClient } from '@google-cloud/compute/build/src/v1/machine_types_client.js';
import { RegionOperationsClient } from '@google-cloud/compute/build/src/v1/region_operations_client.js';
import { RegionsClient } from '@google-cloud/compute/build/src/v1/regions_client.js';
import { TargetPoolsClient } from '@google-cloud/compute/build/src/v1/target_pools_client.js';
import { ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/zone_operations_client.js';
import { ZonesClient } from '@google-cloud/compute/build/src/v1/zones_client.js';
import { PassThroughClient } from 'google-auth-library';

export type Op = {
  name?: string | null;
  status?: string | number | null;
  zone?: string | null;
  region?: string | null;
  operationType?: string | null;
  targetLink?: string | null;
  targetId?: string | null;
  error?: { errors?: Array<{ code?: string | null; message?: string | null }> | null } | null;
  httpErrorStatusCode?: number | null;
};

export function computeClients(port: number) {
  const options = () => ({ apiEndpoint: '127.0.0.1', port, protocol: 'http', authClient: new PassThroughClient() });
  const c = {
    instances: new InstancesClient(options()),
    disks: new DisksClient(options()),
    addresses: new AddressesClient(options()),
    firewalls: new FirewallsClient(options()),
    forwardingRules: new ForwardingRulesClient(options()),
    targetPools: new TargetPoolsClient(options()),
    zones: new ZonesClient(options()),
    regions: new RegionsClient(options()),
    images: new ImagesClient(options()),
    machineTypes: new MachineTypesClient(options()),
    zoneOperations: new ZoneOperationsClient(options()),
    regionOperations: new RegionOperationsClient(options()),
    globalOperations: new GlobalOperationsClient(options()),
  };
  return {
    ...c,
    /** Loops on wait until DONE, as the client's docs say; returns the DONE operation. */
    async finish(started: unknown, project: string): Promise<Op> {
      let op = (started as [{ latestResponse: Op }])[0].latestResponse;
      while (op.status !== 'DONE') {
        const name = op.name as string;
        if (op.zone)
          [op] = (await c.zoneOperations.wait({ project, zone: op.zone.split('/').pop() as string, operation: name })) as unknown as [Op];
        else if (op.region)
          [op] = (await c.regionOperations.wait({ project, region: op.region.split('/').pop() as string, operation: name })) as unknown as [
            Op,
          ];
        else [op] = (await c.globalOperations.wait({ project, operation: name })) as unknown as [Op];
      }
      return op;
    },
    async close(): Promise<void> {
      await Promise.all(Object.values(c).map((client) => client.close()));
    },
  };
}

export type Compute = ReturnType<typeof computeClients>;

/** What the client threw: HTTP status and message (reasons are not surfaced by the client). */
export async function clientError(p: Promise<unknown>): Promise<{ httpStatusCode: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { httpStatusCode?: number; message: string };
    return { httpStatusCode: err.httpStatusCode ?? -1, message: err.message };
  }
  throw new Error('expected the call to fail');
}

/** A raw REST call, to assert the exact error body (reason) GCE-style. */
export async function raw(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/compute/v1/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

export async function admin(url: string, action: string, body?: unknown): Promise<any> {
  const res = await fetch(
    `${url}/_emulator/${action}`,
    body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  );
  const text = await res.text();
  if (!res.ok) throw new Error(`admin ${action}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
