// Regional forwarding rules to target pools. IPAddress may be an IP, an address URL or name, or
// absent (an ephemeral IP). The rule, its pool and its static address must share a region; a static
// address becomes IN_USE with the rule as its user.
import type { Call, EmulatorContext } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { registerEffect } from '../operations.ts';
import { invalid, notFound } from '../http/errors.ts';
import { fingerprint, link, pathOf } from '../http/wire.ts';
import { addressByIp, checkAddressFree, regionOfAddress, releaseAddressIp, useAddress } from './addresses.ts';
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

export const forwardingRulePath = (project: string, region: string, name: string) =>
  `projects/${project}/regions/${region}/forwardingRules/${name}`;

interface RuleBody {
  name?: string;
  description?: string;
  IPAddress?: string;
  IPProtocol?: string;
  portRange?: string;
  ports?: string[];
  target?: string;
  loadBalancingScheme?: string;
  networkTier?: string;
  labels?: Record<string, string>;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The static address a rule's IPAddress names, if it names one. */
function staticAddress(ctx: EmulatorContext, project: string, region: string, ref: string): Resource | undefined {
  if (IPV4.test(ref)) return addressByIp(ctx, project, ref);
  const path = pathOf(ref.includes('/') ? ref : `regions/${region}/addresses/${ref}`, project);
  const address = ctx.store.get(path);
  if (!address) throw notFound(path);
  return address;
}

function normalisePortRange(rule: RuleBody): string {
  if (rule.ports?.length) throw invalid("Invalid value for field 'resource.ports': ''. Use portRange with target pools.");
  const raw = rule.portRange ?? '1-65535';
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(raw);
  const low = Number(m?.[1]);
  const high = Number(m?.[2] ?? m?.[1]);
  if (!m || low < 1 || high > 65535 || low > high)
    throw invalid(`Invalid value for field 'resource.portRange': '${raw}'. Invalid port range.`);
  return `${low}-${high}`;
}

registerEffect('forwardingRules.insert', {
  done(ctx, args) {
    const rule = args.rule as Resource;
    const path = args.path as string;
    if (args.addressPath) {
      const address = ctx.store.get(args.addressPath as string);
      if (!address) throw notFound(args.addressPath as string);
      useAddress(ctx, address, path);
    }
    ctx.store.put(path, { ...rule, __changedAt: Date.now() });
  },
});

registerEffect('forwardingRules.delete', {
  done(ctx, args) {
    const path = args.path as string;
    const rule = ctx.store.get(path);
    if (!rule) throw notFound(path);
    releaseAddressIp(ctx, path.split('/')[1] as string, String(rule.IPAddress), path);
    ctx.store.delete(path);
  },
});

export function insertForwardingRule(c: Call) {
  const region = c.params.region as string;
  checkRegion(region);
  const body = bodyAs<RuleBody>(c, 'ForwardingRule');
  const name = checkName(body.name);
  const path = forwardingRulePath(c.project, region, name);
  return write(c, {
    scope: { region },
    operationType: 'insert',
    targetPath: path,
    effect: 'forwardingRules.insert',
    args: { path },
    prepare() {
      mustBeFree(c.ctx, path);
      if (!body.target) throw invalid("Invalid value for field 'resource.target': ''. A target pool must be specified.");
      const targetPath = pathOf(body.target.includes('/') ? body.target : `regions/${region}/targetPools/${body.target}`, c.project);
      if (!/^projects\/[^/]+\/regions\/[^/]+\/targetPools\/[^/]+$/.test(targetPath)) {
        throw invalid(`Invalid value for field 'resource.target': '${body.target}'. The emulator supports target pools only.`);
      }
      mustGet(c.ctx, targetPath);
      const poolRegion = targetPath.split('/')[3];
      if (poolRegion !== region) {
        throw invalid(
          `Invalid value for field 'resource.target': '${body.target}'. Target pool is in region '${poolRegion}' but the forwarding rule is in region '${region}'.`,
        );
      }
      const protocol = body.IPProtocol ?? 'TCP';
      if (!['TCP', 'UDP'].includes(protocol)) throw invalid(`Invalid value for field 'resource.IPProtocol': '${protocol}'.`);
      const portRange = normalisePortRange(body);
      const labels = labelsOf(body.labels);
      checkLabels(labels);
      let ip: string;
      if (body.IPAddress) {
        const address = staticAddress(c.ctx, c.project, region, body.IPAddress);
        if (!address)
          throw invalid(
            `Invalid value for field 'resource.IPAddress': '${body.IPAddress}'. Specified IP address is not reserved in this project.`,
          );
        if (regionOfAddress(address) !== region) {
          throw invalid(
            `Invalid value for field 'resource.IPAddress': '${body.IPAddress}'. The address is in region '${regionOfAddress(address)}' but the forwarding rule is in region '${region}'.`,
          );
        }
        checkAddressFree(address, path);
        ip = String(address.address);
        this.args.addressPath = pathOf(String(address.selfLink), '');
      } else {
        ip = c.ctx.ips.allocate('ephemeral');
      }
      const rule: Resource = {
        ...baseFields('forwardingRules', path, c.project, { region }, name),
        ...(body.description ? { description: body.description } : {}),
        IPAddress: ip,
        IPProtocol: protocol,
        portRange,
        target: link(targetPath),
        loadBalancingScheme: body.loadBalancingScheme ?? 'EXTERNAL',
        networkTier: body.networkTier ?? 'PREMIUM',
        labels,
        labelFingerprint: fingerprint(labels),
        fingerprint: fingerprint({ name, ip, at: Date.now() }),
      };
      this.args.rule = rule;
      this.targetId = String(rule.id);
    },
  });
}

function regionalRule(c: Call): { region: string; path: string; rule: Resource } {
  const region = c.params.region as string;
  checkRegion(region);
  const path = forwardingRulePath(c.project, region, c.params.forwardingRule as string);
  return { region, path, rule: mustGet(c.ctx, path) };
}

export const getForwardingRule = (c: Call) => regionalRule(c).rule;

export function listForwardingRules(c: Call) {
  const region = c.params.region as string;
  checkRegion(region);
  const coll = `projects/${c.project}/regions/${region}/forwardingRules`;
  return listResponse(c, coll, 'forwardingRules', c.ctx.store.list(coll));
}

export const aggregatedForwardingRules = (c: Call) =>
  aggregatedResponse(c, 'forwardingRules', 'regions', (region) =>
    c.ctx.store.list(`projects/${c.project}/regions/${region}/forwardingRules`),
  );

export function deleteForwardingRule(c: Call) {
  const { region, path, rule } = regionalRule(c);
  return write(c, {
    scope: { region },
    operationType: 'delete',
    targetPath: path,
    targetId: String(rule.id),
    effect: 'forwardingRules.delete',
    args: { path },
  });
}
