// Action inputs (and `kube-env` lines) -> a validated Intent plus the run's settings.
// Every input is read up front and every problem is reported at once, each with its fix; nothing
// here touches GCE, so a refused request has changed nothing.

import { createHash } from 'node:crypto';
import { InputError, type InputProblem } from './errors.ts';
import { redactUrl } from './url-credentials.ts';
import { chooseRelease, type ReleaseChoice } from './release/choice.ts';
import { REQUEST_ID_RULE, requestIdProblem } from './request-id.ts';
import { parseKubeEnv, type KubeEnvInput, type KubeEnvResult } from './kube-env.ts';
import { pullRequestOfRun } from './github/pull-request-event.ts';
import { DEFAULT_KEEP_LABEL, isLabelKey } from './labels.ts';
import {
  DEFAULT_INSTANCE_PREFIX,
  clusterNames,
  isReplicaName,
  regionOfZone,
  type Intent,
  type OperationName,
  type TransportKind,
  type RepairPolicy,
  type RestoreSource,
  type ShapeField,
} from './model.ts';
import { parseObjectUrl, parsePrefixUrl } from './storage/object-url.ts';

/** Reads one input by its action.yml name; '' when unset (as core.getInput does). */
export type ReadInput = (name: string) => string;

/** Every input of action.yml, in the order they are documented. */
export const INPUT_NAMES = [
  'operation',
  'kube-env',
  'project',
  'gce-zone',
  'instance-prefix',
  'ttl',
  'multizone',
  'enable-etcd-quorum-read',
  'replicate-existing-master',
  'delete-nodes',
  'replica-name',
  'replicas',
  'zones',
  'allow-even-replicas',
  'allow-many-replicas',
  'request-id',
  'machine-type',
  'image',
  'network',
  'service-account',
  'data-disk-size-gb',
  'kubernetes-version',
  'etcd-version',
  'release-manifest',
  'kubeconfig-ttl',
  'timeout',
  'compute-endpoint',
  'secret-manager-endpoint',
  'storage-endpoint',
  'transport',
  'iap-endpoint',
  'dry-run',
  'fail-on-unhealthy',
  'repair-max-retries',
  'repair-retry-period',
  'repair-min-healthy-period',
  'repair-zone-policy',
  'repair-learner-grace',
  'confirm',
  'etcd-snapshot-dir',
  'etcd-snapshot-keep',
  'restore-from',
  'keep-label',
  'pr-comment',
  'github-token',
] as const;

export type InputName = (typeof INPUT_NAMES)[number];

export const OPERATIONS: readonly OperationName[] = ['up', 'down', 'replace', 'status', 'repair', 'recover', 'rollout', 'snapshot'];
/** Not a change to one cluster: it tears down every expired cluster of the project (src/janitor.ts). */
export const JANITOR = 'janitor';

/** Defaults of the inputs that have one. action.yml repeats the ones kube-env cannot set. */
export const INPUT_DEFAULTS = {
  'instance-prefix': DEFAULT_INSTANCE_PREFIX,
  multizone: 'false',
  'enable-etcd-quorum-read': 'false',
  'replicate-existing-master': 'false',
  'delete-nodes': 'true',
  'allow-even-replicas': 'false',
  'allow-many-replicas': 'false',
  'machine-type': 'e2-standard-2',
  image: 'projects/debian-cloud/global/images/family/debian-12',
  network: 'default',
  'data-disk-size-gb': '20',
  timeout: '30m',
  'kubeconfig-ttl': '1h',
  'dry-run': 'false',
  'fail-on-unhealthy': 'false',
  'repair-max-retries': '3',
  'repair-retry-period': '0s',
  'repair-min-healthy-period': '1h',
  'repair-zone-policy': 'same',
  'repair-learner-grace': '10m',
  'pr-comment': 'false',
  'keep-label': DEFAULT_KEEP_LABEL,
  transport: 'auto',
} as const satisfies Partial<Record<InputName, string>>;

/** Where the project comes from when the input is empty: the variables google-github-actions/auth exports. */
export const PROJECT_ENV_VARS = [
  'CLOUDSDK_CORE_PROJECT',
  'CLOUDSDK_PROJECT',
  'GCLOUD_PROJECT',
  'GCP_PROJECT',
  'GOOGLE_CLOUD_PROJECT',
] as const;

/** Everything a run needs from its inputs. */
export interface ActionInputs {
  intent: Intent;
  /** Base URL of a Compute API (e.g. the emulator); when set, no Google credentials are looked up. */
  computeEndpoint?: string;
  /** Base URL of a Secret Manager API (e.g. the emulator's, on its Compute port). */
  secretManagerEndpoint?: string;
  /** Base URL of a Cloud Storage JSON API (e.g. the emulator's), for `restore-from`. */
  storageEndpoint?: string;
  /** Why the run reaches the replicas the way `intent.transport` says (the input, or what `auto` saw). */
  transportWhy: string;
  /** The IAP relay to use instead of Google's (e.g. the emulator's). */
  iapEndpoint?: string;
  /** Deadline for the whole run. */
  timeoutMs: number;
  /** Worth showing, not worth failing for (unknown kube-env keys, ignored flags, overrides). */
  warnings: string[];
  /** Observe and show the plan, write nothing. */
  dryRun: boolean;
  /** Fail the step when the cluster is not healthy at the end of the run (a status of no cluster included). */
  failOnUnhealthy: boolean;
  /** Where to write an etcd snapshot before the run's first membership change (none when unset). */
  snapshotDir?: string;
  /** `etcd-snapshot-dir: gs://bucket/prefix/`: the snapshot goes to Cloud Storage instead (snapshotDir is then unset). */
  snapshotBucket?: { bucket: string; prefix: string };
  /** `etcd-snapshot-keep`: after a snapshot, the cluster's snapshots there beyond the newest this many go (unset: all stay). */
  snapshotKeep?: number;
  /** Keep one comment with the summary on the pull request that triggered the run. */
  prComment: boolean;
  githubToken?: string;
  /** The binaries new masters download (resolved to a manifest by resolveRelease). */
  release: ReleaseChoice;
  /** How long the admin certificate of the `kubeconfig` output is valid. */
  kubeconfigTtlMs: number;
  /**
   * Set for `operation: janitor`: the label that keeps a cluster. `intent` is then the teardown
   * (down, delete-nodes) the janitor runs on each cluster it deletes, its prefix filled in there.
   */
  janitor?: { keepLabel: string };
}

