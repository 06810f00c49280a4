// Plain data shared by every layer: what the user asked (Intent), what is (ClusterState), and
// what to do next (Step / PlanResult). No clients, no I/O, no classes: the planner must be testable
// over every state in milliseconds. Names follow docs/vm-contract.md.

import type { ReleaseManifest } from './release/manifest.ts';
import type { ClusterOwner } from './labels.ts';

/** The parts of a replica's shape a new replica copies from the cluster unless the run names them. */
export type ShapeField = 'machineType' | 'network' | 'dataDiskSizeGb' | 'serviceAccount';

export type OperationName = 'up' | 'down' | 'replace' | 'status' | 'repair' | 'recover' | 'rollout' | 'snapshot';

/** The label a replica made by `repair` carries: how many repairs in a row made it (1: the first). */
export const REPAIRS_LABEL = 'ha-masters-repairs';
/** The label of a successor made before the replica it replaces leaves (add first): that replica's name. */
export const REPLACES_LABEL = 'ha-masters-replaces';

/**
 * `repair`'s guards, after Cluster API's control-plane remediation: a replica made by a repair that
 * fails again within `minHealthyPeriodMs` of its creation counts as a retry; more than `maxRetries`
 * in a row and repair stops trying; a replica a repair made is not repaired again before
 * `retryPeriodMs`. A learner is given `learnerGraceMs` from its VM's creation to catch up.
 */
export interface RepairPolicy {
  maxRetries: number;
  retryPeriodMs: number;
  minHealthyPeriodMs: number;
  /** `same`: a replacement goes only to its replica's zone; `spread`: to the region's zone with fewest replicas when that zone cannot take it. */
  zonePolicy: 'same' | 'spread';
  learnerGraceMs: number;
}

/** How the runner reaches replicas: through Google's IAP relay, or straight to their internal IPs. */
export type TransportKind = 'iap' | 'direct';

/** The user's request, validated. Built by src/inputs.ts. */
export interface Intent {
  operation: OperationName;
  project: string;
  /** KUBE_GCE_ZONE: zone of the first master, of the replica to add, or of the one to remove. */
  zone?: string;
  /** MULTIZONE, recorded on the cluster at creation and inherited by replicas. */
  multizone: boolean;
  /** ENABLE_ETCD_QUORUM_READ(S), recorded and inherited. */
  quorumRead: boolean;
  /** KUBE_REPLICATE_EXISTING_MASTER: with `up`, add one replica. */
  replicate: boolean;
  /** KUBE_DELETE_NODES: with `down`, true tears the cluster down, false removes one replica. */
  deleteNodes: boolean;
  /** KUBE_REPLICA_NAME: the replica to remove or replace. */
  replicaName?: string;
  /** KUBE_GCE_INSTANCE_PREFIX, default `kubernetes`. */
  instancePrefix: string;
  /** Scale to this many replicas, one at a time. */
  replicas?: number;
  /** Zones a scale may use; empty = every UP zone of the cluster's region. */
  zones: string[];
  allowEvenReplicas: boolean;
  /** Identifies this request so that a re-run resumes it instead of repeating it. */
  requestId: string;
  /**
   * Orders requests: the workflow run id (GITHUB_RUN_ID, kept by re-runs), undefined outside a
   * workflow. A request at or below the journal's floor that the journal no longer holds is refused.
   */
  requestSeq?: number;
  /**
   * VM shape for new replicas: the inputs' values, defaults included. `shapeNamed` lists those the
   * run gave; the others a new replica copies from the cluster's replicas (plan/shape.ts).
   */
  shapeNamed?: ShapeField[];
  machineType: string;
  image: string;
  network: string;
  /** The masters' service account; undefined: the project's default Compute Engine account. */
  serviceAccount?: string;
  dataDiskSizeGb: number;
  /**
   * The binaries new masters download, when the run names them (`kubernetes-version`, `etcd-version`,
   * `release-manifest`) or rolls them out; unset, a new master gets what the cluster's replicas run
   * (plan/release.ts), and the first one the pinned defaults.
   */
  release?: ReleaseManifest;
  /** How this run reaches the replicas (default direct); `iap` needs the cluster's IAP firewall rule. */
  transport?: TransportKind;
  /** Set for `repair`. */
  repair?: RepairPolicy;
  /** `recover` with `restore-from`: the snapshot object; its version is read before the run plans (main.ts). */
  restore?: RestoreSource;
  /** The pull request whose run this is: its number and repository go on the cluster's labels. */
  owner?: ClusterOwner;
  /** `ttl`: the cluster expires this long after the last up, replace or repair on it (labels.ts). */
  ttlMs?: number;
  /** `ttl` after this run's start, in whole seconds (epoch ms): one expiry for every write of the run. */
  expiresAt?: number;
}

