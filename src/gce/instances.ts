// Zonal instances: the master replicas' VMs. Boot and data disks are created inline with the VM and
// deleted with it (docs/vm-contract.md); only nic0 is used.

import { getOptional, read, write } from './calls.ts';
import type { GceContext } from './context.ts';
import { canonicalLink, lastSegment, zonalPath } from './links.ts';
import { aggregatedListAll } from './paging.ts';
import type { AccessConfig, GuestAttributes, Instance, Metadata, MetadataItem, SetLabelsRequest } from './resources.ts';
import type { InstanceInfo, InstanceSpec } from './types.ts';

const NIC0 = 'nic0';
/** Google's recommended scope: the service account's IAM roles alone limit what the VM may do. */
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

function toInstanceInfo(ctx: GceContext, vm: Instance): InstanceInfo {
  const nic0 = vm.networkInterfaces?.[0];
  const dataDisk = vm.disks?.find((d) => d.deviceName === `${vm.name}-pd`);
  const metadata: Record<string, string> = {};
  for (const item of vm.metadata?.items ?? []) {
    if (item.key) metadata[item.key] = item.value ?? '';
  }
  return {
    name: vm.name ?? '',
    zone: lastSegment(vm.zone),
    status: vm.status ?? '',
    internalIp: nic0?.networkIP || undefined,
    accessConfigs: (nic0?.accessConfigs ?? []).map((ac) => ({ name: ac.name ?? '', natIP: ac.natIP || undefined })),
    labels: { ...(vm.labels ?? {}) },
    labelFingerprint: vm.labelFingerprint ?? '',
    metadata,
    metadataFingerprint: vm.metadata?.fingerprint ?? '',
    tags: [...(vm.tags?.items ?? [])],
    ...(vm.serviceAccounts?.[0]?.email ? { serviceAccount: vm.serviceAccounts[0].email } : {}),
    ...(vm.machineType ? { machineType: lastSegment(vm.machineType) } : {}),
    ...(nic0?.network ? { network: lastSegment(nic0.network) } : {}),
    ...(dataDisk?.diskSizeGb ? { dataDiskSizeGb: Number(dataDisk.diskSizeGb) } : {}),
    creationTimestamp: vm.creationTimestamp ?? '',
    selfLink: canonicalLink(ctx.linkBase, vm.selfLink ?? ''),
  };
}

function metadataItems(items: Record<string, string>): MetadataItem[] {
  return Object.entries(items).map(([key, value]) => ({ key, value }));
}

/** A server-side name filter for names starting with `prefix` (GCE's `eq` takes a full-match regex). */
export function namePrefixFilter(prefix: string): string {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\']/g, '\\$&');
  return `name eq '${escaped}.*'`;
}

/** Networks given as a bare name live under `global/networks/`. */
function networkPath(project: string, network: string): string {
  return network.includes('/') ? network : `projects/${project}/global/networks/${network}`;
}

function instancePath(ctx: GceContext, zone: string, name: string): string {
  return zonalPath(ctx.project, zone, 'instances', name);
}

export function instanceCall(ctx: GceContext, verb: string, zone: string, name: string) {
  return { verb, what: 'instance', resource: instancePath(ctx, zone, name) };
}

export async function listInstances(ctx: GceContext, namePrefix: string): Promise<InstanceInfo[]> {
  const filter = namePrefixFilter(namePrefix);
  const path = `projects/${ctx.project}/aggregated/instances`;
  const all = await read(ctx, { verb: 'list', what: 'instances', resource: `${path} (${filter})` }, () =>
    aggregatedListAll<'instances', Instance>(ctx, path, 'instances', { filter }),
  );
  // The filter is also applied here, so that a server ignoring it cannot widen the result.
  return all
    .filter((vm) => (vm.name ?? '').startsWith(namePrefix))
    .map((vm) => toInstanceInfo(ctx, vm))
    .sort((a, b) => a.zone.localeCompare(b.zone) || a.name.localeCompare(b.name));
}

export async function getInstance(ctx: GceContext, zone: string, name: string): Promise<InstanceInfo | undefined> {
  const vm = await getOptional<Instance>(ctx, instanceCall(ctx, 'get', zone, name), instancePath(ctx, zone, name));
  return vm && toInstanceInfo(ctx, vm);
}

