// Regional static external addresses: the cluster's `<master>-ip`, which also carries the request
// journal in its labels (fingerprint-checked).

import { getOptional, read, write } from './calls.ts';
import type { GceContext } from './context.ts';
import { canonicalLink, lastSegment, regionalPath } from './links.ts';
import type { Address, SetLabelsRequest } from './resources.ts';
import type { AddressInfo } from './types.ts';
import { aggregatedListAll } from './paging.ts';

const STATUSES = new Set<AddressInfo['status']>(['RESERVED', 'IN_USE', 'RESERVING']);

function toAddressInfo(ctx: GceContext, a: Address): AddressInfo {
  const status = a.status as AddressInfo['status'];
  return {
    name: a.name ?? '',
    region: lastSegment(a.region),
    address: a.address ?? '',
    // RESERVING is the only transitional state GCE documents; unknown values are treated as it.
    status: STATUSES.has(status) ? status : 'RESERVING',
    users: (a.users ?? []).map((u) => canonicalLink(ctx.linkBase, u)),
    labels: { ...(a.labels ?? {}) },
    labelFingerprint: a.labelFingerprint ?? '',
  };
}

function addressPath(ctx: GceContext, region: string, name: string): string {
  return regionalPath(ctx.project, region, 'addresses', name);
}

function addressCall(ctx: GceContext, verb: string, region: string, name: string) {
  return { verb, what: 'address', resource: addressPath(ctx, region, name) };
}

export async function getAddress(ctx: GceContext, region: string, name: string): Promise<AddressInfo | undefined> {
  const a = await getOptional<Address>(ctx, addressCall(ctx, 'get', region, name), addressPath(ctx, region, name));
  return a && toAddressInfo(ctx, a);
}

/** Every regional address of the project (aggregatedList, all pages): the janitor finds clusters by their labels. */
export async function listAddresses(ctx: GceContext): Promise<AddressInfo[]> {
  const path = `projects/${ctx.project}/aggregated/addresses`;
  const all = await read(ctx, { verb: 'list', what: 'addresses', resource: path }, () =>
    aggregatedListAll<'addresses', Address>(ctx, path, 'addresses'),
  );
  return all.filter((a) => a.region).map((a) => toAddressInfo(ctx, a));
}

export async function insertAddress(ctx: GceContext, region: string, name: string, labels: Record<string, string>): Promise<void> {
  const body: Address = { name, addressType: 'EXTERNAL', labels };
  await write(ctx, addressCall(ctx, 'insert', region, name), {
    method: 'POST',
    path: `projects/${ctx.project}/regions/${region}/addresses`,
    body,
  });
}

export async function setAddressLabels(
  ctx: GceContext,
  region: string,
  name: string,
  labels: Record<string, string>,
  fingerprint: string,
): Promise<void> {
  const body: SetLabelsRequest = { labels, labelFingerprint: fingerprint };
  await write(ctx, addressCall(ctx, 'set labels of', region, name), {
    method: 'POST',
    path: `${addressPath(ctx, region, name)}/setLabels`,
    body,
  });
}

export async function deleteAddress(ctx: GceContext, region: string, name: string): Promise<void> {
  await write(ctx, addressCall(ctx, 'delete', region, name), { method: 'DELETE', path: addressPath(ctx, region, name) });
}
