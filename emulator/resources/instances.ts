// Zonal VM instances. An insert makes the instance visible at once as PROVISIONING (with its
// internal IP, disks and external IP), STAGING while the operation runs and RUNNING at DONE; an
// operation that ends in error removes all of it again. Only RUNNING instances get processes.
import type { Call, EmulatorContext } from '../context.ts';
import type { Resource } from '../store/store.ts';
import type { OperationError } from '../operations.ts';
import { registerEffect } from '../operations.ts';
import { ApiError, alreadyExists, conditionNotMet, inUse, invalid, notFound } from '../http/errors.ts';
import { fingerprint, lastSegment, link, pathOf, sameFingerprint, timestamp } from '../http/wire.ts';
import { machineTypeExists } from './machineTypes.ts';
import { defaultComputeServiceAccount } from '../project-number.ts';
import { networkExists } from './networks.ts';
import { attachDisk, detachDisk, diskPath, planDisk, removeDisk, storeDisk, type DiskParams } from './disks.ts';
import { addressByIp, checkAddressFree, regionOfAddress, releaseAddressIp, useAddress } from './addresses.ts';
import {
  aggregatedResponse,
  baseFields,
  bodyAs,
  checkLabels,
  checkName,
  checkZone,
  labelsOf,
  listResponse,
  mustBeFree,
  mustGet,
  regionOfZone,
  write,
} from './common.ts';

export const instancePath = (project: string, zone: string, name: string) => `projects/${project}/zones/${zone}/instances/${name}`;

interface AccessConfigBody {
  name?: string;
  type?: string;
  natIP?: string;
  networkTier?: string;
  kind?: string;
}
interface NicBody {
  network?: string;
  subnetwork?: string;
  networkIP?: string;
  accessConfigs?: AccessConfigBody[];
  name?: string;
  stackType?: string;
  kind?: string;
}
interface AttachedDiskBody {
  boot?: boolean;
  autoDelete?: boolean;
  deviceName?: string;
  mode?: string;
  type?: string;
  source?: string;
  interface?: string;
  initializeParams?: DiskParams & {
    diskName?: string;
    diskSizeGb?: string | number;
    diskType?: string;
    sourceImage?: string;
    labels?: Record<string, string>;
  };
}
interface InstanceBody {
  name?: string;
  machineType?: string;
  description?: string;
  disks?: AttachedDiskBody[];
  networkInterfaces?: NicBody[];
  metadata?: { items?: Array<{ key?: string; value?: string }>; fingerprint?: string; kind?: string };
  labels?: Record<string, string>;
  tags?: { items?: string[] };
  scheduling?: Record<string, unknown>;
  serviceAccounts?: Array<{ email?: string; scopes?: string[] }>;
  canIpForward?: boolean;
  deletionProtection?: boolean;
}

type Nic = Record<string, unknown> & { accessConfigs?: Array<Record<string, unknown>>; networkIP: string; name: string };
type AttachedDisk = Record<string, unknown> & { source: string; boot: boolean; autoDelete: boolean };
type Instance = Resource & {
  status: string;
  networkInterfaces: Nic[];
  disks: AttachedDisk[];
  metadata: { items?: Array<{ key: string; value: string }>; fingerprint: string; kind: string };
};

function zoneIsDown(ctx: EmulatorContext, zone: string): boolean {
  return ctx.meta.value.downZones.includes(zone);
}

function zoneDownError(project: string, zone: string): OperationError {
  return {
    code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
    message: `The zone 'projects/${project}/zones/${zone}' does not have enough resources available to fulfill the request.  Try a different zone, or try again later.`,
    httpStatus: 503,
  };
}

function metadataOf(items: Array<{ key?: string; value?: string }> | undefined): Instance['metadata'] {
  const clean = (items ?? []).map((i) => ({ key: String(i.key ?? ''), value: String(i.value ?? '') }));
  const seen = new Set<string>();
  for (const i of clean) {
    if (!/^[a-zA-Z0-9_-]{1,128}$/.test(i.key))
      throw invalid(`Invalid value for field 'resource.metadata': '${i.key}'. Metadata keys must match [a-zA-Z0-9-_]{1,128}.`);
    if (seen.has(i.key)) throw invalid(`Invalid value for field 'resource.metadata': ''. Duplicate keys: ${i.key}.`);
    seen.add(i.key);
  }
  return {
    kind: 'compute#metadata',
    fingerprint: fingerprint({ items: clean, at: Date.now(), r: Math.random() }),
    ...(clean.length ? { items: clean } : {}),
  };
}