/** An etcd snapshot in Cloud Storage (`gs://bucket/object`) that a master restores itself from. */
export interface RestoreSource {
  bucket: string;
  object: string;
  /** The version the masters download, and its MD5 (base64): read from Cloud Storage before anything changes. */
  generation?: string;
  md5Hash?: string;
  size?: number;
}

/** `down` with delete-nodes: the whole cluster goes, which needs no etcd (plan/teardown.ts). */
export const isTeardown = (intent: Pick<Intent, 'operation' | 'deleteNodes'>): boolean => intent.operation === 'down' && intent.deleteNodes;

export const DEFAULT_INSTANCE_PREFIX = 'kubernetes';

/** Every resource name of one cluster, derived from the instance prefix (docs/vm-contract.md). */
export interface ClusterNames {
  prefix: string;
  master: string;
  tag: string;
  address: string;
  firewallHttps: string;
  firewallEtcd: string;
  firewallHealthChecks: string;
  /** Lets Google's IAP relay (35.235.240.0/20) reach etcd and the apiserver; made when a run uses IAP. */
  firewallIap: string;
  healthCheck: string;
  targetPool: string;
  forwardingRule: string;
  /** Secret Manager secrets of the cluster's private keys (docs/vm-contract.md, contract v2). */
  secretClusterKeys: string;
  secretEtcdCaKey: string;
}

export function clusterNames(prefix: string): ClusterNames {
  const master = `${prefix}-master`;
  return {
    prefix,
    master,
    tag: master,
    address: `${master}-ip`,
    firewallHttps: `${master}-https`,
    firewallEtcd: `${master}-etcd`,
    firewallHealthChecks: `${master}-health-checks`,
    firewallIap: `${master}-iap`,
    healthCheck: `${master}-hc`,
    targetPool: master,
    forwardingRule: master,
    secretClusterKeys: `${master}-cluster-keys`,
    secretEtcdCaKey: `${master}-etcd-ca-key`,
  };
}

/** The Secret Manager secret of one replica's own keys (its etcd member key, its serving key). */
export const replicaKeysSecret = (vm: string): string => `${vm}-replica-keys`;

/** Full match, unlike kube-up's `^<master>(-...)?` which also matched other clusters' VMs. */
export function isReplicaName(names: ClusterNames, vm: string): boolean {
  if (vm === names.master) return true;
  return vm.length === names.master.length + 4 && vm.startsWith(`${names.master}-`) && /^[0-9a-f]{3}$/.test(vm.slice(-3));
}

/**
 * Node groups and templates kube-up made for this prefix: `<prefix>-minion-group[-...]`,
 * `<prefix>-minion-template[-...]` (and the `windows-node` ones). Full match, so that a cluster whose
 * prefix extends this one keeps its nodes.
 */
export function isNodeGroupName(names: ClusterNames, name: string): boolean {
  return new RegExp(`^${escapeRegExp(names.prefix)}-(minion|windows-node)-group(-[a-z0-9-]+)?$`).test(name);
}
export function isNodeTemplateName(names: ClusterNames, name: string): boolean {
  return new RegExp(`^${escapeRegExp(names.prefix)}-(minion|windows-node)-template(-[a-z0-9-]+)?$`).test(name);
}
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A GCE VM's hostname is its name, possibly qualified (`<vm>.<zone>.c.<project>.internal`). */
export function vmOfHostname(hostname: string): string {
  return hostname.split('.')[0] ?? hostname;
}

export function etcdMemberName(vm: string): string {
  return `etcd-${vm}`;
}

export function regionOfZone(zone: string): string {
  return zone.replace(/-[a-z]$/, '');
}