/** The validated request. Throws InputError listing every problem. */
export function parseIntent(read: ReadInput, env: NodeJS.ProcessEnv): Intent {
  return parseInputs(read, env).intent;
}

/** The validated request plus the run's settings. Throws InputError listing every problem. */
export function parseInputs(read: ReadInput, env: NodeJS.ProcessEnv): ActionInputs {
  const raw = {} as Record<InputName, string>;
  for (const name of INPUT_NAMES) raw[name] = read(name).trim();

  const kubeEnv: KubeEnvResult = raw['kube-env'] ? parseKubeEnv(raw['kube-env']) : { values: {}, warnings: [], problems: [] };
  const problems: InputProblem[] = [...kubeEnv.problems];
  const warnings: string[] = [...kubeEnv.warnings];
  const p = new Problems(problems);

  /** An input's value, falling back to its kube-env key; explicit inputs win. */
  const sourced = (name: KubeEnvInput): Sourced | undefined => {
    const fromEnv = kubeEnv.values[name];
    if (raw[name] !== '') {
      if (fromEnv && fromEnv.value !== raw[name]) {
        warnings.push(`input ${name}=${JSON.stringify(raw[name])} overrides kube-env ${fromEnv.key}=${JSON.stringify(fromEnv.value)}.`);
      }
      return { value: raw[name], label: name };
    }
    if (fromEnv) return { value: fromEnv.value, label: `kube-env (${fromEnv.key})` };
    return undefined;
  };

  const janitor = raw.operation.toLowerCase() === JANITOR;
  if (janitor) checkJanitorInputs(raw, p);
  const operation = janitor ? 'down' : parseOperation(raw.operation, kubeEnv, p, warnings);
  const keepLabel = raw['keep-label'] || INPUT_DEFAULTS['keep-label'];
  if (!isLabelKey(keepLabel))
    p.add(
      'keep-label',
      `${quoted(keepLabel)} is not a GCE label key.`,
      'use a lowercase letter then up to 62 lowercase letters, digits, _ or -, such as ha-masters-keep.',
    );
  const ttlMs = raw.ttl ? parseTtl(raw.ttl, p) : undefined;
  // A pull request's run: its number and repository go on the cluster's labels, and name it by default.
  const owner = pullRequestOfRun(env);
  const project = parseProject(raw.project, env, p);

  const zoneSource = sourced('gce-zone');
  const zone = zoneSource ? parseZone(zoneSource, p) : undefined;

  const prefixSource = sourced('instance-prefix');
  const instancePrefix = prefixSource ? parsePrefix(prefixSource, p) : owner ? `pr-${owner.pr}` : DEFAULT_INSTANCE_PREFIX;

  const multizoneSource = sourced('multizone');
  const quorumSource = sourced('enable-etcd-quorum-read');
  const replicateSource = sourced('replicate-existing-master');
  const deleteNodesSource = sourced('delete-nodes');
  const multizone = boolOf(multizoneSource, false, p);
  const quorumRead = boolOf(quorumSource, false, p);
  const replicate = boolOf(replicateSource, false, p);
  const deleteNodes = boolOf(deleteNodesSource, true, p);
  const allowEvenReplicas = boolOf(plain(raw, 'allow-even-replicas'), false, p);
  const dryRun = boolOf(plain(raw, 'dry-run'), false, p);
  const failOnUnhealthy = boolOf(plain(raw, 'fail-on-unhealthy'), false, p);
  const prComment = boolOf(plain(raw, 'pr-comment'), false, p);
  const githubToken = raw['github-token'] || undefined;
  if (prComment && !githubToken) {
    p.add(
      'pr-comment',
      'it needs a token to write the comment, and github-token is empty.',
      'add github-token: ${{ github.token }} (the job needs permissions: pull-requests: write).',
    );
  }

  const replicaSource = sourced('replica-name');
  const replicaName = replicaSource?.value;
  if (replicaSource && instancePrefix !== undefined) checkReplicaName(replicaSource, instancePrefix, p);

  const allowManyReplicas = boolOf(plain(raw, 'allow-many-replicas'), false, p);
  const replicas = raw.replicas
    ? parseReplicas(raw.replicas, { allowEven: allowEvenReplicas, allowMany: allowManyReplicas }, p, warnings)
    : undefined;
  const zones = parseZones(raw.zones, zone, p);

  const machineType = parseMachineType(raw['machine-type'] || INPUT_DEFAULTS['machine-type'], p);
  const image = parseImage(raw.image || INPUT_DEFAULTS.image, p);
  const network = parseNetwork(raw.network || INPUT_DEFAULTS.network, p);
  const serviceAccount = raw['service-account'] ? parseServiceAccount(raw['service-account'], p) : undefined;
  const dataDiskSizeGb = parseDiskSize(raw['data-disk-size-gb'] || INPUT_DEFAULTS['data-disk-size-gb'], p);
  const timeoutMs = parseTimeout(raw.timeout || INPUT_DEFAULTS.timeout, p);
  const repair = operation === 'repair' ? parseRepairPolicy(raw, p) : undefined;
  const kubeconfigTtlMs = parseKubeconfigTtl(raw['kubeconfig-ttl'] || INPUT_DEFAULTS['kubeconfig-ttl'], p);
  /** A base URL input (an API or relay to use instead of Google's), undefined when empty. */
  const endpointInput = (input: InputName, schemes: string[], kind: string, fix: string): string | undefined =>
    raw[input] ? plainUrl(raw[input], { input, schemes, kind, fix }, p) : undefined;
  const computeEndpoint = endpointInput(
    'compute-endpoint',
    ['http', 'https'],
    'http(s)',
    'write the Compute API base URL, such as http://127.0.0.1:8085 for the local emulator.',
  );
  const secretManagerEndpoint = endpointInput(
    'secret-manager-endpoint',
    ['http', 'https'],
    'http(s)',
    "write the Secret Manager base URL, such as http://127.0.0.1:8085 for the local emulator (Google's, the default, is https://secretmanager.googleapis.com).",
  );
  const storageEndpoint = endpointInput(
    'storage-endpoint',
    ['http', 'https'],
    'http(s)',
    "write the Cloud Storage base URL, such as http://127.0.0.1:8085 for the local emulator (Google's, the default, is https://storage.googleapis.com).",
  );
  const restoreFrom = raw['restore-from'] ? parseRestoreFrom(raw['restore-from'], operation, p) : undefined;
  const snapshotBucket = raw['etcd-snapshot-dir'] ? parseSnapshotBucket(raw['etcd-snapshot-dir'], p) : undefined;
  const snapshotKeep = raw['etcd-snapshot-keep'] ? parseSnapshotKeep(raw['etcd-snapshot-keep'], raw['etcd-snapshot-dir'], p) : undefined;
  if (operation === 'snapshot' && !raw['etcd-snapshot-dir']) {
    p.add(
      'etcd-snapshot-dir',
      'operation snapshot writes an etcd snapshot there, and it is empty.',
      'set etcd-snapshot-dir to a bucket prefix such as gs://my-backups/etcd/ (or a directory on the runner that a later step keeps).',
    );
  }
  const transport = parseTransport(raw.transport || INPUT_DEFAULTS.transport, env, p);
  const iapEndpoint = endpointInput(
    'iap-endpoint',
    ['wss'],
    'wss://',
    "write the relay's base URL, such as wss://127.0.0.1:8443 for the local emulator's relay (Google's, the default, is wss://tunnel.cloudproxy.app).",
  );
  if (iapEndpoint && transport?.kind === 'direct') warnings.push(`iap-endpoint is ignored: the transport is direct (${transport.why}).`);
  const release = chooseRelease(
    { kubernetesVersion: raw['kubernetes-version'], etcdVersion: raw['etcd-version'], releaseManifest: raw['release-manifest'] },
    (input, problem, fix) => p.add(input, problem, fix),
  );

  if (operation && !janitor) {
    checkCombinations(
      {
        operation,
        zone,
        replicate: replicateSource ? replicate : undefined,
        deleteNodes: deleteNodesSource ? deleteNodes : undefined,
        replicaName,
        replicas,
        zones,
        multizoneGiven: multizoneSource !== undefined,
        quorumGiven: quorumSource !== undefined,
        allowEven: allowEvenReplicas,
      },
      p,
      warnings,
    );
  }

  checkRecoverConfirmed(operation, instancePrefix, raw, p, warnings);

  if (problems.length > 0 || !operation || project === undefined || !release || !transport) {
    throw new InputError(problems);
  }

  const intent: Intent = {
    operation,
    project,
    zone,
    multizone,
    quorumRead,
    replicate,
    deleteNodes,
    replicaName,
    instancePrefix: instancePrefix ?? DEFAULT_INSTANCE_PREFIX,
    replicas,
    zones,
    allowEvenReplicas,
    requestId: '',
    shapeNamed: namedShape(raw),
    machineType,
    image,
    network,
    ...(serviceAccount ? { serviceAccount } : {}),
    dataDiskSizeGb,
    transport: transport.kind,
    ...(repair ? { repair } : {}),
    ...(restoreFrom ? { restore: restoreFrom } : {}),
    ...(owner ? { owner } : {}),
    // Fixed once per run, so that every pass of the run wants the same expiry.
    ...(ttlMs !== undefined ? { ttlMs, expiresAt: Math.floor((Date.now() + ttlMs) / 1000) * 1000 } : {}),
  };
  // A rollout's target is part of what it asks for: another target is another request.
  const target =
    operation === 'rollout'
      ? (['kubernetes-version', 'etcd-version', 'release-manifest', 'machine-type', 'data-disk-size-gb', 'service-account'] as const).map(
          (name) => raw[name].trim(),
        )
      : [];
  const requestId = raw['request-id'] ? parseRequestId(raw['request-id'], p) : deriveRequestId(intent, env, target);
  if (problems.length > 0) throw new InputError(problems);
  intent.requestId = requestId;
  // Orders requests for the journal's floor (plan/journal.ts): re-runs keep their workflow run id.
  const runId = env.GITHUB_RUN_ID?.trim();
  if (runId && /^\d{1,15}$/.test(runId)) intent.requestSeq = Number(runId);
  const snapshotDir = snapshotBucket ? undefined : raw['etcd-snapshot-dir'] || undefined;
  return {
    intent,
    computeEndpoint,
    secretManagerEndpoint,
    storageEndpoint,
    transportWhy: transport.why,
    iapEndpoint,
    timeoutMs,
    warnings,
    dryRun,
    failOnUnhealthy,
    snapshotDir,
    ...(snapshotBucket ? { snapshotBucket } : {}),
    ...(snapshotKeep !== undefined ? { snapshotKeep } : {}),
    prComment,
    githubToken,
    release,
    kubeconfigTtlMs,
    ...(janitor ? { janitor: { keepLabel } } : {}),
  };
}