/** The static address an access config's natIP names (an IP of one of ours), checked for region and use. */
function staticAddressFor(ctx: EmulatorContext, project: string, zone: string, natIP: string, userPath: string): Resource | undefined {
  const address = addressByIp(ctx, project, natIP);
  if (!address) {
    throw invalid(
      `Invalid value for field 'resource.networkInterfaces[0].accessConfigs[0].natIP': '${natIP}'. The specified external IP address '${natIP}' was not found in region '${regionOfZone(zone)}'.`,
    );
  }
  if (regionOfAddress(address) !== regionOfZone(zone)) {
    throw invalid(
      `Invalid value for field 'resource.networkInterfaces[0].accessConfigs[0].natIP': '${natIP}'. The specified external IP address '${natIP}' was not found in region '${regionOfZone(zone)}'.`,
    );
  }
  checkAddressFree(address, userPath);
  return address;
}

function makeAccessConfig(
  ctx: EmulatorContext,
  project: string,
  zone: string,
  body: AccessConfigBody,
  userPath: string,
): Record<string, unknown> {
  const type = body.type ?? 'ONE_TO_ONE_NAT';
  if (type !== 'ONE_TO_ONE_NAT') throw invalid(`Invalid value for field 'resource.type': '${type}'. Only ONE_TO_ONE_NAT is supported.`);
  let natIP: string;
  if (body.natIP) {
    const address = staticAddressFor(ctx, project, zone, body.natIP, userPath) as Resource;
    useAddress(ctx, address, userPath);
    natIP = body.natIP;
  } else {
    natIP = ctx.ips.allocate('ephemeral');
  }
  return { kind: 'compute#accessConfig', type, name: body.name ?? 'external-nat', natIP, networkTier: body.networkTier ?? 'PREMIUM' };
}

function releaseAccessConfigs(ctx: EmulatorContext, project: string, instance: Instance, path: string): void {
  for (const nic of instance.networkInterfaces)
    for (const ac of nic.accessConfigs ?? []) releaseAddressIp(ctx, project, String(ac.natIP), path);
}

/** Everything an insert made, removed again (operation failed) or for good (delete; also a group's delete). */
export function tearDown(ctx: EmulatorContext, path: string, deleteAutoDisks: boolean): void {
  const instance = ctx.store.get<Instance>(path);
  if (!instance) return;
  const project = path.split('/')[1] as string;
  releaseAccessConfigs(ctx, project, instance, path);
  for (const d of instance.disks) {
    const dp = pathOf(d.source, project);
    detachDisk(ctx, dp, path);
    if (deleteAutoDisks && d.autoDelete) removeDisk(ctx, dp);
  }
  ctx.store.delete(path);
}

function setStatus(ctx: EmulatorContext, path: string, status: string, extra: Record<string, unknown> = {}): void {
  const instance = ctx.store.get<Instance>(path);
  if (!instance) return;
  Object.assign(instance, { status }, extra);
  // A status set by a call wins over a zone outage's TERMINATED: zone-up must not restart it.
  delete instance.__zoneDown;
  ctx.store.put(path, instance);
}

registerEffect('instances.insert', {
  running(ctx, args) {
    setStatus(ctx, args.path as string, 'STAGING');
  },
  done(ctx, args) {
    setStatus(ctx, args.path as string, 'RUNNING', { lastStartTimestamp: timestamp() });
  },
  failed(ctx, args) {
    const path = args.path as string;
    const instance = ctx.store.get<Instance>(path);
    if (!instance) return;
    // Disks made by this insert go with it; disks that existed before are only detached.
    for (const created of (args.createdDisks as string[]) ?? []) {
      detachDisk(ctx, created, path);
      removeDisk(ctx, created);
    }
    tearDown(ctx, path, false);
  },
});

registerEffect('instances.delete', {
  running(ctx, args) {
    setStatus(ctx, args.path as string, 'STOPPING');
  },
  done(ctx, args) {
    tearDown(ctx, args.path as string, true);
  },
});

registerEffect('instances.start', {
  done(ctx, args) {
    setStatus(ctx, args.path as string, 'RUNNING', { lastStartTimestamp: timestamp() });
  },
});