export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const APISERVER_PORT = 443;
export const HEALTH_PORT = 3990;

export function peerUrl(internalIp: string): string {
  return `https://${internalIp}:${ETCD_PEER_PORT}`;
}
export function clientUrl(internalIp: string): string {
  return `https://${internalIp}:${ETCD_CLIENT_PORT}`;
}

/** GCE instance statuses (the API's strings). */
export type VmStatus =
  'PROVISIONING' | 'STAGING' | 'RUNNING' | 'STOPPING' | 'STOPPED' | 'SUSPENDING' | 'SUSPENDED' | 'REPAIRING' | 'TERMINATED';

export interface Replica {
  name: string;
  zone: string;
  status: VmStatus;
  internalIp?: string;
  externalIp?: string;
  /** The cluster's static IP is on this VM's access config (single-master mode). */
  hasStaticIp: boolean;
  /** `etcd-member-certs` metadata is set (the VM can start etcd). */
  hasMemberCerts: boolean;
  inTargetPool: boolean;
  /** `ha-masters-request` label: the request that created it. */
  request?: string;
  /** `ha-masters-repairs` label: made by the n-th repair in a row of its slot (undefined: not by a repair). */
  repairs?: number;
  /** `ha-masters-replaces` label: the replica this one succeeds, which leaves once this one serves. */
  replaces?: string;
  /** Read by repair for a VM not yet voting: its start-up script reported `failed: <why>`. */
  startupFailure?: string;
  /** `/readyz` of its apiserver answered 200 (undefined: not probed). */
  apiserverReady?: boolean;
  /** The binaries it was made with (metadata `ha-masters-release`); undefined when that is missing or unreadable. */
  release?: ReleaseManifest;
  /** What it is made of, as GCE reports it (plan/shape.ts): undefined when GCE does not say. */
  machineType?: string;
  network?: string;
  dataDiskSizeGb?: number;
  serviceAccount?: string;
  creationTimestamp: string;
}

export interface EtcdMember {
  /** uint64 as a decimal string. */
  id: string;
  /** Empty until the member has started (an added, never-started member has no name). */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
  /** Answered a status call with no alarms. */
  healthy: boolean;
  isLeader: boolean;
  /** Size of its database file in bytes, and how much of it holds live data (etcd 3.4+), when it answered. */
  dbSize?: number;
  dbSizeInUse?: number;
  /** Raft applied index from its own status, when it answered. */
  appliedIndex?: number;
  alarms: string[];
}

export interface EtcdView {
  /** Some healthy member answered a member list with quorum. */
  reachable: boolean;
  members: EtcdMember[];
  leaderId?: string;
  /** Why the cluster could not be read, when it could not. */
  error?: string;
}

/** A request journal entry: what a request-scoped run decided, kept on the address's labels. */
export interface JournalEntry {
  request: string;
  /** The replica the request adds or removes. */
  replica: string;
  phase: 'removing' | 'done';
  /** Zone of the replica, when known (a replace adds the successor there, when it can). */
  zone?: string;
  /** The request's sequence (its GitHub run id): dropped entries raise the journal's floor with it. */
  seq?: number;
  /** A replace removed this replica before its successor was made: the successor is still owed. */
  successorOwed?: boolean;
  /** A repair removes this replica: its successor is the n-th repair in a row (its `ha-masters-repairs` label). */
  repairs?: number;
}

export interface ClusterSettings {
  multizone: boolean;
  quorumRead: boolean;
}

export interface ZoneInfo {
  name: string;
  region: string;
  status: 'UP' | 'DOWN';
}

/** An APIServerIdentity lease: one per kube-apiserver host, renewed while it runs. */
export interface IdentityLeaseView {
  name: string;
  /** Its `kubernetes.io/hostname` label: the VM's hostname. */
  hostname: string;
  holderIdentity?: string;
  renewTime?: string;
  /** This run tried to delete it and could not (it is not tried again until the next run). */
  deleteFailed?: string;
}

/** Who holds a leader-election lease (kube-controller-manager or kube-scheduler). */
export interface LeaderLeaseView {
  holderIdentity: string;
  /** The hostname part of `<hostname>_<uuid>`. */
  hostname: string;
  renewTime?: string;
  leaseDurationSeconds?: number;
}

