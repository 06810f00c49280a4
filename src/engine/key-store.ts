// Where the engine keeps and finds the cluster's private keys: Secret Manager (contract v2 of
// docs/vm-contract.md). A version is immutable, so what one run read is cached for the run; the
// etcd CA key is read only when a member certificate is to be issued.
import { replicaKeysSecret } from '../model.ts';
import type { ClusterNames } from '../model.ts';
import type { SecretManagerApi } from '../secrets/client.ts';
import {
  certsFromPayload,
  clusterKeysPayload,
  etcdCaKeyFromPayload,
  etcdCaKeyPayload,
  keyMaskValues,
  replicaKeysPayload,
  secretsFromPayload,
  secretValues,
} from './secrets.ts';
import type { ClusterSecrets, KeyPair, KeyRefs, StoredKeys } from './secrets.ts';

// Every secret the action makes carries CLUSTER_LABEL: a teardown finds them by it.
import { CLUSTER_LABEL } from '../labels.ts';
const REPLICA_LABEL = 'ha-masters-replica';

/** One read per version (versions never change); a failed read is tried again next time. */
function once<T>(cache: Map<string, Promise<T>>, version: string, read: (version: string) => Promise<T>): Promise<T> {
  let pending = cache.get(version);
  if (!pending) {
    pending = read(version);
    pending.catch(() => cache.delete(version));
    cache.set(version, pending);
  }
  return pending;
}

export class KeyStore {
  private readonly sm: SecretManagerApi;
  private readonly mask: (secret: string) => void;
  private readonly read = new Map<string, Promise<ClusterSecrets>>();
  private readonly caKeys = new Map<string, Promise<string>>();

  constructor(sm: SecretManagerApi, mask: (secret: string) => void) {
    this.sm = sm;
    this.mask = mask;
  }

  /**
   * A new cluster's keys into its two secrets, the cluster keys shared with the replicas' service
   * account. A run that died after this and before the first VM finds them again (loadLatest).
   */
  async saveCluster(
    names: ClusterNames,
    secrets: ClusterSecrets & { etcdCa: KeyPair },
    member: string,
    owner: Record<string, string> = {},
  ): Promise<KeyRefs> {
    // `owner`: the ownership labels of the run that makes the cluster (labels.ts).
    const labels = { ...owner, [CLUSTER_LABEL]: names.master };
    await Promise.all([this.sm.createSecret(names.secretClusterKeys, labels), this.sm.createSecret(names.secretEtcdCaKey, labels)]);
    const [clusterKeys, etcdCaKey] = await Promise.all([
      this.sm.addVersion(names.secretClusterKeys, clusterKeysPayload(secrets)),
      this.sm.addVersion(names.secretEtcdCaKey, etcdCaKeyPayload(secrets.etcdCa.key)),
    ]);
    await this.sm.grantAccessor(names.secretClusterKeys, member);
    this.read.set(clusterKeys, Promise.resolve(secrets));
    this.caKeys.set(etcdCaKey, Promise.resolve(secrets.etcdCa.key));
    return { clusterKeys, etcdCaKey };
  }

  /** Lets another service account (a replica made with another `service-account`) read the cluster keys. */
  shareCluster(names: ClusterNames, member: string): Promise<void> {
    return this.sm.grantAccessor(names.secretClusterKeys, member);
  }

  /** The full set, from metadata (an older cluster) or from the pinned version; keys masked. */
  async load(stored: StoredKeys): Promise<ClusterSecrets> {
    if (stored.where === 'metadata') {
      for (const v of secretValues(stored.secrets)) this.mask(v);
      return stored.secrets;
    }
    const secrets = await once(this.read, stored.refs.clusterKeys, async (version) =>
      secretsFromPayload(stored, await this.sm.access(version)),
    );
    for (const v of secretValues(secrets)) this.mask(v);
    return secrets;
  }

  /**
   * A cluster none of whose VMs is left: its keys and certificates from the newest versions of its
   * two secrets, so that the next master is made with the same CAs and keys (a restore keeps the
   * nodes' certificates and service-account tokens valid). Undefined when the secrets are gone or
   * were written before they carried the certificates.
   */
  async loadLatest(names: ClusterNames): Promise<{ stored: StoredKeys; secrets: ClusterSecrets } | undefined> {
    const [cluster, ca] = await Promise.all([this.sm.accessLatest(names.secretClusterKeys), this.sm.accessLatest(names.secretEtcdCaKey)]);
    const certs = cluster && certsFromPayload(cluster.payload);
    if (!cluster || !ca || !certs) return undefined;
    const stored: StoredKeys = { where: 'secret-manager', refs: { clusterKeys: cluster.name, etcdCaKey: ca.name }, certs, vm: '' };
    const secrets = secretsFromPayload(stored, cluster.payload);
    const caKey = etcdCaKeyFromPayload(ca.payload, ca.name);
    for (const v of [...secretValues(secrets), ...keyMaskValues(caKey)]) this.mask(v);
    this.read.set(cluster.name, Promise.resolve(secrets));
    this.caKeys.set(ca.name, Promise.resolve(caKey));
    return { stored, secrets };
  }

  /** The etcd CA with its key, to issue a member certificate. */
  async withEtcdCaKey(stored: StoredKeys, secrets: ClusterSecrets): Promise<KeyPair> {
    if (stored.where === 'metadata') return stored.secrets.etcdCa;
    const key = await once(this.caKeys, stored.refs.etcdCaKey, async (version) =>
      etcdCaKeyFromPayload(await this.sm.access(version), version),
    );
    for (const v of keyMaskValues(key)) this.mask(v);
    return { cert: secrets.etcdCa.cert, key };
  }

  /** One replica's keys into `<vm>-replica-keys`, shared with its service account; the version name. */
  async saveReplica(
    names: ClusterNames,
    vm: string,
    member: KeyPair,
    serving: KeyPair | undefined,
    reader: string | undefined,
  ): Promise<string> {
    const id = replicaKeysSecret(vm);
    await this.sm.createSecret(id, { [CLUSTER_LABEL]: names.master, [REPLICA_LABEL]: vm });
    const version = await this.sm.addVersion(id, replicaKeysPayload(member, serving));
    if (reader) await this.sm.grantAccessor(id, reader);
    return version;
  }

  /** Every secret the cluster has (a teardown deletes them). */
  async listCluster(names: ClusterNames): Promise<string[]> {
    return (await this.sm.listByLabel(CLUSTER_LABEL, names.master)).map((s) => s.id).sort();
  }

  deleteSecret(id: string): Promise<boolean> {
    return this.sm.deleteSecret(id);
  }
}