interface Sourced {
  value: string;
  /** How problems name it: the input, or `kube-env (KEY)`. */
  label: string;
}

class Problems {
  readonly list: InputProblem[];
  constructor(list: InputProblem[]) {
    this.list = list;
  }
  add(input: string, problem: string, fix: string): void {
    this.list.push({ input, problem, fix });
  }
}

function plain(raw: Record<InputName, string>, name: InputName): Sourced | undefined {
  return raw[name] === '' ? undefined : { value: raw[name], label: name };
}

function quoted(value: string): string {
  return JSON.stringify(value);
}

// ---- booleans, numbers, durations ----

const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];

/** true/false/1/0/yes/no in any case; anything else is undefined (never read as false). */
export function parseBoolean(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (TRUE_WORDS.includes(v)) return true;
  if (FALSE_WORDS.includes(v)) return false;
  return undefined;
}

function boolOf(source: Sourced | undefined, fallback: boolean, p: Problems): boolean {
  if (!source) return fallback;
  const parsed = parseBoolean(source.value);
  if (parsed === undefined) {
    p.add(
      source.label,
      `${quoted(source.value)} is not a boolean.`,
      `write true or false (1/0 and yes/no are accepted too), or leave it empty for ${fallback}.`,
    );
    return fallback;
  }
  return parsed;
}

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** "90s", "30m", "1h", "1h30m" -> milliseconds; undefined when it is not such a duration or is zero. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim() === '') return undefined;
  const [h, min, s] = [m[1], m[2], m[3]].map((x) => (x === undefined ? 0 : Number(x)));
  const ms = ((h! * 60 + min!) * 60 + s!) * 1000;
  return ms > 0 ? ms : undefined;
}

