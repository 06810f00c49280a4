// Global firewall rules: insert, get, list, delete, patch (fields given replace the stored ones).
import type { Call } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { registerEffect } from '../operations.ts';
import { invalid, notFound } from '../http/errors.ts';
import { lastSegment, link } from '../http/wire.ts';
import { networkExists } from './networks.ts';
import { baseFields, bodyAs, checkName, listResponse, mustBeFree, mustGet, write } from './common.ts';

const firewallPath = (project: string, name: string) => `projects/${project}/global/firewalls/${name}`;

type FirewallBody = Record<string, unknown> & {
  name?: string;
  network?: string;
  direction?: string;
  priority?: number;
  allowed?: unknown[];
  denied?: unknown[];
  sourceRanges?: string[];
  sourceTags?: string[];
  targetTags?: string[];
  destinationRanges?: string[];
};

function checkRules(body: FirewallBody, project: string): void {
  const rules = [...(body.allowed ?? []), ...(body.denied ?? [])] as Array<{ IPProtocol?: string; ports?: string[] }>;
  if (!rules.length)
    throw invalid("Invalid value for field 'resource.allowed': ''. At least one rule (allowed or denied) must be specified.");
  for (const r of rules) {
    if (!r.IPProtocol) throw invalid("Required field 'resource.allowed[0].IPProtocol' not specified");
    for (const p of r.ports ?? []) {
      if (!/^\d{1,5}(-\d{1,5})?$/.test(p))
        throw invalid(`Invalid value for field 'resource.allowed[0].ports[0]': '${p}'. Invalid port range.`);
    }
  }
  if (body.network && !networkExists(lastSegment(body.network)))
    throw notFound(`projects/${project}/global/networks/${lastSegment(body.network)}`);
  if (body.direction && body.direction !== 'INGRESS' && body.direction !== 'EGRESS')
    throw invalid(`Invalid value for field 'resource.direction': '${body.direction}'.`);
}

function normalise(body: FirewallBody, project: string): Record<string, unknown> {
  const direction = body.direction ?? 'INGRESS';
  const out: Record<string, unknown> = { ...body };
  out.network = link(`projects/${project}/global/networks/${lastSegment(body.network ?? 'default')}`);
  out.direction = direction;
  out.priority = body.priority ?? 1000;
  if (direction === 'INGRESS' && !body.sourceRanges?.length && !body.sourceTags?.length) out.sourceRanges = ['0.0.0.0/0'];
  if (direction === 'EGRESS' && !body.destinationRanges?.length) out.destinationRanges = ['0.0.0.0/0'];
  out.disabled = body.disabled ?? false;
  out.logConfig = body.logConfig ?? { enable: false };
  delete out.kind;
  delete out.id;
  delete out.selfLink;
  delete out.creationTimestamp;
  return out;
}

registerEffect('firewalls.insert', {
  done(ctx, args) {
    ctx.store.put(args.path as string, args.firewall as Resource);
  },
});
registerEffect('firewalls.delete', {
  done(ctx, args) {
    if (!ctx.store.delete(args.path as string)) throw notFound(args.path as string);
  },
});
registerEffect('firewalls.patch', {
  done(ctx, args) {
    const current = ctx.store.get(args.path as string);
    if (!current) throw notFound(args.path as string);
    ctx.store.put(args.path as string, { ...current, ...(args.changes as Record<string, unknown>), name: current.name });
  },
});

export function insertFirewall(c: Call) {
  const body = bodyAs<FirewallBody>(c, 'Firewall');
  const name = checkName(body.name);
  const path = firewallPath(c.project, name);
  return write(c, {
    scope: { global: true },
    operationType: 'insert',
    targetPath: path,
    effect: 'firewalls.insert',
    args: { path },
    prepare() {
      mustBeFree(c.ctx, path);
      checkRules(body, c.project);
      const firewall = { ...baseFields('firewalls', path, c.project, { global: true }, name), ...normalise(body, c.project) } as Resource;
      this.args.firewall = firewall;
      this.targetId = String(firewall.id);
    },
  });
}

export const getFirewall = (c: Call) => mustGet(c.ctx, firewallPath(c.project, c.params.firewall as string));

export function listFirewalls(c: Call) {
  const coll = `projects/${c.project}/global/firewalls`;
  return listResponse(c, coll, 'firewalls', c.ctx.store.list(coll));
}

export function deleteFirewall(c: Call) {
  const path = firewallPath(c.project, c.params.firewall as string);
  const firewall = mustGet(c.ctx, path);
  return write(c, {
    scope: { global: true },
    operationType: 'delete',
    targetPath: path,
    targetId: String(firewall.id),
    effect: 'firewalls.delete',
    args: { path },
  });
}

export function patchFirewall(c: Call) {
  const path = firewallPath(c.project, c.params.firewall as string);
  const firewall = mustGet(c.ctx, path);
  const body = bodyAs<FirewallBody>(c, 'Firewall');
  if (body.name !== undefined && body.name !== firewall.name)
    throw invalid(`Invalid value for field 'resource.name': '${body.name}'. The name cannot be changed.`);
  const merged = { ...firewall, ...body } as FirewallBody;
  checkRules(merged, c.project);
  const changes: Record<string, unknown> = { ...body };
  for (const k of ['kind', 'id', 'selfLink', 'creationTimestamp', 'name']) delete changes[k];
  if (body.network) changes.network = link(`projects/${c.project}/global/networks/${lastSegment(body.network)}`);
  return write(c, {
    scope: { global: true },
    operationType: 'patch',
    targetPath: path,
    targetId: String(firewall.id),
    effect: 'firewalls.patch',
    args: { path, changes },
  });
}
