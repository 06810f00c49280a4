// observe(): one read of everything the planner looks at, into a plain ClusterState. GCE reads
// run in parallel; a failed read fails the observation (a partial view could make the planner
// remove a live member), except etcd, whose unreachability is itself a fact to plan with.
import {
  ORPHAN_CONFIRM_MS,
  REPAIRS_LABEL,
  REPLACES_LABEL,
  clientUrl,
  clusterNames,
  isNodeGroupName,
  isNodeTemplateName,
  isReplicaName,
  regionOfZone,
} from '../model.ts';
import type { ClusterState, EtcdView, Intent, Replica, VmStatus } from '../model.ts';
import { isTeardown } from '../model.ts';
import type { InstanceInfo, ZoneRecord } from '../gce/types.ts';
import type { EtcdAdmin } from '../etcd/types.ts';
import { decodeJournal } from '../plan/journal.ts';
import { buildView } from '../plan/view.ts';
import type { EngineDeps } from './deps.ts';
import { decodeFlatYaml } from './kube-yaml.ts';
import { MEMBER_CERTS_KEY, settingsFromKubeEnv } from './replica-metadata.ts';
import { holdsInlineKeys, storedKeysOf } from './secrets.ts';
import { earliestCertExpiry } from './cert-expiry.ts';
import type { ClusterSecrets, StoredKeys } from './secrets.ts';
import { apiIpOf } from './api-leases.ts';
import { LOCK_LABEL, decodeLock } from './lock.ts';
import { startupStatus } from './startup-status.ts';
import type { ApiLeaseAccess } from './api-leases.ts';
import { METADATA_KEY as RELEASE_METADATA_KEY, fromMetadata } from '../release/manifest.ts';

export interface Observation {
  state: ClusterState;
  secrets?: ClusterSecrets;
  /** Where the keys are (which versions, or inline in an older cluster's metadata). */
  stored?: StoredKeys;
}

export const READYZ_PROBE_MS = 2000;

/** What one run reads once and reuses on every pass: the zone catalogue. */
export interface ObserveCache {
  zones?: ZoneRecord[];
  /** Zones where a VM insert of this run failed for want of capacity, with the error's reason. */
  noCapacity?: Map<string, string>;
  /**
   * The cluster's keys as Secret Manager's newest versions hold them (KeyStore.loadLatest), read once
   * a run: while no VM exists (a new cluster's first passes, a restore) every pass would ask again.
   */
  latestKeys?: Promise<Awaited<ReturnType<EngineDeps['keys']['loadLatest']>>>;
  /** This run has already compacted, defragmented and disarmed etcd (ClusterState.spaceReclaimed). */
  spaceReclaimed?: boolean;
  /** When this run first saw each etcd member without a VM (epoch ms). */
  orphanSince?: Map<string, number>;
}

/** The orphan members seen long enough ago, by this run, to act on (ClusterState.confirmedOrphans). */
function confirmOrphans(state: ClusterState, cache: ObserveCache, now: number): string[] {
  const since = (cache.orphanSince ??= new Map());
  const current = new Set(buildView(state).orphanMembers.map((m) => m.id));
  for (const id of [...since.keys()]) if (!current.has(id)) since.delete(id);
  for (const id of current) if (!since.has(id)) since.set(id, now);
  return [...current].filter((id) => now - since.get(id)! >= ORPHAN_CONFIRM_MS);
}

/**
 * `leases`: also read the control plane's Leases through the static IP (the planner and the summary
 * use them; waits for readiness do not).
 */