function parseTimeout(text: string, p: Problems): number {
  const ms = parseDuration(text);
  if (ms === undefined) {
    p.add('timeout', `${quoted(text)} is not a duration.`, 'write a positive duration with units, such as 90s, 30m, 1h or 1h30m.');
    return parseDuration(INPUT_DEFAULTS.timeout)!;
  }
  return ms;
}

/** `ttl`: how long after the last up, replace or repair the janitor may tear the cluster down. */
function parseTtl(text: string, p: Problems): number | undefined {
  const ms = parseDuration(text);
  if (ms === undefined)
    p.add(
      'ttl',
      `${quoted(text)} is not a duration.`,
      'write how long the cluster may live after its last run, such as 24h, 90m or 1h30m; leave it empty for no expiry.',
    );
  return ms;
}

/** The janitor finds its clusters itself: inputs that name or shape one cluster mean nothing to it. */
function checkJanitorInputs(raw: Record<InputName, string>, p: Problems): void {
  for (const name of [
    'instance-prefix',
    'replica-name',
    'replicas',
    'replicate-existing-master',
    'delete-nodes',
    'zones',
    'kube-env',
  ] as const) {
    if (raw[name])
      p.add(
        name,
        'operation janitor finds every ha-masters cluster of the project by its labels and tears down the expired ones; it takes no cluster of its own.',
        `drop ${name}, or run one cluster's operation (up, down, ...) in a step of its own.`,
      );
  }
}

/** An admin credential handed to a workflow: at least 5 minutes (a useful step), at most 7 days. */
function parseKubeconfigTtl(text: string, p: Problems): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < 5 * 60_000 || ms > 7 * 24 * 3_600_000) {
    p.add(
      'kubeconfig-ttl',
      `${quoted(text)} is not a duration from 5m to 168h.`,
      'write how long the kubeconfig output may be used, such as 30m, 1h or 12h.',
    );
    return parseDuration(INPUT_DEFAULTS['kubeconfig-ttl'])!;
  }
  return ms;
}

