// Global instance templates: insert, get, list, delete. A template is only a description of VMs; the
// managed instance groups that use it (instanceGroupManagers.ts) make the VMs, and while one does the
// template cannot be deleted.
import type { Call, EmulatorContext } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { registerEffect } from '../operations.ts';
import { ApiError, inUse, invalid, notFound } from '../http/errors.ts';
import { aggregatedListKind, fingerprint, lastSegment, link, pathOf } from '../http/wire.ts';
import { DISK_TYPES, REGIONS } from '../catalogue.ts';
import { compileFilter } from '../http/filter.ts';
import { page } from '../http/paging.ts';
import { findImage } from './images.ts';
import { machineTypeExists } from './machineTypes.ts';
import { networkExists } from './networks.ts';
import { baseFields, bodyAs, checkLabels, checkName, labelsOf, listResponse, mustBeFree, mustGet, write } from './common.ts';

export const instanceTemplatePath = (project: string, name: string) => `projects/${project}/global/instanceTemplates/${name}`;

const TEMPLATE_PATH = /^projects\/[^/]+\/global\/instanceTemplates\/[^/]+$/;

interface DiskBody {
  boot?: boolean;
  autoDelete?: boolean;
  mode?: string;
  type?: string;
  source?: string;
  initializeParams?: { diskName?: string; sourceImage?: string; diskType?: string; diskSizeGb?: string | number };
}
interface NicBody {
  network?: string;
  subnetwork?: string;
  accessConfigs?: Array<{ name?: string; type?: string; natIP?: string; networkTier?: string }>;
}
export interface TemplateProperties {
  machineType?: string;
  description?: string;
  disks?: DiskBody[];
  networkInterfaces?: NicBody[];
  metadata?: { items?: Array<{ key?: string; value?: string }> };
  tags?: { items?: string[] };
  labels?: Record<string, string>;
  scheduling?: Record<string, unknown>;
  serviceAccounts?: Array<{ email?: string; scopes?: string[] }>;
  canIpForward?: boolean;
}
type TemplateBody = { name?: string; description?: string; properties?: TemplateProperties };
export type InstanceTemplate = Resource & { properties: TemplateProperties };

/** Path of the template an instance group names (a URL or `[projects/P/]global/instanceTemplates/T`). */
export function templatePathOf(ref: string, project: string, field: string): string {
  const path = pathOf(ref, project);
  if (!TEMPLATE_PATH.test(path)) throw invalid(`Invalid value for field '${field}': '${ref}'. The URL is malformed.`);
  return path;
}

/** The first managed instance group (path) whose instanceTemplate or versions name this template. */
export function groupUsingTemplate(ctx: EmulatorContext, templatePath: string): string | undefined {
  const target = link(templatePath);
  const hit = ctx.store
    .entries((p) => p.includes('/instanceGroupManagers/'))
    .find(
      ([, g]) =>
        g.instanceTemplate === target ||
        ((g.versions as Array<{ instanceTemplate?: string }> | undefined) ?? []).some((v) => v.instanceTemplate === target),
    );
  return hit?.[0];
}

