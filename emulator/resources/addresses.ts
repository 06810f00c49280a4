// Regional static addresses (127.B.3.N). RESERVED until one user (an instance's access config or a
// forwarding rule) takes it, then IN_USE with `users`; never attached to two users at once.
import type { Call, EmulatorContext } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { registerEffect } from '../operations.ts';
import { conditionNotMet, inUse, invalid, notFound } from '../http/errors.ts';
import { fingerprint, link, pathOf, sameFingerprint } from '../http/wire.ts';
import {
  aggregatedResponse,
  baseFields,
  bodyAs,
  checkLabels,
  checkName,
  checkRegion,
  labelsOf,
  listResponse,
  mustBeFree,
  mustGet,
  write,
} from './common.ts';

export const addressPath = (project: string, region: string, name: string) => `projects/${project}/regions/${region}/addresses/${name}`;

export function addressesOfRegion(ctx: EmulatorContext, project: string, region: string): Resource[] {
  return ctx.store.list(`projects/${project}/regions/${region}/addresses`);
}

/** The static address with this IP in any region of the project. */
export function addressByIp(ctx: EmulatorContext, project: string, ip: string): Resource | undefined {
  return ctx.store
    .entries((p) => p.startsWith(`projects/${project}/regions/`) && p.includes('/addresses/'))
    .map(([, a]) => a)
    .find((a) => a.address === ip);
}

export function regionOfAddress(address: Resource): string {
  return String(address.region).split('/').pop() as string;
}

/** Check that `address` may be taken by `userPath` (it must be free or already this user's). */
export function checkAddressFree(address: Resource, userPath: string): void {
  const users = (address.users as string[] | undefined) ?? [];
  const other = users.find((u) => u !== link(userPath));
  if (other) throw inUse('address', pathOf(String(address.selfLink), ''), pathOf(other, ''));
}

export function useAddress(ctx: EmulatorContext, address: Resource, userPath: string): void {
  checkAddressFree(address, userPath);
  address.users = [link(userPath)];
  address.status = 'IN_USE';
  ctx.store.put(pathOf(String(address.selfLink), ''), address);
}

export function releaseAddressIp(ctx: EmulatorContext, project: string, ip: string, userPath: string): void {
  const address = addressByIp(ctx, project, ip);
  if (!address) return;
  const users = ((address.users as string[] | undefined) ?? []).filter((u) => u !== link(userPath));
  if (users.length) address.users = users;
  else {
    delete address.users;
    address.status = 'RESERVED';
  }
  ctx.store.put(pathOf(String(address.selfLink), ''), address);
}

registerEffect('addresses.insert', {
  done(ctx, args) {
    const address = args.address as Resource;
    if (!address.address) address.address = ctx.ips.allocate('static');
    ctx.store.put(args.path as string, address);
  },
});

registerEffect('addresses.delete', {
  done(ctx, args) {
    const path = args.path as string;
    const address = ctx.store.get(path);
    if (!address) throw notFound(path);
    const users = (address.users as string[] | undefined) ?? [];
    if (users.length) throw inUse('address', path, pathOf(users[0] as string, ''));
    ctx.store.delete(path);
  },
});

registerEffect('addresses.setLabels', {
  done(ctx, args) {
    const address = ctx.store.get(args.path as string);
    if (!address) throw notFound(args.path as string);
    address.labels = args.labels;
    address.labelFingerprint = fingerprint(args.labels);
    ctx.store.put(args.path as string, address);
  },
});

interface AddressBody {
  name?: string;
  address?: string;
  addressType?: string;
  description?: string;
  labels?: Record<string, string>;
  networkTier?: string;
  ipVersion?: string;
}

export function insertAddress(c: Call) {
  const region = c.params.region as string;
  checkRegion(region);
  const body = bodyAs<AddressBody>(c, 'Address');
  const name = checkName(body.name);
  const path = addressPath(c.project, region, name);
  return write(c, {
    scope: { region },
    operationType: 'insert',
    targetPath: path,
    effect: 'addresses.insert',
    args: { path },
    prepare() {
      mustBeFree(c.ctx, path);
      const addressType = body.addressType ?? 'EXTERNAL';
      if (addressType !== 'EXTERNAL' && addressType !== 'INTERNAL')
        throw invalid(`Invalid value for field 'resource.addressType': '${addressType}'.`);
      const labels = labelsOf(body.labels);
      checkLabels(labels);
      if (body.address && !c.ctx.ips.claimStatic(body.address)) {
        throw invalid(`Invalid value for field 'resource.address': '${body.address}'. Specified IP address is not available.`);
      }
      const resource: Resource = {
        ...baseFields('addresses', path, c.project, { region }, name),
        ...(body.description ? { description: body.description } : {}),
        ...(body.address ? { address: body.address } : {}),
        status: 'RESERVED',
        addressType,
        ...(addressType === 'EXTERNAL' ? { networkTier: body.networkTier ?? 'PREMIUM' } : { purpose: 'GCE_ENDPOINT' }),
        ipVersion: body.ipVersion ?? 'IPV4',
        labels,
        labelFingerprint: fingerprint(labels),
      };
      this.args.address = resource;
      this.targetId = String(resource.id);
    },
  });
}

export function getAddress(c: Call) {
  checkRegion(c.params.region as string);
  return mustGet(c.ctx, addressPath(c.project, c.params.region as string, c.params.address as string));
}

export function listAddresses(c: Call) {
  const region = c.params.region as string;
  checkRegion(region);
  return listResponse(c, `projects/${c.project}/regions/${region}/addresses`, 'addresses', addressesOfRegion(c.ctx, c.project, region));
}

export const aggregatedAddresses = (c: Call) =>
  aggregatedResponse(c, 'addresses', 'regions', (region) => addressesOfRegion(c.ctx, c.project, region));

export function deleteAddress(c: Call) {
  const region = c.params.region as string;
  checkRegion(region);
  const path = addressPath(c.project, region, c.params.address as string);
  const address = mustGet(c.ctx, path);
  return write(c, {
    scope: { region },
    operationType: 'delete',
    targetPath: path,
    targetId: String(address.id),
    effect: 'addresses.delete',
    args: { path },
    prepare() {
      const users = (address.users as string[] | undefined) ?? [];
      if (users.length) throw inUse('address', path, pathOf(users[0] as string, ''));
    },
  });
}

export function setAddressLabels(c: Call) {
  const region = c.params.region as string;
  checkRegion(region);
  const path = addressPath(c.project, region, c.params.address as string);
  const address = mustGet(c.ctx, path);
  const body = bodyAs<{ labels?: Record<string, string>; labelFingerprint?: string }>(c, 'RegionSetLabelsRequest');
  return write(c, {
    scope: { region },
    operationType: 'setLabels',
    targetPath: path,
    targetId: String(address.id),
    effect: 'addresses.setLabels',
    args: { path, labels: labelsOf(body.labels) },
    prepare() {
      checkLabels(labelsOf(body.labels));
      if (!sameFingerprint(body.labelFingerprint, address.labelFingerprint)) {
        throw conditionNotMet('Labels fingerprint either invalid or resource labels have changed');
      }
    },
  });
}