/** One guest attribute (`<namespace>/<key>`) the VM wrote; undefined when it has not. */
export async function getGuestAttribute(ctx: GceContext, zone: string, name: string, variableKey: string): Promise<string | undefined> {
  const found = await getOptional<GuestAttributes>(
    ctx,
    instanceCall(ctx, 'getGuestAttributes', zone, name),
    `${instancePath(ctx, zone, name)}/getGuestAttributes`,
    { variableKey },
  );
  return found?.variableValue ?? undefined;
}

export function instanceResource(project: string, spec: InstanceSpec): Instance {
  return {
    name: spec.name,
    machineType: spec.machineType.includes('/') ? spec.machineType : `zones/${spec.zone}/machineTypes/${spec.machineType}`,
    tags: { items: spec.tags },
    labels: spec.labels,
    metadata: { items: metadataItems(spec.metadata) },
    disks: [
      {
        boot: true,
        autoDelete: true,
        deviceName: spec.name,
        initializeParams: { diskName: spec.name, sourceImage: spec.image },
      },
      {
        boot: false,
        autoDelete: true,
        deviceName: `${spec.name}-pd`,
        // int64 on the wire: a decimal string.
        initializeParams: {
          diskName: `${spec.name}-pd`,
          diskSizeGb: String(spec.dataDiskSizeGb),
          diskType: `zones/${spec.zone}/diskTypes/pd-ssd`,
        },
      },
    ],
    networkInterfaces: [
      {
        network: networkPath(project, spec.network),
        accessConfigs: [{ name: 'external-nat', type: 'ONE_TO_ONE_NAT', ...(spec.natIP ? { natIP: spec.natIP } : {}) }],
      },
    ],
    serviceAccounts: [{ email: spec.serviceAccount, scopes: [CLOUD_PLATFORM_SCOPE] }],
    scheduling: { automaticRestart: true, onHostMaintenance: 'MIGRATE' },
  };
}

export async function insertInstance(ctx: GceContext, spec: InstanceSpec): Promise<void> {
  await write(ctx, instanceCall(ctx, 'insert', spec.zone, spec.name), {
    method: 'POST',
    path: `projects/${ctx.project}/zones/${spec.zone}/instances`,
    body: instanceResource(ctx.project, spec),
  });
}

export async function deleteInstance(ctx: GceContext, zone: string, name: string): Promise<void> {
  await write(ctx, instanceCall(ctx, 'delete', zone, name), { method: 'DELETE', path: instancePath(ctx, zone, name) });
}

/** A hard reset (power cycle): the guest boots again and runs its start-up script. */
export async function resetInstance(ctx: GceContext, zone: string, name: string): Promise<void> {
  await write(ctx, instanceCall(ctx, 'reset', zone, name), { method: 'POST', path: `${instancePath(ctx, zone, name)}/reset` });
}

export async function setInstanceMetadata(
  ctx: GceContext,
  zone: string,
  name: string,
  items: Record<string, string>,
  fingerprint: string,
): Promise<void> {
  const body: Metadata = { fingerprint, items: metadataItems(items) };
  await write(ctx, instanceCall(ctx, 'set metadata of', zone, name), {
    method: 'POST',
    path: `${instancePath(ctx, zone, name)}/setMetadata`,
    body,
  });
}

export async function setInstanceLabels(
  ctx: GceContext,
  zone: string,
  name: string,
  labels: Record<string, string>,
  fingerprint: string,
): Promise<void> {
  const body: SetLabelsRequest = { labels, labelFingerprint: fingerprint };
  await write(ctx, instanceCall(ctx, 'set labels of', zone, name), {
    method: 'POST',
    path: `${instancePath(ctx, zone, name)}/setLabels`,
    body,
  });
}

export async function deleteAccessConfig(ctx: GceContext, zone: string, instance: string, accessConfig: string): Promise<void> {
  await write(ctx, instanceCall(ctx, `delete access config ${accessConfig} of`, zone, instance), {
    method: 'POST',
    path: `${instancePath(ctx, zone, instance)}/deleteAccessConfig`,
    query: { accessConfig, networkInterface: NIC0 },
  });
}

export async function addAccessConfig(
  ctx: GceContext,
  zone: string,
  instance: string,
  accessConfig: string,
  natIP?: string,
): Promise<void> {
  const body: AccessConfig = { name: accessConfig, type: 'ONE_TO_ONE_NAT', ...(natIP ? { natIP } : {}) };
  await write(ctx, instanceCall(ctx, `add access config ${accessConfig} to`, zone, instance), {
    method: 'POST',
    path: `${instancePath(ctx, zone, instance)}/addAccessConfig`,
    query: { networkInterface: NIC0 },
    body,
  });
}