function checkDisks(project: string, disks: DiskBody[]): void {
  const boots = disks.filter((d) => d.boot).length;
  if (boots !== 1)
    throw invalid(
      `Invalid value for field 'resource.properties.disks': ''. ${boots === 0 ? 'Boot disk must be specified.' : 'Only one boot disk is allowed.'}`,
    );
  disks.forEach((d, i) => {
    const at = `resource.properties.disks[${i}]`;
    const p = d.initializeParams;
    if (!p && !d.source) throw invalid(`Invalid value for field '${at}': ''. One of source or initializeParams must be specified.`);
    if (p && d.source) throw invalid(`Invalid value for field '${at}': ''. Source and initializeParams cannot both be specified.`);
    // Every VM of a group would attach the same disk: only a read-only one can be shared.
    if (d.source && (d.mode ?? 'READ_WRITE') !== 'READ_ONLY') {
      throw invalid(
        `Invalid value for field '${at}.source': '${d.source}'. Disks in an instance template must be read-only or be created with the instance.`,
      );
    }
    if (p?.diskName)
      throw invalid(
        `Invalid value for field '${at}.initializeParams.diskName': '${p.diskName}'. Disk names cannot be set in an instance template.`,
      );
    if (d.boot && p && !p.sourceImage)
      throw invalid(`Invalid value for field '${at}.initializeParams.sourceImage': ''. Boot disk needs a source image.`);
    if (p?.sourceImage && !findImage(pathOf(p.sourceImage, project))) throw notFound(pathOf(p.sourceImage, project));
    if (p?.diskType && !DISK_TYPES.includes(lastSegment(p.diskType))) {
      throw invalid(`Invalid value for field '${at}.initializeParams.diskType': '${p.diskType}'. Unknown disk type.`);
    }
    if (p?.diskSizeGb !== undefined && !(Number.isInteger(Number(p.diskSizeGb)) && Number(p.diskSizeGb) > 0)) {
      throw invalid(`Invalid value for field '${at}.initializeParams.diskSizeGb': '${p.diskSizeGb}'. Must be a positive integer.`);
    }
  });
}

function checkMetadataKeys(items: Array<{ key?: string }>): void {
  const seen = new Set<string>();
  for (const { key = '' } of items) {
    if (!/^[a-zA-Z0-9_-]{1,128}$/.test(key))
      throw invalid(`Invalid value for field 'resource.properties.metadata': '${key}'. Metadata keys must match [a-zA-Z0-9-_]{1,128}.`);
    if (seen.has(key)) throw invalid(`Invalid value for field 'resource.properties.metadata': ''. Duplicate keys: ${key}.`);
    seen.add(key);
  }
}

/** Checks the properties and returns them as GCE stores them (kinds and defaults filled in). */
function normaliseProperties(project: string, p: TemplateProperties | undefined): TemplateProperties {
  if (!p) throw new ApiError(400, 'required', "Required field 'resource.properties' not specified");
  if (!p.machineType) throw new ApiError(400, 'required', "Required field 'resource.properties.machineType' not specified");
  if (!machineTypeExists(lastSegment(p.machineType))) {
    throw invalid(
      `Invalid value for field 'resource.properties.machineType': '${p.machineType}'. Machine type with name '${lastSegment(p.machineType)}' does not exist.`,
    );
  }
  const disks = p.disks ?? [];
  checkDisks(project, disks);
  const labels = labelsOf(p.labels);
  checkLabels(labels);
  const items = (p.metadata?.items ?? []).map((i) => ({ key: String(i.key ?? ''), value: String(i.value ?? '') }));
  checkMetadataKeys(items);
  const nics = p.networkInterfaces?.length ? p.networkInterfaces : [{ network: 'global/networks/default' }];
  if (nics.length > 1)
    throw invalid("Invalid value for field 'resource.properties.networkInterfaces': ''. The emulator supports one network interface.");
  const tags = p.tags?.items ?? [];
  return {
    ...p,
    machineType: p.machineType,
    disks: disks.map((d) => ({
      kind: 'compute#attachedDisk',
      type: 'PERSISTENT',
      mode: 'READ_WRITE',
      ...d,
      boot: !!d.boot,
      autoDelete: d.autoDelete ?? !!d.initializeParams,
      ...(d.initializeParams
        ? {
            initializeParams: {
              ...d.initializeParams,
              ...(d.initializeParams.diskSizeGb !== undefined ? { diskSizeGb: String(d.initializeParams.diskSizeGb) } : {}),
            },
          }
        : {}),
    })) as DiskBody[],
    networkInterfaces: nics.map((n, i) => {
      const net = lastSegment(n.network ?? n.subnetwork ?? 'default');
      if (!networkExists(net)) throw notFound(`projects/${project}/global/networks/${net}`);
      return {
        kind: 'compute#networkInterface',
        name: `nic${i}`,
        ...n,
        network: link(`projects/${project}/global/networks/${net}`),
        ...(n.accessConfigs
          ? {
              accessConfigs: n.accessConfigs.map((a) => ({
                kind: 'compute#accessConfig',
                type: 'ONE_TO_ONE_NAT',
                name: 'external-nat',
                networkTier: 'PREMIUM',
                ...a,
              })),
            }
          : {}),
      };
    }),
    metadata: {
      kind: 'compute#metadata',
      fingerprint: fingerprint({ items }),
      ...(items.length ? { items } : {}),
    } as TemplateProperties['metadata'],
    tags: tags.length ? { items: tags } : {},
    ...(Object.keys(labels).length ? { labels } : {}),
    scheduling: {
      onHostMaintenance: 'MIGRATE',
      automaticRestart: true,
      preemptible: false,
      provisioningModel: 'STANDARD',
      ...(p.scheduling ?? {}),
    },
    canIpForward: p.canIpForward ?? false,
  };
}

