// An etcd client for one replica's member, as the engine would open it (the cluster's client
// certificate, the world's way into the VPC); kept in `opened` so that the test closes it.
import type { Etcd3 } from 'etcd3';
import { createMemberClient } from '../../src/etcd/client.ts';
import { etcdClientTls } from '../../src/engine/secrets.ts';
import type { EngineWorld } from './engine-world.ts';

export async function memberClient(world: EngineWorld, vmName: string, opened: Etcd3[]): Promise<Etcd3> {
  const { secrets, vms } = await world.secrets();
  const url = `https://${vms.find((vm) => vm.name === vmName)!.internalIp}:2379`;
  const client = createMemberClient(etcdClientTls(secrets), url, await world.dialUrl(url));
  opened.push(client);
  return client;
}