/** The control plane's leases in kube-system, read through the cluster's external IP. */
export type ApiLeasesView =
  | {
      readable: true;
      identities: IdentityLeaseView[];
      controllerManager?: LeaderLeaseView;
      scheduler?: LeaderLeaseView;
    }
  | { readable: false; error: string };

export interface ClusterState {
  names: ClusterNames;
  project: string;
  /** Region of the cluster (from its address), or of the requested zone when there is none. */
  region?: string;
  zones: ZoneInfo[];
  address?: {
    name: string;
    ip: string;
    status: 'RESERVED' | 'IN_USE' | 'RESERVING';
    users: string[];
    region: string;
    labels: Record<string, string>;
  };
  firewalls: string[];
  healthCheck?: string;
  targetPool?: { name: string; instances: string[]; healthChecks: string[] };
  forwardingRule?: { name: string; ip: string; target: string };
  replicas: Replica[];
  etcd: EtcdView;
  settings?: ClusterSettings;
  journal: JournalEntry[];
  /** Node instance groups / templates with the prefix (torn down by `down` with delete-nodes). */
  nodeGroups: { name: string; zone: string }[];
  nodeTemplates: string[];
  /** Secret Manager secrets labelled with the cluster (read by a teardown only, which deletes them). */
  secrets: string[];
  /** Replicas whose metadata still holds private keys (made by a version before Secret Manager). */
  inlineKeys: string[];
  /** The certificate that runs out first (ISO time), of all the masters' metadata holds. */
  certExpiry?: { what: string; notAfter: string };
  /** Leases in kube-system; undefined when not read (no cluster yet, or a wait that does not need them). */
  leases?: ApiLeasesView;
  /**
   * Zones where a VM insert of this run failed for want of capacity (ZONE_RESOURCE_POOL_EXHAUSTED),
   * with GCE's words: only a failed insert tells. Kept for the rest of the run; a new run tries again.
   */
  noCapacity?: Record<string, string>;
  /**
   * IDs of etcd members without a VM that this run has seen so on two observations at least
   * ORPHAN_CONFIRM_MS apart: a VM list that lags cannot make repair remove a live replica's member.
   */
  confirmedOrphans?: string[];
  /** This run has reclaimed etcd's space already: a NOSPACE alarm now is live data filling the quota. */
  spaceReclaimed?: boolean;
  /** The lease a run holds on the cluster (the address's `ha-masters-lock` label), when one is set. */
  lock?: { request: string; expiresAt: string };
  /** Time of observation, ISO string; the planner's only clock. */
  observedAt: string;
}

