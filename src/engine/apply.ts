// apply(step): one idempotent write (or a wait). Each write first checks whether its effect is
// already there (a run that died after the write but before observing it must not fail or
// repeat it), and "already exists" / "already gone" count as success.
import { setTimeout as delay } from 'node:timers/promises';
import { APISERVER_PORT, HEALTH_PORT, REPAIRS_LABEL, REPLACES_LABEL, clientUrl, replicaKeysSecret } from '../model.ts';
import type { ClusterState, Intent, Step } from '../model.ts';
import { isAlreadyExists, isNotFound, GceError } from '../gce/errors.ts';
import type { EtcdAdmin } from '../etcd/types.ts';
import { withJournalEntry } from '../plan/journal.ts';
import type { EngineDeps } from './deps.ts';
import { MEMBER_CERTS_KEY, memberCertsMetadata, replicaMetadata, withoutInlineKeys } from './replica-metadata.ts';
import { holdsInlineKeys, keyMaskValues, memberCertFor, newClusterSecrets, replicaServingCertFor, secretValues } from './secrets.ts';
import { decodeFlatYaml, unb64 } from './kube-yaml.ts';
import { defaultRelease } from '../release/pinned.ts';
import { releaseForNewReplica } from '../plan/release.ts';
import { clusterNetwork, shapeForNewReplica } from '../plan/shape.ts';
import type { ClusterSecrets } from './secrets.ts';
import type { Observation } from './observe.ts';
import { probeReadyz } from '../kube/apiserver.ts';
import { explainStartup, startupFailureMessage, startupStatus } from './startup-status.ts';
import { errorMessage } from '../errors.ts';
import { apiIpOf } from './api-leases.ts';
import { reclaimEtcdSpace } from './etcd-maintenance.ts';
import { waitEnd } from './wait-end.ts';
import { RECOVERY_LABEL, decodeRecovery, encodeRecovery } from '../plan/recover.ts';
import type { Recovery } from '../plan/recover.ts';

/** docs/vm-contract.md: the nonce that makes a master's etcd form a new cluster from its data once. */
const FORCE_NEW_CLUSTER_KEY = 'etcd-force-new-cluster';
const RESTORE_FROM_KEY = 'etcd-restore-from';
import type { ApiLeaseAccess } from './api-leases.ts';
import { CLUSTER_LABEL, ownerLabels } from '../labels.ts';

export interface ApplyContext {
  intent: Intent;
  deps: EngineDeps;
  observation: Observation;
  etcd: (s: ClusterSecrets) => EtcdAdmin;
  /** Waits until the replica is a healthy voter with a ready apiserver, or throws. */
  waitReady: (replica: string) => Promise<void>;
  /** The cluster's API as an admin, for its Leases. */
  leases: ApiLeaseAccess;
  /** The masters' service account (the input, else the project's default one; read once). */
  serviceAccount: () => Promise<string>;
  /** Epoch ms at which the run's `timeout` ends: no wait of a step goes past it. */
  runDeadline: number;
}

const EXTERNAL_NAT = 'external-nat';
const HEALTH_CHECK_RANGES = ['35.191.0.0/16', '209.85.152.0/22', '209.85.204.0/22'];
/** Where IAP's TCP forwarding connects from (https://cloud.google.com/iap/docs/using-tcp-forwarding). */
const IAP_RANGES = ['35.235.240.0/20'];

async function ignore(p: Promise<unknown>, ok: (e: unknown) => boolean): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!ok(e)) throw e;
  }
}
const created = (p: Promise<unknown>) => ignore(p, isAlreadyExists);
const deleted = (p: Promise<unknown>) => ignore(p, isNotFound);

function requireRegion(state: ClusterState): string {
  if (!state.region) throw new Error('the cluster region is unknown: set gce-zone (KUBE_GCE_ZONE)');
  return state.region;
}

function requireAddress(state: ClusterState) {
  if (!state.address) throw new Error(`address ${state.names.address} is missing`);
  return state.address;
}

/** Client URLs of the seed replicas a joining VM asks for the member list (those with an IP). */
function seedEndpoints(state: ClusterState, seeds: string[]): string[] {
  return state.replicas.filter((r) => seeds.includes(r.name) && r.internalIp).map((r) => clientUrl(r.internalIp!));
}