export async function observe(
  intent: Intent,
  deps: EngineDeps,
  etcdFor: (s: ClusterSecrets) => EtcdAdmin,
  cache: ObserveCache = {},
  leases?: ApiLeaseAccess,
): Promise<Observation> {
  const { compute } = deps;
  const names = clusterNames(intent.instancePrefix);
  const [zones, listed] = await Promise.all([cache.zones ?? compute.listZones(), compute.listInstances(names.master)]);
  cache.zones = zones;
  const instances = listed.filter((vm) => isReplicaName(names, vm.name)).sort((a, b) => a.name.localeCompare(b.name));
  deps.sawReplicas?.(instances);
  // The cluster's replicas say where it lives; the requested zone only names the region of a
  // cluster that does not exist yet (a zone elsewhere is then refused by the planner).
  const region =
    (instances[0] ? regionOfZone(instances[0].zone) : undefined) ??
    (intent.zone ? regionOfZone(intent.zone) : undefined) ??
    (intent.zones[0] ? regionOfZone(intent.zones[0]) : undefined);
  const byRegion = <T>(f: (r: string) => Promise<T | undefined>) => (region ? f(region) : Promise.resolve(undefined));
  // Node groups only matter to a teardown: other runs do not pay for two aggregated lists.
  const teardown = isTeardown(intent);
  const [address, fwHttps, fwEtcd, fwHc, fwIap, healthCheck, pool, rule, nodeGroups, nodeTemplates, secretIds] = await Promise.all([
    byRegion((r) => compute.getAddress(r, names.address)),
    compute.getFirewall(names.firewallHttps),
    compute.getFirewall(names.firewallEtcd),
    compute.getFirewall(names.firewallHealthChecks),
    compute.getFirewall(names.firewallIap),
    compute.getHttpHealthCheck(names.healthCheck),
    byRegion((r) => compute.getTargetPool(r, names.targetPool)),
    byRegion((r) => compute.getForwardingRule(r, names.forwardingRule)),
    teardown ? compute.listInstanceGroupManagers(`${names.prefix}-`) : Promise.resolve([]),
    teardown ? compute.listInstanceTemplates(`${names.prefix}-`) : Promise.resolve([]),
    teardown ? deps.keys.listCluster(names) : Promise.resolve([]),
  ]);

  // A replica that already names the versions wins: a move that stopped half-way goes on with them.
  const allStored = instances.map(storedKeysOf);
  const fromVm = allStored.find((s) => s?.where === 'secret-manager') ?? allStored.find((s) => s !== undefined);
  // No VM left but the cluster's address: its keys may still be in Secret Manager (a restore after
  // every master was lost makes the new one with them). A teardown needs none.
  const fromSecrets = !fromVm && instances.length === 0 && address && !teardown ? await latestKeys(cache, deps, names) : undefined;
  const stored = fromVm ?? fromSecrets?.stored;
  const secrets = fromVm ? await deps.keys.load(fromVm) : fromSecrets?.secrets;
  const settingsSource = instances.find((vm) => vm.name === names.master) ?? instances[0];
  const settings = settingsSource ? settingsFromKubeEnv(decodeFlatYaml(settingsSource.metadata['kube-env'] ?? '')) : undefined;

  const inPool = (vm: InstanceInfo) => (pool?.instances ?? []).some((link) => link.endsWith(`/zones/${vm.zone}/instances/${vm.name}`));
  const running = instances.filter((vm) => vm.status === 'RUNNING' && vm.internalIp);
  const apiIp = apiIpOf({
    ...(address ? { address: { ip: address.address } } : {}),
    ...(rule ? { forwardingRule: { ip: rule.IPAddress } } : {}),
  });
  const [etcd, readiness, apiLeases] = await Promise.all([
    observeEtcd(secrets, running, etcdFor),
    Promise.all(
      running.map(async (vm) =>
        // The shared serving cert names the static IP and `kubernetes`, not each internal IP.
        secrets
          ? (await deps.probeReadyz(`https://${vm.internalIp}:443`, secrets.apiCa.cert, READYZ_PROBE_MS, { serverName: 'kubernetes' }))
              .ready
          : undefined,
      ),
    ),
    leases && running.length > 0 ? leases.read(apiIp, secrets) : Promise.resolve(undefined),
  ]);
  const ready = new Map(running.map((vm, i) => [vm.name, readiness[i]]));
  const failedStartups = intent.operation === 'repair' ? await failedStartupsOf(compute, running, etcd) : new Map<string, string>();

  const replicas: Replica[] = instances.map((vm) => ({
    name: vm.name,
    zone: vm.zone,
    status: vm.status as VmStatus,
    internalIp: vm.internalIp,
    externalIp: vm.accessConfigs[0]?.natIP,
    hasStaticIp: address !== undefined && vm.accessConfigs.some((ac) => ac.natIP === address.address),
    hasMemberCerts: Boolean(vm.metadata[MEMBER_CERTS_KEY]),
    inTargetPool: inPool(vm),
    request: vm.labels['ha-masters-request'],
    ...(vm.labels[REPLACES_LABEL] ? { replaces: vm.labels[REPLACES_LABEL] } : {}),
    ...(/^\d+$/.test(vm.labels[REPAIRS_LABEL] ?? '') ? { repairs: Number(vm.labels[REPAIRS_LABEL]) } : {}),
    apiserverReady: ready.get(vm.name),
    ...releaseOf(vm.metadata),
    ...(vm.machineType ? { machineType: vm.machineType } : {}),
    ...(vm.network ? { network: vm.network } : {}),
    ...(vm.dataDiskSizeGb ? { dataDiskSizeGb: vm.dataDiskSizeGb } : {}),
    ...(vm.serviceAccount ? { serviceAccount: vm.serviceAccount } : {}),
    creationTimestamp: vm.creationTimestamp,
    ...(failedStartups.has(vm.name) ? { startupFailure: failedStartups.get(vm.name)! } : {}),
  }));

  const state: ClusterState = {
    names,
    project: compute.project,
    region: address?.region ?? region,
    zones: zones.map((z) => ({ name: z.name, region: z.region, status: z.status })),
    address: address && {
      name: address.name,
      ip: address.address,
      status: address.status,
      users: address.users,
      region: address.region,
      labels: address.labels,
    },
    firewalls: [fwHttps, fwEtcd, fwHc, fwIap].flatMap((f) => (f ? [f.name] : [])),
    healthCheck: healthCheck?.name,
    targetPool: pool && { name: pool.name, instances: pool.instances, healthChecks: pool.healthChecks },
    forwardingRule: rule && { name: rule.name, ip: rule.IPAddress, target: rule.target },
    replicas,
    etcd,
    settings,
    journal: address ? decodeJournal(names, address.labels) : [],
    nodeGroups: nodeGroups.filter((g) => isNodeGroupName(names, g.name)).map((g) => ({ name: g.name, zone: g.zone })),
    nodeTemplates: nodeTemplates.filter((t) => isNodeTemplateName(names, t.name)).map((t) => t.name),
    secrets: secretIds,
    inlineKeys: instances.filter(holdsInlineKeys).map((vm) => vm.name),
    ...certExpiryOf(instances),
    ...(apiLeases ? { leases: apiLeases } : {}),
    ...lockOf(address?.labels),
    ...(cache.noCapacity?.size ? { noCapacity: Object.fromEntries(cache.noCapacity) } : {}),
    ...(cache.spaceReclaimed ? { spaceReclaimed: true } : {}),
    observedAt: deps.now().toISOString(),
  };
  if (state.etcd.reachable) state.confirmedOrphans = confirmOrphans(state, cache, Date.now());
  return { state, ...(secrets ? { secrets } : {}), ...(stored ? { stored } : {}) };
}

