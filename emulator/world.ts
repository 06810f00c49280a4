// The store seen as the VM runtime needs it: which instances exist (and whether they run), their
// IPs, metadata and data-disk dirs; which forwarding rules send which ports to which pool members;
// which firewall rules let traffic into which VMs.
import type { EmulatorContext } from './context.ts';
import type { Resource } from './store/store.ts';
import type { RuntimeFirewall, RuntimeForwardingRule, RuntimeHealthCheck, RuntimeInstance, RuntimeWorld } from './runtime/types.ts';
import { pathOf } from './http/wire.ts';
import { zoneInfo } from './catalogue.ts';

const lastSegmentOf = (ref: string): string => ref.split('/').pop() ?? ref;

type Nic = { networkIP: string; network?: string; accessConfigs?: Array<{ natIP?: string }> };
type Disk = { source: string; boot: boolean; deviceName?: string };

/** `<zone>/<name>` of an instance path or link. */
export function instanceKey(ref: string): string {
  const parts = pathOf(ref, '').split('/');
  return `${parts[3]}/${parts[5]}`;
}

export function healthCheckOf(ctx: EmulatorContext, pool: Resource): RuntimeHealthCheck | undefined {
  const first = (pool.healthChecks as string[] | undefined)?.[0];
  const check = first ? ctx.store.get(pathOf(first, '')) : undefined;
  if (!check) return undefined;
  return {
    port: Number(check.port),
    requestPath: String(check.requestPath),
    checkIntervalSec: Number(check.checkIntervalSec),
    timeoutSec: Number(check.timeoutSec),
    healthyThreshold: Number(check.healthyThreshold),
    unhealthyThreshold: Number(check.unhealthyThreshold),
  };
}

function runtimeInstance(ctx: EmulatorContext, path: string, vm: Resource): RuntimeInstance {
  const nics = (vm.networkInterfaces as Nic[] | undefined) ?? [];
  const disks = (vm.disks as Disk[] | undefined) ?? [];
  const dataDisk = disks.find((d) => !d.boot) ?? disks.find((d) => d.boot);
  const diskResource = dataDisk ? ctx.store.get(pathOf(dataDisk.source, '')) : undefined;
  const bootDisk = disks.find((d) => d.boot);
  const bootResource = bootDisk ? ctx.store.get(pathOf(bootDisk.source, '')) : undefined;
  const extraDisk = disks.find((d) => !d.boot);
  const extraResource = extraDisk ? ctx.store.get(pathOf(extraDisk.source, '')) : undefined;
  const items = (vm.metadata as { items?: Array<{ key: string; value: string }> } | undefined)?.items ?? [];
  const zone = path.split('/')[3] as string;
  const serviceAccount = (vm.serviceAccounts as Array<{ email?: string }> | undefined)?.[0]?.email;
  return {
    key: instanceKey(path),
    name: vm.name,
    zone: path.split('/')[3] as string,
    status: String(vm.status),
    internalIp: nics[0]?.networkIP ?? '',
    externalIps: nics.flatMap((n) => (n.accessConfigs ?? []).map((a) => a.natIP).filter((ip): ip is string => !!ip)),
    metadata: Object.fromEntries(items.map((i) => [i.key, i.value])),
    dataDiskDir: String(diskResource?.__dir ?? ''),
    project: path.split('/')[1] as string,
    id: String(vm.id ?? ''),
    network: lastSegmentOf(nics[0]?.network ?? 'default'),
    region: zoneInfo(zone)?.region ?? zone.replace(/-[a-z]$/, ''),
    bootImage: String(bootResource?.sourceImage ?? ''),
    bootDiskDir: String(bootResource?.__dir ?? ''),
    ...(extraDisk && extraResource
      ? {
          dataDisk: {
            deviceName: extraDisk.deviceName ?? String(extraResource.name),
            dir: String(extraResource.__dir),
            sizeGb: Number(extraResource.sizeGb),
          },
        }
      : {}),
    ...(serviceAccount ? { serviceAccountEmail: serviceAccount } : {}),
    tags: (vm.tags as { items?: string[] } | undefined)?.items ?? [],
  };
}

type FirewallEntry = { IPProtocol: string; ports?: string[] };

function runtimeFirewall(fw: Resource): RuntimeFirewall {
  const denied = (fw.denied as FirewallEntry[] | undefined) ?? [];
  const entries = denied.length > 0 ? denied : ((fw.allowed as FirewallEntry[] | undefined) ?? []);
  return {
    name: String(fw.name),
    network: lastSegmentOf(String(fw.network ?? 'default')),
    direction: fw.direction === 'EGRESS' ? 'EGRESS' : 'INGRESS',
    priority: Number(fw.priority ?? 1000),
    disabled: fw.disabled === true,
    action: denied.length > 0 ? 'deny' : 'allow',
    rules: entries.map((e) => ({ protocol: String(e.IPProtocol).toLowerCase(), ports: e.ports ?? [] })),
    sourceRanges: (fw.sourceRanges as string[] | undefined) ?? [],
    sourceTags: (fw.sourceTags as string[] | undefined) ?? [],
    targetTags: (fw.targetTags as string[] | undefined) ?? [],
  };
}

export function computeWorld(ctx: EmulatorContext): RuntimeWorld {
  const instances = ctx.store
    .entries((p) => /^projects\/[^/]+\/zones\/[^/]+\/instances\/[^/]+$/.test(p))
    .map(([path, vm]) => runtimeInstance(ctx, path, vm));
  const forwardingRules: RuntimeForwardingRule[] = [];
  for (const [path, rule] of ctx.store.entries((p) => /^projects\/[^/]+\/regions\/[^/]+\/forwardingRules\/[^/]+$/.test(p))) {
    const pool = rule.target ? ctx.store.get(pathOf(String(rule.target), '')) : undefined;
    const [low, high] = String(rule.portRange ?? '1-65535').split('-');
    const changedAt = Math.max(Number(rule.__changedAt ?? 0), Number(pool?.__changedAt ?? 0));
    const check = pool ? healthCheckOf(ctx, pool) : undefined;
    forwardingRules.push({
      key: `${path.split('/')[3]}/${rule.name}`,
      ip: String(rule.IPAddress),
      portLow: Number(low),
      portHigh: Number(high ?? low),
      backends: ((pool?.instances as string[] | undefined) ?? []).map(instanceKey),
      ...(check ? { healthCheck: check } : {}),
      // The runtime serves a rule `lbProgrammingDelayMs` after changedAt; shifting changedAt by the
      // emulator's (adjustable) delay lets the admin API change the delay without a new runtime.
      changedAt: changedAt + ctx.faults.lbProgrammingDelayMs,
    });
  }
  return { instances, forwardingRules, firewalls: firewallsOf(ctx) };
}

/** The firewall rules of one project (every project's when none is named). */
export function firewallsOf(ctx: EmulatorContext, project?: string): RuntimeFirewall[] {
  return ctx.store
    .entries((p) => /^projects\/[^/]+\/global\/firewalls\/[^/]+$/.test(p) && (!project || p.startsWith(`projects/${project}/`)))
    .map(([, fw]) => runtimeFirewall(fw));
}