/** Healthy voters' client URLs, minus `exceptId`. */
function voterEndpoints(state: ClusterState, exceptId?: string): string[] {
  return state.etcd.members
    .filter((m) => !m.isLearner && m.healthy && m.id !== exceptId && m.clientUrls.length > 0)
    .map((m) => m.clientUrls[0]!);
}

export async function applyStep(step: Step, ctx: ApplyContext): Promise<void> {
  const { deps, observation, intent } = ctx;
  const { compute } = deps;
  const { state } = observation;
  const n = state.names;
  switch (step.kind) {
    case 'createAddress':
      return created(compute.insertAddress(requireRegion(state), n.address, clusterLabels(ctx)));
    case 'createFirewall':
      return created(compute.insertFirewall(firewallSpec(step.name, state, clusterNetwork(intent, state))));
    case 'createHealthCheck':
      return created(
        compute.insertHttpHealthCheck({
          name: n.healthCheck,
          port: HEALTH_PORT,
          requestPath: '/readyz',
          checkIntervalSec: 2,
          timeoutSec: 1,
          healthyThreshold: 1,
          unhealthyThreshold: 2,
        }),
      );
    case 'createReplica': {
      const address = requireAddress(state);
      const shape = shapeForNewReplica(intent, state, step.replaces);
      const account = shape.serviceAccount ?? (await ctx.serviceAccount());
      let secrets = observation.secrets;
      let refs = observation.stored?.where === 'secret-manager' ? observation.stored.refs : undefined;
      if (!secrets) {
        if (!step.first) throw new Error(`no replica of ${n.master} carries the cluster certificates: cannot make ${step.replica} join`);
        const fresh = await newClusterSecrets(n.master, address.ip);
        for (const v of secretValues(fresh)) deps.mask(v);
        refs = await deps.keys.saveCluster(n, fresh, `serviceAccount:${account}`, clusterLabels(ctx));
        secrets = fresh;
      } else {
        if (!refs)
          throw new Error(
            `the keys of ${n.master} are still in its metadata: they move to Secret Manager before ${step.replica} is made (re-run to let the move go first)`,
          );
        // Idempotent: the account the new VM runs as may read the keys it starts from.
        await deps.keys.shareCluster(n, `serviceAccount:${account}`);
      }
      const settings = state.settings ?? { multizone: intent.multizone, quorumRead: intent.quorumRead };
      const labels: Record<string, string> = { ...clusterLabels(ctx), 'ha-masters-role': 'master' };
      if (step.request) labels['ha-masters-request'] = step.request;
      if (step.repairs !== undefined) labels[REPAIRS_LABEL] = String(step.repairs);
      if (step.replaces) labels[REPLACES_LABEL] = step.replaces;
      return noCapacityAs(
        step.zone,
        created(
          compute.insertInstance({
            zone: step.zone,
            name: step.replica,
            machineType: shape.machineType,
            image: intent.image,
            network: shape.network,
            tags: [n.tag],
            labels,
            dataDiskSizeGb: shape.dataDiskSizeGb,
            serviceAccount: account,
            metadata: replicaMetadata({
              names: n,
              vm: step.replica,
              first: step.first,
              seeds: step.seeds,
              seedEndpoints: seedEndpoints(state, step.seeds),
              staticIp: address.ip,
              settings,
              secrets,
              refs,
              zone: step.zone,
              release: releaseForNewReplica(intent, state, step.replaces) ?? defaultRelease(),
            }),
            natIP: step.first ? address.ip : undefined,
          }),
        ),
      );
    }
    case 'setMemberCerts':
      return setMemberCerts(step.zone, step.replica, ctx);
    case 'moveKeys':
      return moveKeys(step.zone, step.replica, ctx);
    case 'addLearner': {
      const admin = ctx.etcd(requireSecrets(observation));
      await admin.addLearner(voterEndpoints(state), step.peerUrl);
      return;
    }
    case 'promoteLearner': {
      const admin = ctx.etcd(requireSecrets(observation));
      const vm = state.replicas.find((r) => r.name === step.replica);
      // A learner whose VM reported a failed start-up never catches up: stop waiting at once, with its reason.
      const watch = new AbortController();
      const failedStartup = vm
        ? watchStartupFailure(compute, vm.zone, step.replica, watch.signal).then((why) => {
            if (!why) return;
            deps.log(`  ${step.replica} reported a failed start-up: no longer waiting for its learner to catch up`);
            watch.abort(why);
          })
        : undefined;
      try {
        await admin.promote(
          voterEndpoints(state),
          step.memberId,
          waitEnd(ctx.runDeadline, ctx.deps.limits.runTimeoutMs, deps.limits.readyTimeoutMs).at,
          watch.signal,
        );
      } catch (e) {
        if (watch.signal.aborted && watch.signal.reason instanceof Error) throw watch.signal.reason;
        // A learner that never started is most often a VM whose start-up failed: say why.
        const progress = vm ? await explainStartup(compute, vm.zone, step.replica) : '';
        if (progress) throw new Error(`${errorMessage(e)}; ${progress}`, { cause: e });
        throw e;
      } finally {
        watch.abort();
        await failedStartup;
      }
      await ctx.waitReady(step.replica);
      return;
    }
    case 'waitReady':
      return ctx.waitReady(step.replica);
    case 'createTargetPool':
      return created(
        compute.insertTargetPool(
          requireRegion(state),
          n.targetPool,
          step.instances.map((i) => compute.instanceLink(i.zone, i.name)),
          [compute.httpHealthCheckLink(n.healthCheck)],
        ),
      );
    case 'addToTargetPool':
      return compute.addTargetPoolInstance(requireRegion(state), n.targetPool, compute.instanceLink(step.zone, step.replica));
    case 'removeFromTargetPool':
      return compute.removeTargetPoolInstance(requireRegion(state), n.targetPool, compute.instanceLink(step.zone, step.replica));
    case 'detachStaticIp': {
      const vm = await compute.getInstance(step.zone, step.replica);
      const ac = vm?.accessConfigs.find((a) => a.natIP === requireAddress(state).ip);
      if (vm && ac) await compute.deleteAccessConfig(step.zone, step.replica, ac.name);
      return;
    }
    case 'attachEphemeralIp': {
      const vm = await compute.getInstance(step.zone, step.replica);
      if (vm && vm.accessConfigs.length === 0) await compute.addAccessConfig(step.zone, step.replica, EXTERNAL_NAT);
      return;
    }
    case 'attachStaticIp': {
      const ip = requireAddress(state).ip;
      const vm = await compute.getInstance(step.zone, step.replica);
      if (!vm) throw new Error(`replica ${step.replica} vanished before the static IP could go back on it`);
      if (vm.accessConfigs.some((a) => a.natIP === ip)) return;
      for (const ac of vm.accessConfigs) await compute.deleteAccessConfig(step.zone, step.replica, ac.name);
      await compute.addAccessConfig(step.zone, step.replica, EXTERNAL_NAT, ip);
      return waitExternalServes(ctx, ip, `${step.replica} (the static IP is back on it)`);
    }
    case 'createForwardingRule':
      await created(
        compute.insertForwardingRule(
          requireRegion(state),
          n.forwardingRule,
          requireAddress(state).ip,
          compute.targetPoolLink(requireRegion(state), n.targetPool),
          `${APISERVER_PORT}-${APISERVER_PORT}`,
          clusterLabels(ctx),
        ),
      );
      return waitExternalServes(ctx, requireAddress(state).ip, `the load balancer ${n.forwardingRule}`);
    case 'deleteForwardingRule':
      return deleted(compute.deleteForwardingRule(requireRegion(state), n.forwardingRule));
    case 'deleteTargetPool':
      return deleted(compute.deleteTargetPool(requireRegion(state), n.targetPool));
    case 'moveLeader': {
      const leader = state.etcd.members.find((m) => m.id === step.fromId);
      if (!leader?.clientUrls[0]) throw new Error(`etcd leader ${step.fromId} has no client URL`);
      return ctx.etcd(requireSecrets(observation)).moveLeader(leader.clientUrls[0], step.toId);
    }
    case 'removeMember':
      return ctx.etcd(requireSecrets(observation)).removeMember(voterEndpoints(state, step.memberId), step.memberId);
    case 'deleteReplica':
      await deleted(compute.deleteInstance(step.zone, step.replica));
      // Its own keys go with it (a run that dies in between leaves the secret to the teardown).
      await deps.keys.deleteSecret(replicaKeysSecret(step.replica));
      return;
    case 'deleteIdentityLease': {
      // Best effort: the lease expires by itself, so an unreachable API is worth a warning only.
      const r = await ctx.leases.deleteIdentity(apiIpOf(state), observation.secrets, step.name);
      if (r.ok && r.result === 'absent') deps.log(`  identity lease ${step.name} was already gone`);
      if (!r.ok) deps.log(`  warning: ${r.error}; the lease expires by itself within an hour`);
      return;
    }
    case 'deleteFirewall':
      return deleted(compute.deleteFirewall(step.name));
    case 'deleteHealthCheck':
      return deleted(compute.deleteHttpHealthCheck(n.healthCheck));
    case 'deleteAddress':
      return deleted(compute.deleteAddress(requireRegion(state), n.address));
    case 'deleteNodeGroup':
      return deleted(compute.deleteInstanceGroupManager(step.zone, step.name));
    case 'deleteNodeTemplate':
      return deleted(compute.deleteInstanceTemplate(step.name));
    case 'deleteSecret':
      await deps.keys.deleteSecret(step.name);
      return;
    case 'waitRunning':
      return waitRunning(step.zone, step.replica, ctx);
    case 'waitForLock':
      return; // the engine waited for the lock before this step; the next pass decides afresh
    case 'pause':
      return delay(Math.max(0, Math.min(step.ms, ctx.runDeadline - Date.now())));
    case 'writeRecovery':
      return relabelAddress(ctx, (labels) => withRecovery(n, labels, step.record));
    case 'forceNewCluster':
      return forceNewCluster(step, ctx);
    case 'restoreSnapshot':
      return restoreSnapshot(step, ctx);
    case 'writeJournal':
      return relabelAddress(ctx, (labels) => withJournalEntry(n, labels, step.entry));
    case 'labelCluster':
      return labelCluster(ctx, step.labels);
    case 'reclaimEtcdSpace':
      return reclaimEtcdSpace(step, state, ctx.etcd(requireSecrets(observation)));
    default:
      return noSuchStep(step);
  }
}