function wholeNumber(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

// ---- what to do ----

function parseOperation(value: string, kubeEnv: KubeEnvResult, p: Problems, warnings: string[]): OperationName | undefined {
  if (value === '') {
    if (kubeEnv.script) return kubeEnv.script;
    p.add(
      'operation',
      'no operation was given.',
      `set operation to one of ${[...OPERATIONS, JANITOR].join(', ')}, or end kube-env with ./cluster/kube-up.sh or ./cluster/kube-down.sh.`,
    );
    return undefined;
  }
  const op = OPERATIONS.find((o) => o === value.toLowerCase());
  if (!op) {
    p.add('operation', `${quoted(value)} is not an operation.`, `set operation to one of ${[...OPERATIONS, JANITOR].join(', ')}.`);
    return undefined;
  }
  if (kubeEnv.script && kubeEnv.script !== op) {
    warnings.push(`input operation=${op} overrides kube-env's kube-${kubeEnv.script}.sh.`);
  }
  return op;
}

/** repair's guards (model.ts RepairPolicy); each input falls back to its default. */
function parseRepairPolicy(raw: Record<InputName, string>, p: Problems): RepairPolicy {
  const text = (name: keyof typeof INPUT_DEFAULTS): string => raw[name]?.trim() || INPUT_DEFAULTS[name];
  const retries = wholeNumber(text('repair-max-retries'));
  if (retries === undefined)
    p.add(
      'repair-max-retries',
      `${quoted(text('repair-max-retries'))} is not a whole number.`,
      'set how many repairs in a row a failing replacement may get, such as 3 (0: a replacement that fails is not repaired again).',
    );
  const period = (name: 'repair-retry-period' | 'repair-min-healthy-period' | 'repair-learner-grace', what: string): number => {
    const v = text(name);
    const ms = /^0+[hms]?$/.test(v) ? 0 : parseDuration(v);
    if (ms === undefined) p.add(name, `${quoted(v)} is not a duration.`, `write ${what} with units, such as 0s, 10m or 1h.`);
    return ms ?? parseDuration(INPUT_DEFAULTS[name]) ?? 0;
  };
  const policy = text('repair-zone-policy').toLowerCase();
  if (policy !== 'same' && policy !== 'spread')
    p.add(
      'repair-zone-policy',
      `${quoted(policy)} is not a zone policy.`,
      'set same (a replacement stays in its zone) or spread (another zone of the region when its own cannot take it).',
    );
  return {
    maxRetries: retries ?? 3,
    retryPeriodMs: period('repair-retry-period', 'how long a replica a repair made is left alone'),
    minHealthyPeriodMs: period(
      'repair-min-healthy-period',
      'how long a replacement must stay healthy before its failure no longer counts as a retry',
    ),
    learnerGraceMs: period('repair-learner-grace', 'how long a new replica may take to join etcd'),
    zonePolicy: policy === 'spread' ? 'spread' : 'same',
  };
}

/** `etcd-snapshot-dir: gs://bucket/prefix/`: a bucket instead of a directory; undefined for a directory. */
function parseSnapshotBucket(text: string, p: Problems): { bucket: string; prefix: string } | undefined {
  const place = parsePrefixUrl(text);
  if (place && 'problem' in place) {
    p.add('etcd-snapshot-dir', `${place.problem}.`, 'give a directory on the runner, or a bucket as gs://my-backups/etcd/.');
    return undefined;
  }
  return place;
}

/** The shape inputs the run gives; a new replica copies the others from the cluster (plan/shape.ts). */
function namedShape(raw: Record<InputName, string>): ShapeField[] {
  const inputs: [InputName, ShapeField][] = [
    ['machine-type', 'machineType'],
    ['network', 'network'],
    ['data-disk-size-gb', 'dataDiskSizeGb'],
    ['service-account', 'serviceAccount'],
  ];
  return inputs.filter(([input]) => raw[input]?.trim()).map(([, field]) => field);
}

/** `etcd-snapshot-keep`: how many of the cluster's snapshots stay where etcd-snapshot-dir puts them. */
function parseSnapshotKeep(text: string, dir: string, p: Problems): number | undefined {
  const n = wholeNumber(text.trim());
  if (n === undefined || n < 1) {
    p.add(
      'etcd-snapshot-keep',
      `${quoted(text)} is not a positive whole number.`,
      'set it to how many of the newest snapshots to keep, such as 24 for a day of hourly ones, or leave it empty to keep all.',
    );
    return undefined;
  }
  if (!dir) {
    p.add(
      'etcd-snapshot-keep',
      'it prunes the snapshots in etcd-snapshot-dir, which is empty.',
      'set etcd-snapshot-dir too, or drop etcd-snapshot-keep.',
    );
    return undefined;
  }
  return n;
}

/** `restore-from`: the etcd snapshot object a `recover` restores when no member survives. */
function parseRestoreFrom(text: string, operation: OperationName | undefined, p: Problems): RestoreSource | undefined {
  if (operation !== 'recover') {
    p.add(
      'restore-from',
      `it restores etcd from a snapshot, which only operation recover does (operation is ${operation ?? 'not set'}).`,
      'set operation: recover (with confirm) to restore, or drop restore-from.',
    );
    return undefined;
  }
  const ref = parseObjectUrl(text);
  if ('problem' in ref) {
    p.add(
      'restore-from',
      `${ref.problem}.`,
      "upload the snapshot file (etcdctl snapshot save, or the action's etcd-snapshot-dir) to a bucket first, e.g. gcloud storage cp snap.db gs://my-backups/snap.db, and name it here as gs://my-backups/snap.db.",
    );
    return undefined;
  }
  return ref;
}

/**
 * `recover` rebuilds etcd from one member and deletes every other replica: it runs only with the
 * cluster's master name in `confirm`, and with a place for the snapshot it takes first.
 */
function checkRecoverConfirmed(
  operation: OperationName | undefined,
  prefix: string | undefined,
  raw: Record<InputName, string>,
  p: Problems,
  warnings: string[],
): void {
  const confirm = raw.confirm?.trim() ?? '';
  if (operation !== 'recover') {
    if (confirm) warnings.push(`confirm is ignored with operation ${operation ?? '(none)'}: only recover asks for it.`);
    return;
  }
  if (prefix === undefined) return; // the prefix's own problem is reported
  const master = clusterNames(prefix).master;
  if (confirm !== master) {
    p.add(
      'confirm',
      confirm
        ? `${quoted(confirm)} is not the name of the cluster's master, ${master}.`
        : 'recover rebuilds etcd from one surviving member and deletes every other replica VM, so it needs a confirmation.',
      `set confirm: ${master} to say you mean it (and check instance-prefix).`,
    );
  }
  // A restore from a snapshot file has no member to take one of.
  if (!raw['etcd-snapshot-dir'] && !raw['restore-from']) {
    p.add(
      'etcd-snapshot-dir',
      'recover takes a snapshot of the surviving member before it changes anything, and needs a directory for it.',
      'set etcd-snapshot-dir to a directory on the runner, such as ${{ runner.temp }}/etcd-backups, and keep the file (e.g. as an artifact).',
    );
  }
}

interface Combination {
  operation: OperationName;
  zone?: string;
  /** undefined: not given. */
  replicate?: boolean;
  deleteNodes?: boolean;
  replicaName?: string;
  replicas?: number;
  zones: string[];
  multizoneGiven: boolean;
  quorumGiven: boolean;
  allowEven: boolean;
}

/** Refuses flags that mean nothing (or something dangerous) with the chosen operation. */
function checkCombinations(c: Combination, p: Problems, warnings: string[]): void {
  const op = c.operation;
  const deleteNodes = c.deleteNodes ?? true;

  if (c.replicate === true && op !== 'up') {
    p.add(
      'replicate-existing-master',
      `it adds a replica, which operation ${op} never does.`,
      op === 'replace'
        ? 'drop replicate-existing-master: replace already adds the new replica.'
        : 'use operation up to add a replica, or drop replicate-existing-master.',
    );
  }
  if (c.replicate === true && c.replicas !== undefined) {
    p.add(
      'replicas',
      'replicate-existing-master adds exactly one replica and replicas scales to a count; together they contradict each other.',
      'set only one of them: replicas for a target count, replicate-existing-master for "one more".',
    );
  }
  // recover: how many replicas to bring back (default: as many as there were).
  if (c.replicas !== undefined && op !== 'up' && op !== 'recover') {
    p.add(
      'replicas',
      `it scales the cluster, which operation ${op} never does.`,
      op === 'down'
        ? 'use operation up with a smaller replicas to scale in; down removes one replica (delete-nodes: false) or the whole cluster.'
        : 'use operation up with replicas to scale, or drop replicas.',
    );
  }
  if (c.replicaName !== undefined) {
    if (op === 'up') {
      p.add(
        'replica-name',
        `it names a replica to remove or replace, and up never removes one.`,
        'use operation replace to swap it for a new replica, or down with delete-nodes: false to remove it.',
      );
    } else if (op === 'status' || op === 'snapshot') {
      p.add(
        'replica-name',
        `${op} reads the whole cluster and touches no replica.`,
        'drop replica-name, or use operation replace or down.',
      );
    } else if (op === 'repair' || op === 'recover' || op === 'rollout') {
      p.add(
        'replica-name',
        `${op} finds the replicas to act on itself.`,
        `drop replica-name, or use operation replace to swap ${c.replicaName} for a new replica.`,
      );
    } else if (op === 'down' && deleteNodes) {
      p.add(
        'replica-name',
        `with delete-nodes true${c.deleteNodes === undefined ? ' (the default)' : ''}, down tears the whole cluster down, so naming one replica makes no sense.`,
        `set delete-nodes: false to remove only ${c.replicaName}, or drop replica-name to tear the whole cluster down.`,
      );
    }
  }
  if (c.deleteNodes !== undefined && op !== 'down' && !(op === 'replace' && c.deleteNodes === false)) {
    p.add(
      'delete-nodes',
      `it only means something to down (true: tear the cluster down, false: remove one replica), not to ${op}.`,
      op === 'replace' ? 'drop delete-nodes: replace never tears the cluster down.' : 'drop delete-nodes, or use operation down.',
    );
  }
  if (op === 'down' && !deleteNodes && c.zone === undefined && c.replicaName === undefined) {
    p.add(
      'gce-zone',
      'down with delete-nodes false removes one replica, but neither gce-zone nor replica-name says which.',
      'set replica-name to the replica to remove, or gce-zone to remove one replica of that zone.',
    );
  }
  if (c.zones.length > 0 && (op === 'down' || op === 'status' || op === 'snapshot')) {
    p.add('zones', `it lists zones to place new replicas in, and ${op} places none.`, 'drop zones, or use operation up or replace.');
  }
  // action.yml gives it a default, so only a true value says the user meant it.
  if (c.allowEven && c.replicas === undefined && op !== 'up') {
    warnings.push(`allow-even-replicas is ignored with operation ${op}.`);
  }
  if ((c.multizoneGiven || c.quorumGiven) && (op === 'down' || op === 'status' || op === 'snapshot')) {
    warnings.push(`multizone and enable-etcd-quorum-read are recorded when a cluster is created; operation ${op} ignores them.`);
  }
}

/**
 * etcd's FAQ: "an etcd cluster probably should have no more than seven nodes"
 * (https://etcd.io/docs/v3.5/faq/#what-is-maximum-cluster-size): every write waits for a majority.
 */
export const MAX_RECOMMENDED_REPLICAS = 7;

function parseReplicas(
  text: string,
  allow: { allowEven: boolean; allowMany: boolean },
  p: Problems,
  warnings: string[],
): number | undefined {
  const n = wholeNumber(text);
  if (n === undefined || n < 1) {
    p.add(
      'replicas',
      `${quoted(text)} is not a positive whole number.`,
      'set replicas to the number of master replicas wanted, such as 3 or 5.',
    );
    return undefined;
  }
  if (n % 2 === 0 && !allow.allowEven) {
    p.add(
      'replicas',
      `${n} is even: etcd with ${n} members survives no more failures than with ${n - 1}, and needs more members to agree.`,
      `use ${n - 1} or ${n + 1}, or set allow-even-replicas: true (e.g. as a step on the way to ${n + 1}).`,
    );
  }
  if (n > MAX_RECOMMENDED_REPLICAS) {
    const why = `etcd recommends at most ${MAX_RECOMMENDED_REPLICAS} members (each write waits for a majority, so more members make every write slower and add no useful tolerance).`;
    if (allow.allowMany) warnings.push(`replicas: ${n}; ${why}`);
    else
      p.add(
        'replicas',
        `${n} is above ${MAX_RECOMMENDED_REPLICAS}: ${why}`,
        `use ${MAX_RECOMMENDED_REPLICAS} or fewer (3 or 5 suit most clusters), or set allow-many-replicas: true if you really mean ${n}.`,
      );
  }
  return n;
}

// ---- where ----

const ZONE = /^[a-z]+(?:-[a-z]+)*[0-9]+-[a-z]$/;

function parseZone(source: Sourced, p: Problems): string | undefined {
  if (!ZONE.test(source.value)) {
    p.add(source.label, `${quoted(source.value)} is not a zone.`, 'write a zone as <region>-<letter>, such as europe-west1-b.');
    return undefined;
  }
  return source.value;
}

function parseZones(text: string, zone: string | undefined, p: Problems): string[] {
  const zones: string[] = [];
  for (const item of text
    .split(/[,\n]/)
    .map((z) => z.trim())
    .filter((z) => z !== '')) {
    if (!ZONE.test(item)) {
      p.add(
        'zones',
        `${quoted(item)} is not a zone.`,
        'list zones as <region>-<letter>, separated by commas or new lines, such as europe-west1-b, europe-west1-c.',
      );
    } else if (!zones.includes(item)) {
      zones.push(item);
    }
  }
  const all = zone ? [zone, ...zones] : zones;
  const regions = [...new Set(all.map(regionOfZone))];
  if (regions.length > 1) {
    p.add(
      'zones',
      `${all.join(', ')} span the regions ${regions.join(', ')}; every replica must be in one region, because the static IP, target pool and forwarding rule are regional.`,
      `keep gce-zone and zones inside one region, e.g. only ${regions[0]}-* zones.`,
    );
  }
  return zones;
}

const PROJECT = /^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

function parseProject(value: string, env: NodeJS.ProcessEnv, p: Problems): string | undefined {
  let source: Sourced | undefined = value ? { value, label: 'project' } : undefined;
  for (const name of PROJECT_ENV_VARS) {
    if (source) break;
    const v = env[name]?.trim();
    if (v) source = { value: v, label: `project (from ${name})` };
  }
  if (!source) {
    p.add(
      'project',
      'no project was given, and none of the project variables is set.',
      `set the project input, or run google-github-actions/auth first (it exports ${PROJECT_ENV_VARS.join(', ')}), or set one of those variables.`,
    );
    return undefined;
  }
  if (!PROJECT.test(source.value)) {
    p.add(
      source.label,
      `${quoted(source.value)} is not a project ID.`,
      'use the project ID (6-30 lowercase letters, digits and dashes, e.g. my-project-123), not its name or number.',
    );
    return undefined;
  }
  return source.value;
}

/** Longest suffix added to the prefix: `-master-health-checks` (docs/vm-contract.md). */
const LONGEST_SUFFIX = '-master-health-checks'.length;
const MAX_PREFIX = 63 - LONGEST_SUFFIX;

function parsePrefix(source: Sourced, p: Problems): string | undefined {
  const v = source.value;
  if (!/^[a-z](?:[-a-z0-9]*[a-z0-9])?$/.test(v) || v.length > MAX_PREFIX) {
    p.add(
      source.label,
      `${quoted(v)} cannot start GCE names: they are lowercase letters, digits and dashes, begin with a letter, and this prefix gets up to ${LONGEST_SUFFIX} more characters of a 63-character limit.`,
      `use at most ${MAX_PREFIX} characters such as kubernetes or ci-pr-42.`,
    );
    return undefined;
  }
  return v;
}

function checkReplicaName(source: Sourced, prefix: string, p: Problems): void {
  const names = clusterNames(prefix);
  if (!isReplicaName(names, source.value)) {
    p.add(
      source.label,
      `${quoted(source.value)} is not a master replica of instance prefix ${prefix}.`,
      `name a replica: ${names.master} or ${names.master}-<3 hex digits> (e.g. ${names.master}-a1f); or set instance-prefix to the cluster's prefix.`,
    );
  }
}

// ---- VM shape ----

function parseMachineType(v: string, p: Problems): string {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(v)) {
    p.add(
      'machine-type',
      `${quoted(v)} is not a machine type name.`,
      'write a machine type name such as e2-standard-2 or n2-custom-4-8192.',
    );
  }
  return v;
}