/** One idempotent write (or wait). Every step names the resource it touches. */
export type Step =
  | { kind: 'createAddress' }
  | { kind: 'createFirewall'; name: string }
  | { kind: 'createHealthCheck' }
  /** `seeds`: the replicas whose etcd the new VM asks for the member list (INITIAL_ETCD_CLUSTER). */
  | {
      kind: 'createReplica';
      replica: string;
      zone: string;
      first: boolean;
      seeds: string[];
      request?: string;
      repairs?: number;
      replaces?: string;
    }
  /** etcd's NOSPACE alarm: compact, defragment the members in `defragOrder` (member IDs, leader last), then disarm the alarms of `disarm`. */
  | { kind: 'reclaimEtcdSpace'; defragOrder: string[]; disarm: string[] }
  | { kind: 'setMemberCerts'; replica: string; zone: string }
  | { kind: 'addLearner'; replica: string; zone: string; peerUrl: string }
  | { kind: 'promoteLearner'; replica: string; memberId: string }
  /** Wait until the replica's etcd member is a healthy voter and its apiserver is ready. */
  | { kind: 'waitReady'; replica: string; zone: string }
  /** Wait until a VM still being created (PROVISIONING, STAGING) runs: GCE finishes an insert whose caller died. */
  | { kind: 'waitRunning'; replica: string; zone: string }
  | { kind: 'createTargetPool'; instances: { name: string; zone: string }[] }
  | { kind: 'addToTargetPool'; replica: string; zone: string }
  | { kind: 'removeFromTargetPool'; replica: string; zone: string }
  | { kind: 'detachStaticIp'; replica: string; zone: string }
  | { kind: 'attachStaticIp'; replica: string; zone: string }
  | { kind: 'attachEphemeralIp'; replica: string; zone: string }
  | { kind: 'createForwardingRule' }
  | { kind: 'deleteForwardingRule' }
  | { kind: 'deleteTargetPool' }
  | { kind: 'moveLeader'; fromId: string; toId: string }
  | { kind: 'removeMember'; memberId: string; memberName: string }
  | { kind: 'deleteReplica'; replica: string; zone: string }
  /** The APIServerIdentity lease of a replica whose VM is gone (else it lingers for an hour). */
  | { kind: 'deleteIdentityLease'; name: string; replica: string }
  | { kind: 'deleteFirewall'; name: string }
  | { kind: 'deleteHealthCheck' }
  | { kind: 'deleteAddress' }
  | { kind: 'deleteNodeGroup'; name: string; zone: string }
  | { kind: 'deleteNodeTemplate'; name: string }
  /** One of the cluster's key secrets, with every version. */
  | { kind: 'deleteSecret'; name: string }
  /** Moves a replica's private keys from its metadata to Secret Manager (the cluster's too, the first time). */
  | { kind: 'moveKeys'; replica: string; zone: string }
  | { kind: 'writeJournal'; entry: JournalEntry }
  /** The ownership labels (pull request, repository, expiry) onto every replica VM, then the address. */
  | { kind: 'labelCluster'; labels: Record<string, string> }
  /** Another run holds the cluster's lock: the engine's wait for the lock before each step is the whole step. */
  | { kind: 'waitForLock'; holder: string }
  /** Quorum recovery (plan/recover.ts): the record on the address; none clears it. */
  | { kind: 'writeRecovery'; record?: { survivor: string; count: number; phase: 'p' | 's' | 'f' } }
  /** Quorum recovery: `etcd-force-new-cluster: <nonce>` on the survivor, a reset, its wait; then the record's phase `f`. */
  | { kind: 'forceNewCluster'; replica: string; zone: string; nonce: string }
  /** Restore from a snapshot: `etcd-restore-from: <nonce> <gs url> <generation> <md5>` on the replica, a reset, its wait; then phase `f`. */
  | { kind: 'restoreSnapshot'; replica: string; zone: string; nonce: string; source: RestoreSource }
  /** Look again after `ms` (e.g. to confirm what one observation showed). */
  | { kind: 'pause'; ms: number; why: string };

/** Steps that only wait or read: they do not count as changes. */
export const WAIT_STEPS: ReadonlySet<StepKind> = new Set<StepKind>(['waitReady', 'waitRunning', 'waitForLock', 'pause']);

/** How long apart two observations must see an etcd member without a VM before repair acts on it. */
export const ORPHAN_CONFIRM_MS = 5000;

export type StepKind = Step['kind'];

export type PlanResult =
  | { type: 'step'; step: Step; reason: string }
  | { type: 'done'; reason: string }
  | { type: 'refuse'; problem: string; fix: string; nothingChanged: boolean };

/** What a finished run reports (outputs, job summary). */
/** How a run ended that did not reach its goal: refused (before or while changing), stopped by another run's lock, out of time, or failed. */
export interface RunFailure {
  kind: 'refused' | 'lockBusy' | 'timedOut' | 'failed';
  message: string;
}

export interface RunReport {
  operation: OperationName;
  changed: boolean;
  replicaName?: string;
  steps: { step: Step; reason: string; ms: number }[];
  warnings: string[];
  state: ClusterState;
  /** The etcd snapshot taken before the run's first membership change. */
  snapshot?: { path: string; bytes: number; sha256: string; revision: string; from: string };
  /** A dry run: the steps a real run would take from `state`, and how it would end. */
  plan?: { steps: { step: Step; reason: string }[]; outcome: string; refused: boolean };
  /** Set when the run failed: the report is then of what it saw and did before it stopped. */
  failure?: RunFailure;
}

/**
 * An etcd member ID as etcdctl and etcd's logs print it (hex). The client library hands IDs over as
 * decimal strings, which is how they are kept and compared; only what people read is hex.
 */
export function memberIdHex(id: string): string {
  return /^\d+$/.test(id) ? BigInt(id).toString(16) : id;
}