/**
 * What every resource of the cluster carries at creation: its name, and the run's ownership labels
 * (pull request, repository, expiry `ttl` after the run's start). Firewalls, target pools and legacy health
 * checks take no labels in GCE; the address and the VMs are where the janitor looks.
 */
function clusterLabels(ctx: ApplyContext): Record<string, string> {
  const { intent } = ctx;
  return { [CLUSTER_LABEL]: ctx.observation.state.names.master, ...ownerLabels(intent.owner, intent.expiresAt) };
}

/** The ownership labels onto each replica VM that lacks them, then the address: the planner looks at the address, so it goes last. */
async function labelCluster(ctx: ApplyContext, wanted: Record<string, string>): Promise<void> {
  const { compute } = ctx.deps;
  const { state } = ctx.observation;
  for (const r of state.replicas) {
    await withFreshFingerprint(async () => {
      const vm = await compute.getInstance(r.zone, r.name);
      if (!vm || Object.entries(wanted).every(([k, v]) => vm.labels[k] === v)) return;
      await compute.setInstanceLabels(r.zone, r.name, { ...vm.labels, ...wanted }, vm.labelFingerprint);
    });
  }
  await relabelAddress(ctx, (labels) => ({ ...labels, ...wanted }));
}

/**
 * Quorum recovery's turning point (plan/recover.ts): the survivor gets `etcd-force-new-cluster` and a
 * reset, boots into a new one-member cluster from its own data (vm/startup.sh), and once it serves
 * the record moves on. Repeating it is harmless: a VM forces once per nonce.
 */