registerEffect('instances.stop', {
  running(ctx, args) {
    setStatus(ctx, args.path as string, 'STOPPING');
  },
  done(ctx, args) {
    setStatus(ctx, args.path as string, 'TERMINATED', { lastStopTimestamp: timestamp() });
  },
});

registerEffect('instances.reset', {
  // The processes die while the operation runs and start again at DONE: a hard reset.
  running(ctx, args) {
    setStatus(ctx, args.path as string, 'STOPPING');
  },
  done(ctx, args) {
    setStatus(ctx, args.path as string, 'RUNNING', { lastStartTimestamp: timestamp() });
  },
  failed(ctx, args) {
    setStatus(ctx, args.path as string, 'RUNNING');
  },
});

registerEffect('instances.setMetadata', {
  done(ctx, args) {
    const instance = ctx.store.get<Instance>(args.path as string);
    if (!instance) throw notFound(args.path as string);
    instance.metadata = metadataOf(args.items as Array<{ key: string; value: string }>);
    ctx.store.put(args.path as string, instance);
  },
});

registerEffect('instances.setLabels', {
  done(ctx, args) {
    const instance = ctx.store.get<Instance>(args.path as string);
    if (!instance) throw notFound(args.path as string);
    instance.labels = args.labels;
    instance.labelFingerprint = fingerprint({ labels: args.labels, at: Date.now() });
    ctx.store.put(args.path as string, instance);
  },
});

registerEffect('instances.setTags', {
  done(ctx, args) {
    const instance = ctx.store.get<Instance>(args.path as string);
    if (!instance) throw notFound(args.path as string);
    const items = args.items as string[];
    instance.tags = { ...(items.length ? { items } : {}), fingerprint: fingerprint({ items, at: Date.now() }) };
    ctx.store.put(args.path as string, instance);
  },
});

registerEffect('instances.addAccessConfig', {
  done(ctx, args) {
    const path = args.path as string;
    const instance = ctx.store.get<Instance>(path);
    if (!instance) throw notFound(path);
    const nic = instance.networkInterfaces.find((n) => n.name === args.nic);
    if (!nic) throw notFound(path);
    if ((nic.accessConfigs ?? []).length)
      throw invalid("Invalid value for field 'resource.accessConfigs': ''. At most one access config currently supported.");
    const project = path.split('/')[1] as string;
    const zone = path.split('/')[3] as string;
    nic.accessConfigs = [makeAccessConfig(ctx, project, zone, args.body as AccessConfigBody, path)];
    nic.fingerprint = fingerprint({ nic: nic.accessConfigs, at: Date.now() });
    ctx.store.put(path, instance);
  },
});

registerEffect('instances.deleteAccessConfig', {
  done(ctx, args) {
    const path = args.path as string;
    const instance = ctx.store.get<Instance>(path);
    if (!instance) throw notFound(path);
    const nic = instance.networkInterfaces.find((n) => n.name === args.nic);
    const ac = nic?.accessConfigs?.find((a) => a.name === args.accessConfig);
    if (!nic || !ac) return;
    releaseAddressIp(ctx, path.split('/')[1] as string, String(ac.natIP), path);
    nic.accessConfigs = (nic.accessConfigs ?? []).filter((a) => a !== ac);
    nic.fingerprint = fingerprint({ nic: nic.accessConfigs, at: Date.now() });
    ctx.store.put(path, instance);
  },
});

