// Zonal persistent disks. Each disk stands for a directory under the state dir (the VM runtime
// keeps etcd's data there), created with the disk and removed only when the disk is deleted.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Call, EmulatorContext } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { registerEffect } from '../operations.ts';
import { inUse, invalid, notFound } from '../http/errors.ts';
import { lastSegment, link, pathOf, fingerprint, timestamp } from '../http/wire.ts';
import { DISK_TYPES } from '../catalogue.ts';
import { findImage } from './images.ts';
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
  write,
} from './common.ts';

export interface DiskParams {
  sizeGb?: string | number;
  sourceImage?: string;
  type?: string;
  labels?: Record<string, string>;
  description?: string;
}

export const diskPath = (project: string, zone: string, name: string) => `projects/${project}/zones/${zone}/disks/${name}`;

/** Checks a disk spec and returns the disk resource to store (not yet stored). */
export function planDisk(ctx: EmulatorContext, project: string, zone: string, name: string, params: DiskParams): Resource {
  checkName(name);
  let image: ReturnType<typeof findImage>;
  if (params.sourceImage) {
    image = findImage(pathOf(params.sourceImage, project));
    if (!image) throw notFound(pathOf(params.sourceImage, project));
  }
  const type = params.type ? lastSegment(params.type) : 'pd-standard';
  if (!DISK_TYPES.includes(type)) throw notFound(`projects/${project}/zones/${zone}/diskTypes/${type}`);
  const minimum = Number(image?.diskSizeGb ?? 1);
  const sizeGb = params.sizeGb !== undefined ? Number(params.sizeGb) : image ? minimum : 500;
  if (!Number.isInteger(sizeGb) || sizeGb < minimum) {
    throw invalid(
      `Invalid value for field 'resource.sizeGb': '${params.sizeGb}'. Requested disk size cannot be smaller than the image size (${minimum} GB)`,
    );
  }
  const labels = labelsOf(params.labels);
  checkLabels(labels);
  const path = diskPath(project, zone, name);
  const disk: Resource = {
    ...baseFields('disks', path, project, { zone }, name),
    ...(params.description ? { description: params.description } : {}),
    sizeGb: String(sizeGb),
    status: 'READY',
    type: link(`projects/${project}/zones/${zone}/diskTypes/${type}`),
    ...(image
      ? {
          sourceImage: link(`projects/${image.project}/global/images/${image.name}`),
          sourceImageId: image.id,
          licenses: [link(`projects/${image.project}/global/licenses/${image.family}`)],
          architecture: 'X86_64',
        }
      : {}),
    labels,
    labelFingerprint: fingerprint(labels),
    physicalBlockSizeBytes: '4096',
    __dir: join(ctx.stateDir, 'disks', project, zone, `${name}-${Date.now().toString(36)}`),
  };
  return disk;
}

export function storeDisk(ctx: EmulatorContext, disk: Resource): void {
  mkdirSync(String(disk.__dir), { recursive: true });
  ctx.store.put(pathOf(String(disk.selfLink), ''), disk);
}

export function attachDisk(ctx: EmulatorContext, diskPathStr: string, instancePath: string): void {
  const disk = ctx.store.get(diskPathStr);
  if (!disk) return;
  const users = new Set((disk.users as string[] | undefined) ?? []);
  users.add(link(instancePath));
  disk.users = [...users];
  disk.lastAttachTimestamp = timestamp();
  ctx.store.put(diskPathStr, disk);
}

export function detachDisk(ctx: EmulatorContext, diskPathStr: string, instancePath: string): void {
  const disk = ctx.store.get(diskPathStr);
  if (!disk) return;
  const users = ((disk.users as string[] | undefined) ?? []).filter((u) => u !== link(instancePath));
  if (users.length) disk.users = users;
  else delete disk.users;
  disk.lastDetachTimestamp = timestamp();
  ctx.store.put(diskPathStr, disk);
}

export function removeDisk(ctx: EmulatorContext, path: string): void {
  const disk = ctx.store.get(path);
  if (!disk) return;
  ctx.store.delete(path);
  if (disk.__dir) rmSync(String(disk.__dir), { recursive: true, force: true });
}

registerEffect('disks.insert', {
  done(ctx, args) {
    const disk = args.disk as Resource;
    const path = pathOf(String(disk.selfLink), '');
    if (ctx.store.has(path)) throw new Error('unreachable: name reserved');
    storeDisk(ctx, disk);
  },
});

registerEffect('disks.delete', {
  done(ctx, args) {
    const path = args.path as string;
    const disk = ctx.store.get(path);
    if (!disk) throw notFound(path);
    const users = (disk.users as string[] | undefined) ?? [];
    if (users.length) throw inUse('disk', path, pathOf(users[0] as string, ''));
    removeDisk(ctx, path);
  },
});

export function insertDisk(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  const body = bodyAs<DiskParams & { name?: string }>(c, 'Disk');
  const name = checkName(body.name);
  const path = diskPath(c.project, zone, name);
  return write(c, {
    scope: { zone },
    operationType: 'insert',
    targetPath: path,
    effect: 'disks.insert',
    args: {},
    prepare() {
      mustBeFree(c.ctx, path);
      const disk = planDisk(c.ctx, c.project, zone, name, {
        ...body,
        sourceImage: body.sourceImage ?? c.query.get('sourceImage') ?? undefined,
      });
      this.args.disk = disk;
      this.targetId = String(disk.id);
    },
  });
}

export function getDisk(c: Call) {
  checkZone(c.params.zone as string);
  return mustGet(c.ctx, diskPath(c.project, c.params.zone as string, c.params.disk as string));
}

export function listDisks(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  const coll = `projects/${c.project}/zones/${zone}/disks`;
  return listResponse(c, coll, 'disks', c.ctx.store.list(coll));
}

export const aggregatedDisks = (c: Call) =>
  aggregatedResponse(c, 'disks', 'zones', (zone) => c.ctx.store.list(`projects/${c.project}/zones/${zone}/disks`));

export function deleteDisk(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  const path = diskPath(c.project, zone, c.params.disk as string);
  const disk = mustGet(c.ctx, path);
  return write(c, {
    scope: { zone },
    operationType: 'delete',
    targetPath: path,
    targetId: String(disk.id),
    effect: 'disks.delete',
    args: { path },
    prepare() {
      const users = (disk.users as string[] | undefined) ?? [];
      if (users.length) throw inUse('disk', path, pathOf(users[0] as string, ''));
    },
  });
}