function forceNewCluster(step: Extract<Step, { kind: 'forceNewCluster' }>, ctx: ApplyContext): Promise<void> {
  return restartRecovering(step, FORCE_NEW_CLUSTER_KEY, step.nonce, 'it starts etcd with --force-new-cluster from its own data', ctx);
}

/**
 * A restore from a snapshot (plan/recover.ts): `etcd-restore-from: <nonce> <bucket> <object, URL-encoded>
 * <generation> <md5 or ->` and a reset; the VM downloads that version, checks it and restores it into
 * a new one-member cluster (vm/startup.sh), once per nonce.
 */
function restoreSnapshot(step: Extract<Step, { kind: 'restoreSnapshot' }>, ctx: ApplyContext): Promise<void> {
  const { source } = step;
  const value = [step.nonce, source.bucket, encodeURIComponent(source.object), source.generation ?? '', source.md5Hash ?? '-'].join(' ');
  return restartRecovering(
    step,
    RESTORE_FROM_KEY,
    value,
    `it restores etcd from gs://${source.bucket}/${source.object} (generation ${source.generation})`,
    ctx,
  );
}

/** Sets `key: value` on the replica, resets it, waits until it serves, then moves the recovery record to phase `f`. */
async function restartRecovering(
  step: { replica: string; zone: string },
  key: string,
  value: string,
  what: string,
  ctx: ApplyContext,
): Promise<void> {
  const { compute } = ctx.deps;
  const n = ctx.observation.state.names;
  await withFreshFingerprint(async () => {
    const vm = await compute.getInstance(step.zone, step.replica);
    if (!vm) throw new Error(`replica ${step.replica} vanished before etcd could be rebuilt on it`);
    if (vm.metadata[key] === value) return;
    await compute.setInstanceMetadata(step.zone, step.replica, { ...vm.metadata, [key]: value }, vm.metadataFingerprint);
  });
  await compute.resetInstance(step.zone, step.replica);
  ctx.deps.log(`  ${step.replica} was reset: ${what}`);
  await ctx.waitReady(step.replica);
  await relabelAddress(ctx, (labels) => {
    const record = decodeRecovery(n, labels);
    return record ? withRecovery(n, labels, { ...record, phase: 'f' }) : labels;
  });
}

