// Joining an existing cluster (INITIAL_ETCD_CLUSTER_STATE=existing, empty data dir): ask the seed
// members for the member list and wait for the action to have added this VM (as a learner). The
// `--initial-cluster` flag is then built from that list, the way `etcdctl member add` prints it.
import type { MasterSpec } from './master-spec.ts';
import { deadlineIn, etcdClientFor } from './etcd-client.ts';

export interface SeedAddress {
  vm: string;
  ip: string;
}

export type JoinResult = { ok: true; initialCluster: string } | { ok: false; reason: string };

export const peerUrlOf = (ip: string): string => `https://${ip}:2380`;
export const memberNameOf = (vm: string): string => `etcd-${vm}`;

/** One attempt: the first seed that answers decides. */
export async function resolveInitialCluster(spec: MasterSpec, seeds: SeedAddress[]): Promise<JoinResult> {
  const ownPeerUrl = peerUrlOf(spec.internalIp);
  const reasons: string[] = [];
  if (seeds.length === 0) return { ok: false, reason: 'no seed member of INITIAL_ETCD_CLUSTER has an address' };
  for (const seed of seeds) {
    const client = etcdClientFor(seed.ip, seed.vm, { ca: spec.etcdCaCert, cert: spec.etcdClientCert, key: spec.etcdClientKey });
    try {
      const list = await client.cluster.memberList({}, deadlineIn(2000));
      const members = list.members ?? [];
      if (!members.some((m) => (m.peerURLs ?? []).includes(ownPeerUrl))) {
        reasons.push(`${seed.vm}: ${ownPeerUrl} is not a member yet`);
        continue;
      }
      const entries: string[] = [];
      for (const m of members) {
        const self = (m.peerURLs ?? []).includes(ownPeerUrl);
        // A member that never started has no name; etcd only compares peer URLs, so any unique name does.
        const name = self ? memberNameOf(spec.vm) : m.name || `unstarted-${m.ID}`;
        for (const url of m.peerURLs ?? []) entries.push(`${name}=${url}`);
      }
      return { ok: true, initialCluster: entries.join(',') };
    } catch (err) {
      reasons.push(`${seed.vm}: ${(err as Error).message}`);
    } finally {
      client.close();
    }
  }
  return { ok: false, reason: reasons.join('; ') };
}
