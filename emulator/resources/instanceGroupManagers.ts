// Zonal managed instance groups: insert, get, list, aggregatedList, resize, delete. A group makes
// plain VMs `<baseInstanceName>-<4 random chars>` from its template through the ordinary instance
// insert (each with its own zonal operation, as GCE shows them), marks them with GCE's `created-by`
// and `instance-template` metadata, and knows its members by that mark. Members are not master
// replicas, so the VM runtime starts no processes for them.
import { randomInt } from 'node:crypto';
import type { Call, EmulatorContext } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { registerEffect } from '../operations.ts';
import { ApiError, invalid, notFound } from '../http/errors.ts';
import { fingerprint, link, newId, pathOf } from '../http/wire.ts';
import { deleteInstance, insertInstance, instancePath, tearDown } from './instances.ts';
import { templatePathOf, type InstanceTemplate } from './instanceTemplates.ts';
import {
  aggregatedResponse,
  baseFields,
  bodyAs,
  checkName,
  checkZone,
  listResponse,
  mustBeFree,
  mustGet,
  regionOfZone,
  write,
} from './common.ts';

export const groupManagerPath = (project: string, zone: string, name: string) =>
  `projects/${project}/zones/${zone}/instanceGroupManagers/${name}`;

const BASE_INSTANCE_NAME = /^[a-z]([-a-z0-9]{0,57})$/;
const SUFFIX_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

type Group = Resource & { instanceTemplate: string; baseInstanceName: string; targetSize: number; __instanceGroupId?: string };
type Member = Resource & {
  status: string;
  metadata?: { items?: Array<{ key: string; value: string }> };
  networkInterfaces?: Array<{ accessConfigs?: Array<{ natIP?: string }> }>;
  disks?: Array<{ source: string; autoDelete: boolean }>;
};

interface GroupBody {
  name?: string;
  description?: string;
  baseInstanceName?: string;
  instanceTemplate?: string;
  targetSize?: number;
  versions?: Array<{ instanceTemplate?: string; name?: string }>;
  namedPorts?: Array<{ name?: string; port?: number }>;
}

function metadataValue(vm: Member, key: string): string | undefined {
  return vm.metadata?.items?.find((i) => i.key === key)?.value;
}

/** The group's VMs: instances of its zone whose `created-by` names it (GCE's own mark). */
export function membersOf(ctx: EmulatorContext, groupPath: string): Array<[string, Member]> {
  const zonePrefix = groupPath.replace(/instanceGroupManagers\/[^/]+$/, 'instances/');
  return ctx.store
    .entries((p) => p.startsWith(zonePrefix) && !p.slice(zonePrefix.length).includes('/'))
    .filter(([, vm]) => metadataValue(vm as Member, 'created-by') === groupPath) as Array<[string, Member]>;
}

function freshInstanceName(ctx: EmulatorContext, project: string, zone: string, base: string): string {
  for (;;) {
    let suffix = '';
    for (let i = 0; i < 4; i++) suffix += SUFFIX_CHARS[randomInt(SUFFIX_CHARS.length)];
    const name = `${base}-${suffix}`;
    const path = instancePath(project, zone, name);
    if (!ctx.store.has(path) && !ctx.ops.pendingTarget(path)) return name;
  }
}

/** Starts ordinary instance inserts until the group has `targetSize` members (not counting those being deleted). */
function createMissingMembers(ctx: EmulatorContext, groupPath: string): void {
  const group = ctx.store.get<Group>(groupPath);
  if (!group) return;
  const [, project, , zone] = groupPath.split('/') as [string, string, string, string];
  const templatePath = pathOf(group.instanceTemplate, project);
  const template = ctx.store.get<InstanceTemplate>(templatePath);
  if (!template) return;
  const alive = membersOf(ctx, groupPath).filter(([, vm]) => vm.status !== 'STOPPING').length;
  const p = template.properties;
  for (let n = alive; n < group.targetSize; n++) {
    const name = freshInstanceName(ctx, project, zone, group.baseInstanceName);
    const items = [
      ...(p.metadata?.items ?? []),
      { key: 'instance-template', value: templatePath },
      { key: 'created-by', value: groupPath },
    ];
    const body = {
      name,
      machineType: p.machineType,
      ...(p.description ? { description: p.description } : {}),
      disks: p.disks,
      networkInterfaces: p.networkInterfaces,
      metadata: { items },
      ...(p.tags?.items?.length ? { tags: { items: p.tags.items } } : {}),
      ...(p.labels ? { labels: p.labels } : {}),
      ...(p.scheduling ? { scheduling: p.scheduling } : {}),
      ...(p.serviceAccounts ? { serviceAccounts: p.serviceAccounts } : {}),
      canIpForward: p.canIpForward ?? false,
    };
    try {
      insertInstance({ ctx, project, params: { zone }, query: new URLSearchParams(), body: JSON.parse(JSON.stringify(body)) });
    } catch (e) {
      // GCE keeps retrying and reports it in listErrors; the group stays below its target size.
      if (!(e instanceof ApiError)) throw e;
      ctx.log(`${groupPath}: cannot create ${name}: ${e.message}`);
    }
  }
}