const IMAGE =
  /^(?:https:\/\/[^/\s]+\/compute\/(?:v1|beta)\/)?projects\/[a-z][a-z0-9.:-]*\/global\/images\/(?:family\/)?[a-z](?:[-a-z0-9]*[a-z0-9])?$/;

function parseImage(v: string, p: Problems): string {
  if (!IMAGE.test(v)) {
    p.add(
      'image',
      `${quoted(v)} is not an image path.`,
      'write projects/<project>/global/images/<image> or projects/<project>/global/images/family/<family>, e.g. projects/debian-cloud/global/images/family/debian-12.',
    );
  }
  return v;
}

const NETWORK =
  /^(?:(?:https:\/\/[^/\s]+\/compute\/(?:v1|beta)\/)?projects\/[a-z][a-z0-9.:-]*\/global\/networks\/)?[a-z](?:[-a-z0-9]*[a-z0-9])?$/;

function parseNetwork(v: string, p: Problems): string {
  if (!NETWORK.test(v) || v.length > 300) {
    p.add(
      'network',
      `${quoted(v)} is not a network.`,
      'write a network name such as default, or projects/<project>/global/networks/<name>.',
    );
  }
  return v;
}

/** A service account's e-mail: user-made (`name@project.iam.gserviceaccount.com`) or Google-made (`...@developer.gserviceaccount.com`). */
const SERVICE_ACCOUNT = /^[a-z0-9][a-z0-9-]{0,62}@[a-z0-9][a-z0-9.-]{0,126}\.gserviceaccount\.com$/;