function parseDisks(c: Call, zone: string, name: string, disks: AttachedDiskBody[]): { attached: AttachedDisk[]; toCreate: Resource[] } {
  const bootCount = disks.filter((d) => d.boot).length;
  if (bootCount !== 1)
    throw invalid(
      `Invalid value for field 'resource.disks': ''. ${bootCount === 0 ? 'Boot disk must be specified.' : 'Only one boot disk is allowed.'}`,
    );
  const attached: AttachedDisk[] = [];
  const toCreate: Resource[] = [];
  disks.forEach((d, index) => {
    let dp: string;
    let sizeGb: string;
    if (d.initializeParams) {
      if (d.source)
        throw invalid(`Invalid value for field 'resource.disks[${index}]': ''. Source and initializeParams cannot both be specified.`);
      const p = d.initializeParams;
      const diskName = p.diskName ?? (d.boot ? name : `${name}-${index}`);
      dp = diskPath(c.project, zone, diskName);
      if (c.ctx.store.has(dp) || c.ctx.ops.pendingTarget(dp) || toCreate.some((t) => t.name === diskName)) throw alreadyExists(dp);
      const disk = planDisk(c.ctx, c.project, zone, diskName, {
        sizeGb: p.diskSizeGb,
        sourceImage: p.sourceImage,
        type: p.diskType,
        labels: p.labels,
        description: p.description,
      });
      if (d.boot && !p.sourceImage)
        throw invalid(
          `Invalid value for field 'resource.disks[${index}].initializeParams.sourceImage': ''. Boot disk needs a source image.`,
        );
      toCreate.push(disk);
      sizeGb = String(disk.sizeGb);
    } else if (d.source) {
      dp = pathOf(d.source, c.project);
      const disk = mustGet(c.ctx, dp);
      if (dp.split('/')[3] !== zone)
        throw invalid(
          `Invalid value for field 'resource.disks[${index}].source': '${d.source}'. Disk must be in the same zone as the instance.`,
        );
      const users = (disk.users as string[] | undefined) ?? [];
      if (users.length && (d.mode ?? 'READ_WRITE') === 'READ_WRITE') throw inUse('disk', dp, pathOf(users[0] as string, ''));
      sizeGb = String(disk.sizeGb);
    } else {
      throw invalid(`Invalid value for field 'resource.disks[${index}]': ''. One of source or initializeParams must be specified.`);
    }
    attached.push({
      kind: 'compute#attachedDisk',
      type: 'PERSISTENT',
      mode: d.mode ?? 'READ_WRITE',
      source: link(dp),
      deviceName: d.deviceName ?? lastSegment(dp),
      index,
      boot: !!d.boot,
      autoDelete: d.autoDelete ?? (d.initializeParams ? true : false),
      interface: d.interface ?? 'SCSI',
      diskSizeGb: sizeGb,
      ...(d.boot
        ? { licenses: (toCreate.find((t) => t.name === lastSegment(dp))?.licenses as string[] | undefined) ?? [], architecture: 'X86_64' }
        : {}),
    });
  });
  return { attached, toCreate };
}