/** Starts ordinary instance deletes of the newest members beyond `targetSize`. */
function deleteSurplusMembers(ctx: EmulatorContext, groupPath: string): void {
  const group = ctx.store.get<Group>(groupPath);
  if (!group) return;
  const [, project, , zone] = groupPath.split('/') as [string, string, string, string];
  const alive = membersOf(ctx, groupPath)
    .filter(([, vm]) => vm.status !== 'STOPPING')
    .sort(([, a], [, b]) => String(b.creationTimestamp).localeCompare(String(a.creationTimestamp)));
  for (const [, vm] of alive.slice(0, Math.max(0, alive.length - group.targetSize))) {
    try {
      deleteInstance({ ctx, project, params: { zone, instance: vm.name }, query: new URLSearchParams(), body: undefined });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      ctx.log(`${groupPath}: cannot delete ${vm.name}: ${e.message}`);
    }
  }
}

function setMemberStatus(ctx: EmulatorContext, groupPath: string, status: string): void {
  for (const [path, vm] of membersOf(ctx, groupPath)) ctx.store.put(path, { ...vm, status });
}

registerEffect('instanceGroupManagers.insert', {
  done(ctx, args) {
    const group = args.group as Group;
    const templatePath = pathOf(group.instanceTemplate, '');
    if (!ctx.store.has(templatePath)) throw notFound(templatePath);
    ctx.store.put(args.path as string, group);
    createMissingMembers(ctx, args.path as string);
  },
});

registerEffect('instanceGroupManagers.delete', {
  running(ctx, args) {
    setMemberStatus(ctx, args.path as string, 'STOPPING');
  },
  done(ctx, args) {
    const path = args.path as string;
    if (!ctx.store.has(path)) throw notFound(path);
    for (const [vmPath] of membersOf(ctx, path)) tearDown(ctx, vmPath, true); // as an instance delete does
    ctx.store.delete(path);
  },
});

// GCE marks a resize DONE once the instance inserts or deletes are scheduled, not when they finish.
registerEffect('instanceGroupManagers.resize', {
  done(ctx, args) {
    const path = args.path as string;
    const group = ctx.store.get<Group>(path);
    if (!group) throw notFound(path);
    ctx.store.put(path, { ...group, targetSize: args.size as number, fingerprint: fingerprint({ size: args.size, at: Date.now() }) });
    createMissingMembers(ctx, path);
    deleteSurplusMembers(ctx, path);
  },
});

const ZERO_ACTIONS = {
  abandoning: 0,
  creating: 0,
  creatingWithoutRetries: 0,
  deleting: 0,
  none: 0,
  recreating: 0,
  refreshing: 0,
  restarting: 0,
  resuming: 0,
  starting: 0,
  stopping: 0,
  suspending: 0,
  verifying: 0,
};

/** The stored group with what GCE computes on read: current actions and stability. */
function view(ctx: EmulatorContext, group: Group): Resource {
  const members = membersOf(ctx, pathOf(String(group.selfLink), ''));
  const creating = members.filter(([, vm]) => vm.status === 'PROVISIONING' || vm.status === 'STAGING').length;
  const deleting = members.filter(([, vm]) => vm.status === 'STOPPING').length;
  const none = members.length - creating - deleting;
  return {
    ...group,
    currentActions: { ...ZERO_ACTIONS, creating, deleting, none },
    status: {
      isStable: creating === 0 && deleting === 0 && none === group.targetSize,
      versionTarget: { isReached: true },
      stateful: { hasStatefulConfig: false, perInstanceConfigs: { allEffective: true } },
    },
  };
}

