// Regional static external addresses: the cluster's `<master>-ip`, which also carries the request
// journal in its labels (fingerprint-checked).

import type { google } from '@google-cloud/compute/build/protos/protos.js';
import { readOptional, write } from './calls.ts';
import { callOptions, type GceContext } from './context.ts';
import { canonicalLink, lastSegment, regionalPath } from './links.ts';
import type { AddressInfo } from './types.ts';

type Address = google.cloud.compute.v1.IAddress;

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

function addressCall(ctx: GceContext, verb: string, region: string, name: string) {
  return { verb, what: 'address', resource: regionalPath(ctx.project, region, 'addresses', name) };
}

export async function getAddress(ctx: GceContext, region: string, name: string): Promise<AddressInfo | undefined> {
  const a = await readOptional(ctx, addressCall(ctx, 'get', region, name), async () => {
    const [found] = await (await ctx.clients.addresses()).get({ project: ctx.project, region, address: name }, callOptions(ctx));
    return found;
  });
  return a && toAddressInfo(ctx, a);
}

export async function insertAddress(ctx: GceContext, region: string, name: string, labels: Record<string, string>): Promise<void> {
  await write(ctx, addressCall(ctx, 'insert', region, name), async (requestId) =>
    (await ctx.clients.addresses()).insert(
      { project: ctx.project, region, requestId, addressResource: { name, addressType: 'EXTERNAL', labels } },
      callOptions(ctx),
    ),
  );
}

export async function setAddressLabels(
  ctx: GceContext,
  region: string,
  name: string,
  labels: Record<string, string>,
  fingerprint: string,
): Promise<void> {
  await write(ctx, addressCall(ctx, 'set labels of', region, name), async (requestId) =>
    (await ctx.clients.addresses()).setLabels(
      { project: ctx.project, region, resource: name, requestId, regionSetLabelsRequestResource: { labels, labelFingerprint: fingerprint } },
      callOptions(ctx),
    ),
  );
}

export async function deleteAddress(ctx: GceContext, region: string, name: string): Promise<void> {
  await write(ctx, addressCall(ctx, 'delete', region, name), async (requestId) =>
    (await ctx.clients.addresses()).delete({ project: ctx.project, region, address: name, requestId }, callOptions(ctx)),
  );
}