export function insertInstance(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  const body = bodyAs<InstanceBody>(c, 'Instance');
  const name = checkName(body.name);
  const path = instancePath(c.project, zone, name);
  return write(c, {
    scope: { zone },
    operationType: 'insert',
    targetPath: path,
    effect: 'instances.insert',
    args: { path },
    prepare() {
      mustBeFree(c.ctx, path);
      if (!body.machineType) throw invalid("Invalid value for field 'resource.machineType': ''. Machine type must be specified.");
      const mt = lastSegment(body.machineType);
      if (!machineTypeExists(mt))
        throw invalid(
          `Invalid value for field 'resource.machineType': '${body.machineType}'. Machine type with name '${mt}' does not exist in zone '${zone}'.`,
        );
      const labels = labelsOf(body.labels);
      checkLabels(labels);
      const metadata = metadataOf(body.metadata?.items);
      const { attached, toCreate } = parseDisks(c, zone, name, body.disks ?? []);
      const nicsBody = body.networkInterfaces?.length ? body.networkInterfaces : [{ network: 'global/networks/default' }];
      if (nicsBody.length > 1)
        throw invalid("Invalid value for field 'resource.networkInterfaces': ''. The emulator supports one network interface.");
      // Check everything before changing anything.
      nicsBody.forEach((n, i) => {
        const net = lastSegment(n.network ?? n.subnetwork ?? 'default');
        if (!networkExists(net)) throw notFound(`projects/${c.project}/global/networks/${net}`);
        if ((n.accessConfigs ?? []).length > 1)
          throw invalid(
            `Invalid value for field 'resource.networkInterfaces[${i}].accessConfigs': ''. At most one access config currently supported.`,
          );
        for (const ac of n.accessConfigs ?? []) if (ac.natIP) staticAddressFor(c.ctx, c.project, zone, ac.natIP, path);
      });
      const forcedError = zoneIsDown(c.ctx, zone) ? zoneDownError(c.project, zone) : undefined;
      if (forcedError) this.forcedError = forcedError;

      const nics: Nic[] = nicsBody.map((n, i) => {
        const net = lastSegment(n.network ?? n.subnetwork ?? 'default');
        const accessConfigs = (n.accessConfigs ?? []).map((ac) => makeAccessConfig(c.ctx, c.project, zone, ac, path));
        const nic: Nic = {
          kind: 'compute#networkInterface',
          network: link(`projects/${c.project}/global/networks/${net}`),
          subnetwork: link(`projects/${c.project}/regions/${regionOfZone(zone)}/subnetworks/${net}`),
          networkIP: c.ctx.ips.allocateInternal(regionOfZone(zone), c.ctx.runtime.addressing ?? 'loopback'),
          name: `nic${i}`,
          stackType: 'IPV4_ONLY',
          ...(accessConfigs.length ? { accessConfigs } : {}),
        };
        nic.fingerprint = fingerprint({ nic, at: Date.now() });
        return nic;
      });
      for (const d of toCreate) storeDisk(c.ctx, d);
      const tags = body.tags?.items ?? [];
      const instance: Instance = {
        ...baseFields('instances', path, c.project, { zone }, name),
        ...(body.description ? { description: body.description } : {}),
        tags: { ...(tags.length ? { items: tags } : {}), fingerprint: fingerprint({ tags }) },
        machineType: link(`projects/${c.project}/zones/${zone}/machineTypes/${mt}`),
        status: 'PROVISIONING',
        canIpForward: body.canIpForward ?? false,
        networkInterfaces: nics,
        disks: attached,
        metadata,
        // GCE stores the account itself: `default` (or no email) becomes the project's Compute Engine default.
        serviceAccounts: (body.serviceAccounts ?? []).map((s) => ({
          email: !s.email || s.email === 'default' ? defaultComputeServiceAccount(c.project) : s.email,
          scopes: s.scopes ?? [],
        })),
        scheduling: {
          onHostMaintenance: 'MIGRATE',
          automaticRestart: true,
          preemptible: false,
          provisioningModel: 'STANDARD',
          ...(body.scheduling ?? {}),
        },
        cpuPlatform: 'Unknown CPU Platform',
        labels,
        labelFingerprint: fingerprint({ labels }),
        startRestricted: false,
        deletionProtection: body.deletionProtection ?? false,
        fingerprint: fingerprint({ name, at: Date.now() }),
      };
      c.ctx.store.put(path, instance);
      for (const d of attached) attachDisk(c.ctx, pathOf(d.source, c.project), path);
      this.targetId = String(instance.id);
      this.args.createdDisks = toCreate.map((d) => pathOf(String(d.selfLink), ''));
      c.ctx.worldChanged();
    },
  });
}

function zonalInstance(c: Call): { zone: string; path: string; instance: Instance } {
  const zone = c.params.zone as string;
  checkZone(zone);
  const path = instancePath(c.project, zone, c.params.instance as string);
  return { zone, path, instance: mustGet<Instance>(c.ctx, path) };
}

export const getInstance = (c: Call) => zonalInstance(c).instance;

export function listInstances(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  const coll = `projects/${c.project}/zones/${zone}/instances`;
  return listResponse(c, coll, 'instances', c.ctx.store.list(coll));
}

export const aggregatedInstances = (c: Call) =>
  aggregatedResponse(c, 'instances', 'zones', (zone) => c.ctx.store.list(`projects/${c.project}/zones/${zone}/instances`));

export function deleteInstance(c: Call) {
  const { zone, path, instance } = zonalInstance(c);
  return write(c, {
    scope: { zone },
    operationType: 'delete',
    targetPath: path,
    targetId: String(instance.id),
    effect: 'instances.delete',
    args: { path },
    prepare() {
      if (instance.deletionProtection) {
        throw new ApiError(
          400,
          'resourceIsProtected',
          `Invalid resource usage: 'Resource cannot be deleted if it's protected against deletion.'.`,
        );
      }
    },
  });
}

function simpleAction(c: Call, operationType: string) {
  const { zone, path, instance } = zonalInstance(c);
  bodyAs(c, 'Empty');
  return write(c, {
    scope: { zone },
    operationType,
    targetPath: path,
    targetId: String(instance.id),
    effect: `instances.${operationType}`,
    args: { path },
    prepare() {
      if (operationType !== 'stop' && zoneIsDown(c.ctx, zone)) this.forcedError = zoneDownError(c.project, zone);
    },
  });
}