function templateOf(c: Call, body: GroupBody): string {
  if (body.versions && body.versions.length > 1)
    throw invalid("Invalid value for field 'resource.versions': ''. The emulator supports one version.");
  const fromVersion = body.versions?.[0]?.instanceTemplate;
  if (body.instanceTemplate && fromVersion && pathOf(body.instanceTemplate, c.project) !== pathOf(fromVersion, c.project)) {
    throw invalid(
      "Invalid value for field 'resource.instanceTemplate': ''. Instance template and versions[0].instanceTemplate must be the same.",
    );
  }
  const ref = body.instanceTemplate ?? fromVersion;
  if (!ref) throw new ApiError(400, 'required', "Required field 'resource.instanceTemplate' not specified");
  const path = templatePathOf(
    ref,
    c.project,
    body.instanceTemplate ? 'resource.instanceTemplate' : 'resource.versions[0].instanceTemplate',
  );
  mustGet(c.ctx, path);
  return path;
}

export function insertInstanceGroupManager(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  const body = bodyAs<GroupBody>(c, 'InstanceGroupManager');
  const name = checkName(body.name);
  const path = groupManagerPath(c.project, zone, name);
  return write(c, {
    scope: { zone },
    operationType: 'insert',
    targetPath: path,
    effect: 'instanceGroupManagers.insert',
    args: { path },
    prepare() {
      mustBeFree(c.ctx, path);
      if (!body.baseInstanceName) throw new ApiError(400, 'required', "Required field 'resource.baseInstanceName' not specified");
      if (!BASE_INSTANCE_NAME.test(body.baseInstanceName)) {
        throw invalid(
          `Invalid value for field 'resource.baseInstanceName': '${body.baseInstanceName}'. Must be a match of regex '[a-z]([-a-z0-9]{0,57})'`,
        );
      }
      const targetSize = Number(body.targetSize ?? 0);
      if (!Number.isInteger(targetSize) || targetSize < 0) {
        throw invalid(`Invalid value for field 'resource.targetSize': '${body.targetSize}'. Must be greater than or equal to 0.`);
      }
      const templateLink = link(templateOf(c, body));
      const group: Group = {
        ...baseFields('instanceGroupManagers', path, c.project, { zone }, name),
        ...(body.description ? { description: body.description } : {}),
        instanceTemplate: templateLink,
        versions: [{ instanceTemplate: templateLink, ...(body.versions?.[0]?.name ? { name: body.versions[0].name } : {}) }],
        instanceGroup: link(`projects/${c.project}/zones/${zone}/instanceGroups/${name}`),
        baseInstanceName: body.baseInstanceName,
        fingerprint: fingerprint({ name, at: Date.now() }),
        targetSize,
        ...(body.namedPorts?.length ? { namedPorts: body.namedPorts } : {}),
        updatePolicy: {
          type: 'OPPORTUNISTIC',
          minimalAction: 'REPLACE',
          replacementMethod: 'SUBSTITUTE',
          maxSurge: { fixed: 1, calculated: 1 },
          maxUnavailable: { fixed: 1, calculated: 1 },
        },
        instanceLifecyclePolicy: { forceUpdateOnRepair: 'NO', defaultActionOnFailure: 'REPAIR' },
        listManagedInstancesResults: 'PAGELESS',
        __instanceGroupId: newId(),
      };
      this.args.group = group;
      this.targetId = String(group.id);
    },
  });
}

function zonalGroup(c: Call): { zone: string; path: string; group: Group } {
  const zone = c.params.zone as string;
  checkZone(zone);
  const path = groupManagerPath(c.project, zone, c.params.instanceGroupManager as string);
  return { zone, path, group: mustGet<Group>(c.ctx, path) };
}

export const getInstanceGroupManager = (c: Call) => view(c.ctx, zonalGroup(c).group);

export function listInstanceGroupManagers(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  const coll = `projects/${c.project}/zones/${zone}/instanceGroupManagers`;
  return listResponse(
    c,
    coll,
    'instanceGroupManagers',
    c.ctx.store.list<Group>(coll).map((g) => view(c.ctx, g)),
  );
}

