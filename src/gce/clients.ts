// The per-resource clients of @google-cloud/compute, deep-imported so that the bundle carries only
// these (the package index loads every v1/v1beta/v1small client: ~0.8 s and ~49 MB bundled), and
// created on first use.

import './esm-dirname.ts';
import { AddressesClient } from '@google-cloud/compute/build/src/v1/addresses_client.js';
import { FirewallsClient } from '@google-cloud/compute/build/src/v1/firewalls_client.js';
import { ForwardingRulesClient } from '@google-cloud/compute/build/src/v1/forwarding_rules_client.js';
import { GlobalOperationsClient } from '@google-cloud/compute/build/src/v1/global_operations_client.js';
import { InstancesClient } from '@google-cloud/compute/build/src/v1/instances_client.js';
import { RegionOperationsClient } from '@google-cloud/compute/build/src/v1/region_operations_client.js';
import { TargetPoolsClient } from '@google-cloud/compute/build/src/v1/target_pools_client.js';
import { ZoneOperationsClient } from '@google-cloud/compute/build/src/v1/zone_operations_client.js';
import { ZonesClient } from '@google-cloud/compute/build/src/v1/zones_client.js';
import type { ClientOptions } from 'google-gax';

export interface ComputeClients {
  readonly instances: InstancesClient;
  readonly addresses: AddressesClient;
  readonly firewalls: FirewallsClient;
  readonly forwardingRules: ForwardingRulesClient;
  readonly targetPools: TargetPoolsClient;
  readonly zones: ZonesClient;
  readonly zoneOperations: ZoneOperationsClient;
  readonly regionOperations: RegionOperationsClient;
  readonly globalOperations: GlobalOperationsClient;
  /** Closes every client created so far (their HTTP agents). */
  close(): Promise<void>;
}

export function createClients(options: ClientOptions): ComputeClients {
  const made = new Map<string, { close(): Promise<void> }>();
  // Each client gets its own copy: the constructors write defaults into the object they are given.
  function lazy<T extends { close(): Promise<void> }>(key: string, make: (o: ClientOptions) => T): T {
    let client = made.get(key) as T | undefined;
    if (!client) {
      client = make({ ...options });
      made.set(key, client);
    }
    return client;
  }
  return {
    get instances() { return lazy('instances', (o) => new InstancesClient(o)); },
    get addresses() { return lazy('addresses', (o) => new AddressesClient(o)); },
    get firewalls() { return lazy('firewalls', (o) => new FirewallsClient(o)); },
    get forwardingRules() { return lazy('forwardingRules', (o) => new ForwardingRulesClient(o)); },
    get targetPools() { return lazy('targetPools', (o) => new TargetPoolsClient(o)); },
    get zones() { return lazy('zones', (o) => new ZonesClient(o)); },
    get zoneOperations() { return lazy('zoneOperations', (o) => new ZoneOperationsClient(o)); },
    get regionOperations() { return lazy('regionOperations', (o) => new RegionOperationsClient(o)); },
    get globalOperations() { return lazy('globalOperations', (o) => new GlobalOperationsClient(o)); },
    async close() {
      await Promise.all([...made.values()].map((c) => c.close()));
      made.clear();
    },
  };
}