function withRecovery(n: ClusterState['names'], labels: Record<string, string>, record: Recovery | undefined): Record<string, string> {
  const next = { ...labels };
  if (record) next[RECOVERY_LABEL] = encodeRecovery(n, record);
  else delete next[RECOVERY_LABEL];
  return next;
}

/** A step kind without a case here would do nothing at all: the compiler says so, and so does the run. */
function noSuchStep(step: never): never {
  throw new Error(`ha-masters cannot apply a step of kind ${(step as { kind: string }).kind}: this is a bug, please report it`);
}

/**
 * A VM insert the zone could not serve (ZONE_RESOURCE_POOL_EXHAUSTED: no capacity, or the zone is
 * down). Nothing was made; the engine notes the zone for the rest of the run (ClusterState.noCapacity)
 * and plans again, so the replica goes to another zone.
 */
export class ZoneCapacityError extends Error {
  readonly zone: string;
  readonly detail: string;
  constructor(zone: string, cause: GceError) {
    super(`zone ${zone} has no capacity for a new VM now (${cause.reason}: ${cause.detail})`, { cause });
    this.name = 'ZoneCapacityError';
    this.zone = zone;
    this.detail = `${cause.reason}`;
  }
}

/** Polls a VM still being created until it runs (or ends otherwise: the next pass plans with what it is). */
async function waitRunning(zone: string, name: string, ctx: ApplyContext): Promise<void> {
  const end = waitEnd(ctx.runDeadline, ctx.deps.limits.runTimeoutMs, ctx.deps.limits.readyTimeoutMs);
  let status = 'not read yet';
  while (Date.now() < end.at) {
    const vm = await ctx.deps.compute.getInstance(zone, name);
    status = vm?.status ?? 'gone';
    if (status !== 'PROVISIONING' && status !== 'STAGING') return;
    await delay(Math.max(0, Math.min(1000, end.at - Date.now())));
  }
  throw new Error(
    `VM ${name} in ${zone} did not leave ${status} ${end.why}; re-run to keep waiting, or remove it (operation: down, delete-nodes: false, replica-name: ${name})`,
  );
}

async function noCapacityAs(zone: string, insert: Promise<void>): Promise<void> {
  try {
    await insert;
  } catch (e) {
    if (e instanceof GceError && /^zone_resource_pool_exhausted/i.test(e.reason ?? '')) throw new ZoneCapacityError(zone, e);
    throw e;
  }
}

function requireSecrets(o: Observation): ClusterSecrets {
  if (!o.secrets) throw new Error('no replica carries the cluster certificates');
  return o.secrets;
}

