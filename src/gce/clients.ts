// The per-resource clients of @google-cloud/compute, deep-imported so that the bundle carries only
// these (the package index loads every v1/v1beta/v1small client: ~0.8 s and ~49 MB bundled), and
// created on first use.

import './esm-dirname.ts';
import { AddressesClient } from '@google-cloud/compute/build/src/v1/addresses_client.js';
import { FirewallsClient } from '@google-cloud/compute/build/src/v1/firewalls_client.js';
import { ForwardingRulesClient } from '@google-cloud/compute/build/src/v1/forwarding_rules_client.js';
import { GlobalOperationsClient } from '@google-cloud/compute/build/src/v1/global_operations_client.js';
import { InstanceGroupManagersClient } from '@google-cloud/compute/build/src/v1/instance_group_managers_client.js';
import { InstanceTemplatesClient } from '@google-cloud/compute/build/src/v1/instance_templates_client.js';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client.js';
import { ProjectsClient } from '@google-cloud/compute/build/src/v1/projects_client.js';
import { RegionOperationsClient } from '@google-cloud/compute/build/src/v1/region_operations_client.js';
import { TargetPoolsClient } from '@google-cloud/compute/build/src/v1/target_pools_client.js';
import { ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/zone_operations_client.js';
import { ZonesClient } from '@google-cloud/compute/build/src/v1/zones_client.js';
import type { ClientOptions } from 'google-gax';

type Closable = { initialize(): Promise<unknown>; close(): Promise<void> };

/**
 * Each accessor resolves to a client whose set-up (credentials included) has succeeded, or rejects.
 * Calling a method on a client whose set-up failed would also reject inside the library where
 * nobody can catch it (`initialize().catch(err => { throw err })`) and crash the process.
 */
export interface ComputeClients {
  instances(): Promise<InstancesClient>;
  addresses(): Promise<AddressesClient>;
  firewalls(): Promise<FirewallsClient>;
  forwardingRules(): Promise<ForwardingRulesClient>;
  targetPools(): Promise<TargetPoolsClient>;
  instanceGroupManagers(): Promise<InstanceGroupManagersClient>;
  instanceTemplates(): Promise<InstanceTemplatesClient>;
  zones(): Promise<ZonesClient>;
  projects(): Promise<ProjectsClient>;
  zoneOperations(): Promise<ZoneOperationsClient>;
  regionOperations(): Promise<RegionOperationsClient>;
  globalOperations(): Promise<GlobalOperationsClient>;
  /** Closes every client created so far (their HTTP agents); never throws. */
  close(): Promise<void>;
}

export function createClients(options: ClientOptions): ComputeClients {
  const made = new Map<string, Closable>();
  // Each client gets its own copy: the constructors write defaults into the object they are given.
  async function ready<T extends Closable>(key: string, make: (o: ClientOptions) => T): Promise<T> {
    let client = made.get(key) as T | undefined;
    if (!client) {
      client = make({ ...options });
      made.set(key, client);
    }
    // Cached by the client: a failed set-up rejects again on every call, before any method is used.
    await client.initialize();
    return client;
  }
  return {
    instances: () => ready('instances', (o) => new InstancesClient(o)),
    addresses: () => ready('addresses', (o) => new AddressesClient(o)),
    firewalls: () => ready('firewalls', (o) => new FirewallsClient(o)),
    forwardingRules: () => ready('forwardingRules', (o) => new ForwardingRulesClient(o)),
    targetPools: () => ready('targetPools', (o) => new TargetPoolsClient(o)),
    instanceGroupManagers: () => ready('instanceGroupManagers', (o) => new InstanceGroupManagersClient(o)),
    instanceTemplates: () => ready('instanceTemplates', (o) => new InstanceTemplatesClient(o)),
    zones: () => ready('zones', (o) => new ZonesClient(o)),
    projects: () => ready('projects', (o) => new ProjectsClient(o)),
    zoneOperations: () => ready('zoneOperations', (o) => new ZoneOperationsClient(o)),
    regionOperations: () => ready('regionOperations', (o) => new RegionOperationsClient(o)),
    globalOperations: () => ready('globalOperations', (o) => new GlobalOperationsClient(o)),
    async close() {
      // A client whose set-up failed rejects here too; there is nothing to release.
      await Promise.allSettled([...made.values()].map((c) => c.close()));
      made.clear();
    },
  };
}
