// A replica VM and an etcd member as the report tests build clusters from: healthy, running,
// voting, unless `extra` says otherwise.
import type { EtcdMember, Replica } from '../../src/model.ts';

export function replica(name: string, zone: string, ip: string, extra: Partial<Replica> = {}): Replica {
  return {
    name,
    zone,
    status: 'RUNNING',
    internalIp: ip,
    hasStaticIp: false,
    hasMemberCerts: true,
    inTargetPool: true,
    apiserverReady: true,
    creationTimestamp: '2026-01-01T00:00:00Z',
    ...extra,
  };
}

export function member(vm: string, id: string, ip: string, extra: Partial<EtcdMember> = {}): EtcdMember {
  return {
    id,
    name: `etcd-${vm}`,
    peerUrls: [`https://${ip}:2380`],
    clientUrls: [`https://${ip}:2379`],
    isLearner: false,
    healthy: true,
    isLeader: false,
    appliedIndex: 42,
    alarms: [],
    ...extra,
  };
}