function firewallSpec(name: string, state: ClusterState, network: string) {
  const n = state.names;
  const base = { name, network, targetTags: [n.tag] };
  if (name === n.firewallHttps) {
    return {
      ...base,
      description: `ha-masters: kube-apiserver of ${n.master}`,
      allowed: [{ IPProtocol: 'tcp', ports: [String(APISERVER_PORT)] }],
      sourceRanges: ['0.0.0.0/0'],
    };
  }
  if (name === n.firewallIap) {
    return {
      ...base,
      description: `ha-masters: etcd and kube-apiserver of ${n.master} through IAP TCP forwarding`,
      allowed: [{ IPProtocol: 'tcp', ports: ['2379', String(APISERVER_PORT)] }],
      sourceRanges: IAP_RANGES,
    };
  }
  if (name === n.firewallEtcd) {
    return {
      ...base,
      description: `ha-masters: etcd clients and peers between replicas of ${n.master}`,
      allowed: [{ IPProtocol: 'tcp', ports: ['2379', '2380'] }],
      sourceTags: [n.tag],
    };
  }
  return {
    ...base,
    description: `ha-masters: load balancer health checks of ${n.master}`,
    allowed: [{ IPProtocol: 'tcp', ports: [String(HEALTH_PORT)] }],
    sourceRanges: HEALTH_CHECK_RANGES,
  };
}

/** Read-modify-write with the fingerprint; a concurrent change (412) is re-read and retried. */
async function withFreshFingerprint(attempt: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 5; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (e instanceof GceError && e.kind === 'conditionNotMet' && i < 4) continue;
      throw e;
    }
  }
}

async function setMemberCerts(zone: string, name: string, ctx: ApplyContext): Promise<void> {
  const { compute, keys } = ctx.deps;
  const secrets = requireSecrets(ctx.observation);
  const stored = ctx.observation.stored!;
  const { state } = ctx.observation;
  await withFreshFingerprint(async () => {
    const vm = await compute.getInstance(zone, name);
    if (!vm) throw new Error(`replica ${name} vanished before its certificate could be set`);
    if (vm.metadata[MEMBER_CERTS_KEY]) return;
    if (!vm.internalIp) throw new Error(`replica ${name} has no internal IP yet`);
    const pair = await memberCertFor(await keys.withEtcdCaKey(stored, secrets), name, vm.internalIp);
    const serving = await replicaServingCertFor(secrets, state.names.master, requireAddress(state).ip, vm.internalIp);
    for (const v of [...keyMaskValues(pair.key), ...keyMaskValues(serving.key)]) ctx.deps.mask(v);
    // The key first, the certificate that names its version second: a VM never sees one without the other.
    const version = await keys.saveReplica(state.names, name, pair, serving, vm.serviceAccount && `serviceAccount:${vm.serviceAccount}`);
    await compute.setInstanceMetadata(
      zone,
      name,
      { ...vm.metadata, [MEMBER_CERTS_KEY]: memberCertsMetadata(pair, serving, version) },
      vm.metadataFingerprint,
    );
  });
}

/**
 * One replica of a cluster made before Secret Manager: its keys go to Secret Manager (the cluster's
 * with the first replica moved), its metadata keeps the certificates and names the versions, and
 * its start-up script becomes this version's (a reboot reads the secrets, or the keys on its boot
 * disk when its service account cannot). Only metadata changes, so etcd and the apiserver keep running.
 */