function parseServiceAccount(v: string, p: Problems): string | undefined {
  if (!SERVICE_ACCOUNT.test(v)) {
    p.add(
      'service-account',
      `${quoted(v)} is not a service account e-mail.`,
      "write one such as masters@my-project.iam.gserviceaccount.com, or leave it empty for the project's default Compute Engine account.",
    );
    return undefined;
  }
  return v;
}

function parseDiskSize(text: string, p: Problems): number {
  const n = wholeNumber(text);
  if (n === undefined || n < 10 || n > 65536) {
    p.add(
      'data-disk-size-gb',
      `${quoted(text)} is not a disk size in GB between 10 and 65536.`,
      'write a whole number of GB, such as 20 (kube-up used 20, 100 above 500 nodes).',
    );
    return Number(INPUT_DEFAULTS['data-disk-size-gb']);
  }
  return n;
}

// ---- how to reach GCE ----

/** A base URL with one of `schemes` and no credentials, query or fragment (the endpoint inputs). */
function plainUrl(v: string, want: { input: InputName; schemes: string[]; kind: string; fix: string }, p: Problems): string | undefined {
  // The value may carry a password or token: messages show it with those parts hidden.
  const shown = quoted(redactUrl(v));
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    p.add(want.input, `${shown} is not a URL.`, want.fix);
    return undefined;
  }
  if (url.username || url.password || url.search || url.hash) {
    p.add(
      want.input,
      `${shown} must be a plain ${want.kind} URL without credentials, query or fragment (hidden here as ***).`,
      `remove them from the URL; the endpoint needs no credentials of its own. ${want.fix}`,
    );
    return undefined;
  }
  if (!want.schemes.includes(url.protocol.slice(0, -1))) {
    p.add(want.input, `${shown} must be a plain ${want.kind} URL without credentials, query or fragment.`, want.fix);
    return undefined;
  }
  return v;
}