/**
 * For repair: the VMs not yet voting in etcd whose start-up script reported a failure (the guest
 * attribute of docs/vm-contract.md), so that repair replaces them at once instead of waiting out
 * their grace period. One read per such VM; healthy voters are not asked.
 */
async function failedStartupsOf(compute: EngineDeps['compute'], running: InstanceInfo[], etcd: EtcdView): Promise<Map<string, string>> {
  const voting = new Set(etcd.members.filter((m) => !m.isLearner && m.healthy).map((m) => m.name));
  const joining = running.filter((vm) => !voting.has(`etcd-${vm.name}`));
  const reports = await Promise.all(joining.map((vm) => startupStatus(compute, vm.zone, vm.name)));
  return new Map(joining.flatMap((vm, i) => (reports[i]?.startsWith('failed') ? [[vm.name, reports[i]!] as const] : [])));
}

function lockOf(labels: Record<string, string> | undefined): Pick<ClusterState, 'lock'> {
  const holder = decodeLock(labels?.[LOCK_LABEL]);
  return holder ? { lock: { request: holder.request, expiresAt: new Date(holder.expiresAt).toISOString() } } : {};
}

function certExpiryOf(instances: InstanceInfo[]): Pick<ClusterState, 'certExpiry'> {
  const e = earliestCertExpiry(instances);
  return e ? { certExpiry: { what: e.what, notAfter: e.notAfter.toISOString() } } : {};
}

async function observeEtcd(
  secrets: ClusterSecrets | undefined,
  running: InstanceInfo[],
  etcdFor: (s: ClusterSecrets) => EtcdAdmin,
): Promise<EtcdView> {
  if (!secrets) return { reachable: false, members: [], error: 'no replica carries the cluster certificates yet' };
  const endpoints = running.filter((vm) => vm.metadata[MEMBER_CERTS_KEY]).map((vm) => clientUrl(vm.internalIp!));
  if (endpoints.length === 0) return { reachable: false, members: [], error: 'no running replica has an etcd member yet' };
  return etcdFor(secrets).observe(endpoints);
}

/** KeyStore.loadLatest once a run; a failed read is tried again on the next pass. */
function latestKeys(cache: ObserveCache, deps: EngineDeps, names: ClusterState['names']): NonNullable<ObserveCache['latestKeys']> {
  if (!cache.latestKeys) {
    const pending = deps.keys.loadLatest(names);
    pending.catch(() => (cache.latestKeys = undefined));
    cache.latestKeys = pending;
  }
  return cache.latestKeys;
}

/** The release a VM was made with; none when its metadata lacks it or cannot be read (a rollout then replaces it). */
function releaseOf(metadata: Record<string, string>): Pick<Replica, 'release'> {
  const text = metadata[RELEASE_METADATA_KEY];
  if (!text) return {};
  try {
    return { release: fromMetadata(text) };
  } catch {
    return {};
  }
}