registerEffect('instanceTemplates.insert', {
  done(ctx, args) {
    ctx.store.put(args.path as string, args.template as Resource);
  },
});
registerEffect('instanceTemplates.delete', {
  done(ctx, args) {
    const path = args.path as string;
    const user = groupUsingTemplate(ctx, path);
    if (user) throw inUse('instance_template', path, user);
    if (!ctx.store.delete(path)) throw notFound(path);
  },
});

export function insertInstanceTemplate(c: Call) {
  const body = bodyAs<TemplateBody>(c, 'InstanceTemplate');
  const name = checkName(body.name);
  const path = instanceTemplatePath(c.project, name);
  return write(c, {
    scope: { global: true },
    operationType: 'insert',
    targetPath: path,
    effect: 'instanceTemplates.insert',
    args: { path },
    prepare() {
      mustBeFree(c.ctx, path);
      const template: InstanceTemplate = {
        ...baseFields('instanceTemplates', path, c.project, { global: true }, name),
        ...(body.description ? { description: body.description } : {}),
        properties: normaliseProperties(c.project, body.properties),
      };
      this.args.template = template;
      this.targetId = String(template.id);
    },
  });
}

export const getInstanceTemplate = (c: Call) => mustGet(c.ctx, instanceTemplatePath(c.project, c.params.instanceTemplate as string));

export function listInstanceTemplates(c: Call) {
  const coll = `projects/${c.project}/global/instanceTemplates`;
  return listResponse(c, coll, 'instanceTemplates', c.ctx.store.list(coll));
}

export function deleteInstanceTemplate(c: Call) {
  const path = instanceTemplatePath(c.project, c.params.instanceTemplate as string);
  const template = mustGet(c.ctx, path);
  return write(c, {
    scope: { global: true },
    operationType: 'delete',
    targetPath: path,
    targetId: String(template.id),
    effect: 'instanceTemplates.delete',
    args: { path },
    prepare() {
      const user = groupUsingTemplate(c.ctx, path);
      if (user) throw inUse('instance_template', path, user);
    },
  });
}

/**
 * aggregatedList (what `gcloud compute instance-templates list` calls): the global scope, then every
 * region (regional templates are not served, so those scopes carry GCE's empty-scope warning).
 */
export function aggregatedInstanceTemplates(c: Call) {
  const filter = compileFilter(c.query.get('filter') ?? undefined);
  const scopes = ['global', ...REGIONS.map((r) => `regions/${r.name}`)];
  const globals = c.ctx.store.list(`projects/${c.project}/global/instanceTemplates`).filter(filter);
  const p = page(globals, c.query.get('maxResults') ?? undefined, c.query.get('pageToken') ?? undefined);
  const items: Record<string, object> = {};
  for (const scope of scopes) {
    items[scope] =
      scope === 'global' && p.items.length
        ? { instanceTemplates: p.items }
        : {
            warning: {
              code: 'NO_RESULTS_ON_PAGE',
              message: `There are no results for scope '${scope}' on this page.`,
              data: [{ key: 'scope', value: scope }],
            },
          };
  }
  const self = `projects/${c.project}/aggregated/instanceTemplates`;
  return {
    kind: aggregatedListKind('instanceTemplates'),
    id: self,
    items,
    selfLink: link(self),
    ...(p.nextPageToken ? { nextPageToken: p.nextPageToken } : {}),
  };
}