/** `auto`: IAP on a GitHub-hosted runner (it is outside every VPC), direct elsewhere. */
function parseTransport(v: string, env: NodeJS.ProcessEnv, p: Problems): { kind: TransportKind; why: string } | undefined {
  const value = v.toLowerCase();
  if (value === 'iap' || value === 'direct') return { kind: value, why: 'transport input' };
  if (value !== 'auto') {
    p.add(
      'transport',
      `${quoted(v)} is not a transport.`,
      "write auto (the default), iap (through Google's IAP TCP forwarding) or direct (a self-hosted runner inside the VPC).",
    );
    return undefined;
  }
  const hosted = env.RUNNER_ENVIRONMENT === 'github-hosted';
  return hosted
    ? { kind: 'iap', why: 'auto: a GitHub-hosted runner is outside the VPC' }
    : {
        kind: 'direct',
        why: `auto: ${env.RUNNER_ENVIRONMENT ? `a ${env.RUNNER_ENVIRONMENT} runner` : 'not a GitHub-hosted runner'} is taken to be inside the VPC`,
      };
}

// ---- request identity ----

/** The id is stored in GCE labels (the lock, the journal): refused here what they cannot hold. */
function parseRequestId(v: string, p: Problems): string {
  if (requestIdProblem(v)) {
    p.add(
      'request-id',
      `${quoted(v)} cannot be a GCE label value with the lock's expiry after it (it is stored in the cluster's lock and request journal).`,
      `use ${REQUEST_ID_RULE}, e.g. pr-42-scale, or leave it empty to derive one.`,
    );
  }
  return v;
}

/** What the request asks for, in a stable form; the VM shape is not part of its identity. */
function requestKey(intent: Intent, target: string[]): string {
  return JSON.stringify([
    intent.operation,
    intent.project,
    intent.instancePrefix,
    intent.zone ?? '',
    intent.multizone,
    intent.quorumRead,
    intent.replicate,
    intent.deleteNodes,
    intent.replicaName ?? '',
    intent.replicas ?? 0,
    intent.zones,
    intent.allowEvenReplicas,
    // Only when set, so that every other request keeps the id it had before restore-from existed.
    ...(intent.restore ? [`gs://${intent.restore.bucket}/${intent.restore.object}`] : []),
    ...target,
  ]);
}

/**
 * 16 hex chars of sha256. In a workflow: the run, job and step (stable across re-runs of the same
 * run, which is what lets a re-run resume) plus the request, so matrix legs differ. Elsewhere: the
 * request alone, so the same command run twice asks for the same thing once. `target`: what a
 * rollout moves the replicas to, as its inputs give it.
 */
export function deriveRequestId(intent: Intent, env: NodeJS.ProcessEnv, target: string[] = []): string {
  const runId = env.GITHUB_RUN_ID?.trim();
  const github = runId ? `github:${runId}/${env.GITHUB_JOB ?? ''}/${env.GITHUB_ACTION ?? ''}\n` : '';
  return createHash('sha256')
    .update(github + requestKey(intent, target))
    .digest('hex')
    .slice(0, 16);
}