async function moveKeys(zone: string, name: string, ctx: ApplyContext): Promise<void> {
  const { compute, keys } = ctx.deps;
  const { observation } = ctx;
  const n = observation.state.names;
  const secrets = requireSecrets(observation);
  const stored = observation.stored!;
  await withFreshFingerprint(async () => {
    const vm = await compute.getInstance(zone, name);
    if (!vm) throw new Error(`replica ${name} vanished before its keys could be moved`);
    if (!holdsInlineKeys(vm)) return;
    const refs =
      stored.where === 'secret-manager'
        ? stored.refs
        : await keys.saveCluster(
            n,
            { ...secrets, etcdCa: await keys.withEtcdCaKey(stored, secrets) },
            `serviceAccount:${await ctx.serviceAccount()}`,
          );
    // A VM made without a service account cannot be given one while it runs: it keeps its disk keys.
    if (vm.serviceAccount) await keys.shareCluster(n, `serviceAccount:${vm.serviceAccount}`);
    const own = decodeFlatYaml(vm.metadata[MEMBER_CERTS_KEY] ?? '');
    const metadata = withoutInlineKeys(vm.metadata, refs);
    if (own.ETCD_MEMBER_KEY && own.ETCD_MEMBER_CERT) {
      const member = { cert: unb64(own.ETCD_MEMBER_CERT), key: unb64(own.ETCD_MEMBER_KEY) };
      const serving =
        own.APISERVER_CERT && own.APISERVER_KEY ? { cert: unb64(own.APISERVER_CERT), key: unb64(own.APISERVER_KEY) } : undefined;
      for (const v of [member.key, ...(serving ? [serving.key] : [])].flatMap(keyMaskValues)) ctx.deps.mask(v);
      const version = await keys.saveReplica(n, name, member, serving, vm.serviceAccount && `serviceAccount:${vm.serviceAccount}`);
      metadata[MEMBER_CERTS_KEY] = memberCertsMetadata(member, serving, version);
    }
    await compute.setInstanceMetadata(zone, name, metadata, vm.metadataFingerprint);
  });
}

/** Polls the VM's start-up report until `stop`; the failure (as the error to end the run with) if it reports one. */
async function watchStartupFailure(
  compute: ApplyContext['deps']['compute'],
  zone: string,
  replica: string,
  stop: AbortSignal,
): Promise<Error | undefined> {
  while (!stop.aborted) {
    await delay(STARTUP_POLL_MS, undefined, { signal: stop }).catch(() => undefined);
    if (stop.aborted) return undefined;
    const reported = await startupStatus(compute, zone, replica);
    if (reported?.startsWith('failed')) return new Error(startupFailureMessage(replica, zone, reported));
  }
  return undefined;
}

const STARTUP_POLL_MS = 3000;

/** How long the run waits for the static IP to serve after it moved (GCE programs a new rule in seconds to minutes). */
const EXTERNAL_WAIT_MAX_MS = 5 * 60_000;

/**
 * After the static IP moved (to the load balancer, or back to the last replica), waits until
 * https://<ip>/readyz answers, so that the step's outputs (external-ip, kubeconfig) work when the
 * run ends. Probed from the runner, as users will reach it. A runner that cannot reach the
 * external IP (a firewall) gets a log line, not a failure: the cluster itself is as asked.
 */
async function waitExternalServes(ctx: ApplyContext, ip: string, what: string): Promise<void> {
  const secrets = ctx.observation.secrets;
  if (!secrets) return;
  const started = Date.now();
  const deadline = waitEnd(
    ctx.runDeadline,
    ctx.deps.limits.runTimeoutMs,
    Math.min(ctx.deps.limits.readyTimeoutMs, EXTERNAL_WAIT_MAX_MS),
  ).at;
  let last = '';
  while (Date.now() < deadline) {
    const r = await probeReadyz(`https://${ip}:${APISERVER_PORT}`, secrets.apiCa.cert, 3000, { serverName: 'kubernetes' });
    if (r.ready) {
      ctx.deps.log(`  ${what} serves https://${ip}/readyz (after ${Date.now() - started} ms)`);
      return;
    }
    last = r.error ?? `HTTP ${r.status}`;
    await delay(Math.max(0, Math.min(500, deadline - Date.now())));
  }
  ctx.deps.log(
    `  warning: ${what} did not answer https://${ip}/readyz from this runner within ${Math.round((Date.now() - started) / 1000)} s (${last}); the cluster is as asked, but check that the runner may reach ${ip}:443`,
  );
}

async function relabelAddress(ctx: ApplyContext, change: (labels: Record<string, string>) => Record<string, string>): Promise<void> {
  const { compute } = ctx.deps;
  const state = ctx.observation.state;
  const region = requireRegion(state);
  await withFreshFingerprint(async () => {
    const address = await compute.getAddress(region, state.names.address);
    if (!address) throw new Error(`address ${state.names.address} is missing: the journal cannot be written`);
    await compute.setAddressLabels(region, address.name, change(address.labels), address.labelFingerprint);
  });
}