export const startInstance = (c: Call) => simpleAction(c, 'start');
export const stopInstance = (c: Call) => simpleAction(c, 'stop');
export const resetInstance = (c: Call) => simpleAction(c, 'reset');

export function setMetadata(c: Call) {
  const { zone, path, instance } = zonalInstance(c);
  const body = bodyAs<{ items?: Array<{ key?: string; value?: string }>; fingerprint?: string }>(c, 'Metadata');
  const checked = metadataOf(body.items);
  return write(c, {
    scope: { zone },
    operationType: 'setMetadata',
    targetPath: path,
    targetId: String(instance.id),
    effect: 'instances.setMetadata',
    args: { path, items: checked.items ?? [] },
    prepare() {
      if (!sameFingerprint(body.fingerprint, instance.metadata.fingerprint)) {
        throw conditionNotMet(`Supplied fingerprint does not match current metadata fingerprint.`);
      }
    },
  });
}

export function setLabels(c: Call) {
  const { zone, path, instance } = zonalInstance(c);
  const body = bodyAs<{ labels?: Record<string, string>; labelFingerprint?: string }>(c, 'InstancesSetLabelsRequest');
  const labels = labelsOf(body.labels);
  checkLabels(labels);
  return write(c, {
    scope: { zone },
    operationType: 'setLabels',
    targetPath: path,
    targetId: String(instance.id),
    effect: 'instances.setLabels',
    args: { path, labels },
    prepare() {
      if (!sameFingerprint(body.labelFingerprint, instance.labelFingerprint)) {
        throw conditionNotMet('Labels fingerprint either invalid or resource labels have changed');
      }
    },
  });
}

export function setTags(c: Call) {
  const { zone, path, instance } = zonalInstance(c);
  const body = bodyAs<{ items?: string[]; fingerprint?: string }>(c, 'Tags');
  return write(c, {
    scope: { zone },
    operationType: 'setTags',
    targetPath: path,
    targetId: String(instance.id),
    effect: 'instances.setTags',
    args: { path, items: body.items ?? [] },
    prepare() {
      const current = (instance.tags as { fingerprint?: string } | undefined)?.fingerprint;
      if (!sameFingerprint(body.fingerprint, current))
        throw conditionNotMet('Supplied fingerprint does not match current tags fingerprint.');
    },
  });
}

function nicOf(c: Call, instance: Instance): string {
  const nic = c.query.get('networkInterface');
  if (!nic) throw invalid("Required field 'networkInterface' not specified");
  if (!instance.networkInterfaces.some((n) => n.name === nic)) {
    throw invalid(`Invalid value for field 'networkInterface': '${nic}'. The network interface does not exist.`);
  }
  return nic;
}

export function addAccessConfig(c: Call) {
  const { zone, path, instance } = zonalInstance(c);
  const body = bodyAs<AccessConfigBody>(c, 'AccessConfig');
  const nic = nicOf(c, instance);
  return write(c, {
    scope: { zone },
    operationType: 'addAccessConfig',
    targetPath: path,
    targetId: String(instance.id),
    effect: 'instances.addAccessConfig',
    args: { path, nic, body },
    prepare() {
      const current = instance.networkInterfaces.find((n) => n.name === nic);
      if ((current?.accessConfigs ?? []).length)
        throw invalid("Invalid value for field 'resource.accessConfigs': ''. At most one access config currently supported.");
      if (body.natIP) staticAddressFor(c.ctx, c.project, zone, body.natIP, path);
    },
  });
}

export function deleteAccessConfig(c: Call) {
  const { zone, path, instance } = zonalInstance(c);
  const nic = nicOf(c, instance);
  const accessConfig = c.query.get('accessConfig');
  if (!accessConfig) throw invalid("Required field 'accessConfig' not specified");
  const current = instance.networkInterfaces.find((n) => n.name === nic);
  if (!current?.accessConfigs?.some((a) => a.name === accessConfig)) {
    throw invalid(`Invalid value for field 'accessConfig': '${accessConfig}'. The access config does not exist.`);
  }
  return write(c, {
    scope: { zone },
    operationType: 'deleteAccessConfig',
    targetPath: path,
    targetId: String(instance.id),
    effect: 'instances.deleteAccessConfig',
    args: { path, nic, accessConfig },
  });
}
