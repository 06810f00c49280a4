// An etcd client for one replica of a cluster made by the bundled action on process VMs (their
// internal IPs are this machine's loopback addresses), built as the engine builds its own: the
// certificates from the VMs' metadata and the keys from Secret Manager, as the runner's identity.
import type { Etcd3 } from 'etcd3';
import { adcTokenSource } from '../../src/auth/adc.ts';
import { createMemberClient } from '../../src/etcd/client.ts';
import { KeyStore } from '../../src/engine/key-store.ts';
import { etcdClientTls, storedKeysOf } from '../../src/engine/secrets.ts';
import { createComputeApi } from '../../src/gce/client.ts';
import { clusterNames, DEFAULT_INSTANCE_PREFIX } from '../../src/model.ts';
import { createSecretManager } from '../../src/secrets/client.ts';

export async function bundleEtcdClient(emulator: { url: string; host: string; port: number }, project: string, vm: string): Promise<Etcd3> {
  process.env.GCE_METADATA_HOST = `${emulator.host}:${emulator.port}`;
  const compute = createComputeApi({ project, endpoint: emulator.url });
  try {
    const vms = await compute.listInstances(clusterNames(DEFAULT_INSTANCE_PREFIX).master);
    const stored = vms.map(storedKeysOf).find((x) => x !== undefined);
    if (!stored) throw new Error('no replica carries the cluster certificates');
    const keys = new KeyStore(createSecretManager({ project, endpoint: emulator.url, token: adcTokenSource(() => {}) }), () => {});
    const url = `https://${vms.find((v) => v.name === vm)!.internalIp}:2379`;
    return createMemberClient(etcdClientTls(await keys.load(stored)), url, url);
  } finally {
    await compute.close();
  }
}
