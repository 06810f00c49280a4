// Contract v2 (docs/vm-contract.md, "Private keys: Secret Manager") for tests that make master VMs
// by hand: the private keys leave the metadata for secrets on the emulator, made over REST with the
// runner's identity; the VM's service account (GCE's `default`) is bound on the secrets it reads
// (unless a test wants a VM that cannot read them), and each metadata value names its version.
import { defaultComputeServiceAccount } from '../../emulator/project-number.ts';
import { parseFlatYaml } from '../../emulator/runtime/flat-yaml.ts';
import { flatYaml } from './runtime-certs.ts';

export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
/** What a master VM is created with, so that it has a token for the project's default Compute Engine account. */
export const DEFAULT_SERVICE_ACCOUNT = { serviceAccounts: [{ email: 'default', scopes: [CLOUD_PLATFORM] }] };

export interface SecretKeys {
  /** The emulator's API (`emu.url`) and a token of the runner (runnerToken). */
  emulatorUrl: string;
  token: string;
  /** false: the VM's account gets no binding (its start-up must fail). Default true. */
  bind?: boolean;
}

const ACCESSOR = 'roles/secretmanager.secretAccessor';
const isPrivateKey = (name: string): boolean => name.endsWith('_KEY');

async function call(sk: SecretKeys, method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${sk.emulatorUrl}/v1/${path}`, {
    method,
    headers: { authorization: `Bearer ${sk.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`Secret Manager ${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Sets who may read the secret: the project's default Compute Engine account, or nobody. */
export async function bindVmAccount(sk: SecretKeys, project: string, secretId: string, bound: boolean): Promise<void> {
  const bindings = bound ? [{ role: ACCESSOR, members: [`serviceAccount:${defaultComputeServiceAccount(project)}`] }] : [];
  await call(sk, 'POST', `projects/${project}/secrets/${secretId}:setIamPolicy`, { policy: { bindings } });
}

/** Moves the `*_KEY` lines of one metadata value into a new secret: the other lines and the version's name. */
async function keysIntoSecret(
  sk: SecretKeys,
  project: string,
  secretId: string,
  value: string,
  labels: Record<string, string>,
  readable: boolean,
): Promise<{ rest: Record<string, string>; version: string }> {
  const all = parseFlatYaml(value);
  const keys = Object.fromEntries(Object.entries(all).filter(([k]) => isPrivateKey(k)));
  const rest = Object.fromEntries(Object.entries(all).filter(([k]) => !isPrivateKey(k)));
  await call(sk, 'POST', `projects/${project}/secrets?secretId=${secretId}`, { replication: { automatic: {} }, labels });
  const version = await call(sk, 'POST', `projects/${project}/secrets/${secretId}:addVersion`, {
    payload: { data: Buffer.from(flatYaml(keys)).toString('base64') },
  });
  if (readable) await bindVmAccount(sk, project, secretId, sk.bind ?? true);
  return { rest, version: String(version.name) };
}

/** The metadata value without its keys, naming the version that holds them. */
async function valueNamingSecret(
  sk: SecretKeys,
  project: string,
  secretId: string,
  value: string,
  labels: Record<string, string>,
): Promise<string> {
  const { rest, version } = await keysIntoSecret(sk, project, secretId, value, labels, true);
  return flatYaml({ ...rest, KEYS_SECRET: version });
}

/**
 * kube-env and kube-master-certs as contract v2 has them: the etcd CA key in `<master>-etcd-ca-key`
 * (nobody bound: only the action reads it), the cluster's keys in `<master>-cluster-keys`.
 */
export async function masterKeysIntoSecrets(
  sk: SecretKeys,
  project: string,
  master: string,
  metadata: Record<string, string>,
): Promise<Record<string, string>> {
  const labels = { 'ha-masters-cluster': master };
  // kube-env names no secret: the VMs never read the etcd CA key.
  const env = await keysIntoSecret(sk, project, `${master}-etcd-ca-key`, metadata['kube-env']!, labels, false);
  return {
    ...metadata,
    'kube-env': flatYaml(env.rest),
    'kube-master-certs': await valueNamingSecret(sk, project, `${master}-cluster-keys`, metadata['kube-master-certs']!, labels),
  };
}

/** etcd-member-certs with the replica's keys in `<vm>-replica-keys`. */
export async function memberKeysIntoSecret(
  sk: SecretKeys,
  project: string,
  master: string,
  vm: string,
  metadata: Record<string, string>,
): Promise<Record<string, string>> {
  const labels = { 'ha-masters-cluster': master, 'ha-masters-replica': vm };
  return {
    ...metadata,
    'etcd-member-certs': await valueNamingSecret(sk, project, `${vm}-replica-keys`, metadata['etcd-member-certs']!, labels),
  };
}

/** Every private key a metadata item holds, its values base64-decoded as flat YAML (what `instances describe` would show). */
export function privateKeysIn(items: Array<{ key?: string | null; value?: string | null }>): string[] {
  const found = items.flatMap(({ key, value }) =>
    Object.entries(parseFlatYaml(value ?? ''))
      .filter(([, v]) => /PRIVATE KEY/.test(Buffer.from(v, 'base64').toString('utf8')))
      .map(([k]) => `${key}/${k}`),
  );
  return [...found, ...items.filter(({ value }) => /PRIVATE KEY-----/.test(value ?? '')).map(({ key }) => String(key))];
}