export const aggregatedInstanceGroupManagers = (c: Call) =>
  aggregatedResponse(c, 'instanceGroupManagers', 'zones', (zone) =>
    c.ctx.store.list<Group>(`projects/${c.project}/zones/${zone}/instanceGroupManagers`).map((g) => view(c.ctx, g)),
  );

export function deleteInstanceGroupManager(c: Call) {
  const { zone, path, group } = zonalGroup(c);
  return write(c, {
    scope: { zone },
    operationType: 'delete',
    targetPath: path,
    targetId: String(group.id),
    effect: 'instanceGroupManagers.delete',
    args: { path },
  });
}

export function resizeInstanceGroupManager(c: Call) {
  const { zone, path, group } = zonalGroup(c);
  const raw = c.query.get('size');
  if (raw === null || raw === '') throw new ApiError(400, 'required', "Required field 'size' not specified");
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 0) throw invalid(`Invalid value for field 'size': '${raw}'. Must be greater than or equal to 0.`);
  return write(c, {
    scope: { zone },
    operationType: 'resize',
    targetPath: path,
    targetId: String(group.id),
    effect: 'instanceGroupManagers.resize',
    args: { path, size },
  });
}

/**
 * The instance group each manager owns (its `instanceGroup` link), read-only as GCE serves it for a
 * managed group; `gcloud compute instance-groups managed list` reads its size from here.
 */
function instanceGroupOf(ctx: EmulatorContext, group: Group): Resource {
  const zonePath = pathOf(String(group.zone), '');
  const project = zonePath.split('/')[1] as string;
  const zone = zonePath.split('/')[3] as string;
  const network = link(`projects/${project}/global/networks/default`);
  return {
    kind: 'compute#instanceGroup',
    id: group.__instanceGroupId ?? String(group.id),
    creationTimestamp: group.creationTimestamp,
    name: group.name,
    description: `This instance group is controlled by Instance Group Manager '${group.name}'. To modify instances in this group, use the Instance Group Manager API: https://cloud.google.com/compute/docs/reference/latest/instanceGroupManagers`,
    ...(group.namedPorts ? { namedPorts: group.namedPorts } : {}),
    network,
    fingerprint: '42WmSpB8rSM=',
    zone: group.zone,
    selfLink: group.instanceGroup,
    size: membersOf(ctx, pathOf(String(group.selfLink), '')).length,
    subnetwork: link(`projects/${project}/regions/${regionOfZone(zone)}/subnetworks/default`),
  };
}

export function getInstanceGroup(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  const path = `projects/${c.project}/zones/${zone}/instanceGroups/${c.params.instanceGroup}`;
  const group = c.ctx.store.get<Group>(groupManagerPath(c.project, zone, c.params.instanceGroup as string));
  if (!group) throw notFound(path);
  return instanceGroupOf(c.ctx, group);
}

export function listInstanceGroups(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  const groups = c.ctx.store.list<Group>(`projects/${c.project}/zones/${zone}/instanceGroupManagers`).map((g) => instanceGroupOf(c.ctx, g));
  return listResponse(c, `projects/${c.project}/zones/${zone}/instanceGroups`, 'instanceGroups', groups);
}

const CURRENT_ACTION: Record<string, string> = { PROVISIONING: 'CREATING', STAGING: 'CREATING', STOPPING: 'DELETING' };

/** The group's VMs as GCE lists them (`gcloud ... managed list-instances`); one page (PAGELESS). */
export function listManagedInstances(c: Call) {
  const { path, group } = zonalGroup(c);
  bodyAs(c, 'Empty');
  const managedInstances = membersOf(c.ctx, path).map(([vmPath, vm]) => ({
    instance: link(vmPath),
    id: vm.id,
    name: vm.name,
    instanceStatus: vm.status,
    currentAction: CURRENT_ACTION[vm.status] ?? 'NONE',
    version: {
      instanceTemplate: metadataValue(vm, 'instance-template')
        ? link(metadataValue(vm, 'instance-template') as string)
        : group.instanceTemplate,
    },
  }));
  return managedInstances.length ? { managedInstances } : {};
}

/** Autoscalers are not served, so none exist; gcloud lists them to fill its AUTOSCALED column. */
export function listAutoscalers(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  return listResponse(c, `projects/${c.project}/zones/${zone}/autoscalers`, 'autoscalers', []);
}
