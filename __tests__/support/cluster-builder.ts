// Small builders for ClusterState values, so planner tests read like sentences:
//   cluster(replica('a', 'europe-west1-b', leader()), replica('b', 'europe-west1-c'))
import { clusterNames, peerUrl, clientUrl } from '../../src/model.ts';
import type { ClusterState, EtcdMember, Intent, Replica, ZoneInfo } from '../../src/model.ts';

export const names = clusterNames('kubernetes');
export const M = names.master;

export const ZONES: ZoneInfo[] = [
  ...['b', 'c', 'd'].map((l) => ({ name: `europe-west1-${l}`, region: 'europe-west1', status: 'UP' as const })),
  ...['a', 'b', 'c', 'f'].map((l) => ({ name: `us-central1-${l}`, region: 'us-central1', status: 'UP' as const })),
];

export interface ReplicaSpec {
  vm?: Partial<Replica> | null;
  member?: Partial<EtcdMember> | null;
}

let ipCounter = 10;
export interface BuiltReplica {
  replica?: Replica;
  member?: EtcdMember;
}

/** A replica `<master>` (suffix '') or `<master>-<suffix>` with a healthy voting member unless told otherwise. */
export function replica(suffix: string, zone: string, ...mods: ((r: BuiltReplica) => void)[]): BuiltReplica {
  const name = suffix ? `${M}-${suffix}` : M;
  const ip = `10.0.0.${ipCounter++}`;
  const r: BuiltReplica = {
    replica: {
      name,
      zone,
      status: 'RUNNING',
      internalIp: ip,
      externalIp: `34.0.0.${ipCounter}`,
      hasStaticIp: false,
      hasMemberCerts: true,
      inTargetPool: false,
      apiserverReady: true,
      creationTimestamp: `2026-01-01T00:00:${String(ipCounter).padStart(2, '0')}Z`,
    },
    member: {
      id: String(1000 + ipCounter),
      name: `etcd-${name}`,
      peerUrls: [peerUrl(ip)],
      clientUrls: [clientUrl(ip)],
      isLearner: false,
      healthy: true,
      isLeader: false,
      appliedIndex: 100,
      alarms: [],
    },
  };
  for (const m of mods) m(r);
  return r;
}

export const leader = () => (r: BuiltReplica) => {
  r.member!.isLeader = true;
};
export const learner = () => (r: BuiltReplica) => {
  r.member!.isLearner = true;
};
export const deadEtcd = () => (r: BuiltReplica) => {
  r.member!.healthy = false;
};
export const stopped =
  (status: Replica['status'] = 'TERMINATED') =>
  (r: BuiltReplica) => {
    r.replica!.status = status;
    r.member!.healthy = false;
    r.replica!.apiserverReady = undefined;
  };
export const noMember = () => (r: BuiltReplica) => {
  r.member = undefined;
};
export const noCerts = () => (r: BuiltReplica) => {
  r.replica!.hasMemberCerts = false;
  r.member = undefined;
};
export const vmGone = () => (r: BuiltReplica) => {
  r.replica = undefined;
};
export const inPool = () => (r: BuiltReplica) => {
  r.replica!.inTargetPool = true;
};
export const staticIp = () => (r: BuiltReplica) => {
  r.replica!.hasStaticIp = true;
  r.replica!.externalIp = '34.1.1.1';
};
export const noExternalIp = () => (r: BuiltReplica) => {
  r.replica!.externalIp = undefined;
};
export const request = (id: string) => (r: BuiltReplica) => {
  r.replica!.request = id;
};
export const unstartedMember = () => (r: BuiltReplica) => {
  r.member!.name = '';
  r.member!.clientUrls = [];
  r.member!.healthy = false;
};

export interface ClusterOptions {
  address?: boolean;
  lb?: 'none' | 'pool' | 'full';
  firewalls?: boolean;
  healthCheck?: boolean;
  journal?: Record<string, string>;
  reachable?: boolean;
}

export function cluster(opts: ClusterOptions, ...built: BuiltReplica[]): ClusterState {
  const replicas = built.flatMap((b) => (b.replica ? [b.replica] : []));
  const members = built.flatMap((b) => (b.member ? [b.member] : []));
  const lb = opts.lb ?? 'none';
  if (lb !== 'none') for (const r of replicas) r.inTargetPool ||= members.some((m) => m.peerUrls.includes(peerUrl(r.internalIp!)));
  const address =
    opts.address === false
      ? undefined
      : {
          name: names.address,
          ip: '34.1.1.1',
          status: 'IN_USE' as const,
          users: [],
          region: 'europe-west1',
          labels: { 'ha-masters-cluster': M, ...(opts.journal ?? {}) },
        };
  const withJournal = address ? decodeLabels(address.labels) : [];
  const reachable = opts.reachable ?? members.some((m) => m.healthy && !m.isLearner);
  return {
    names,
    project: 'p',
    region: 'europe-west1',
    zones: ZONES,
    secrets: [],
    inlineKeys: [],
    address,
    firewalls: opts.firewalls === false ? [] : [names.firewallHttps, names.firewallEtcd, names.firewallHealthChecks],
    healthCheck: opts.healthCheck === false ? undefined : names.healthCheck,
    targetPool:
      lb === 'none'
        ? undefined
        : {
            name: names.targetPool,
            instances: replicas.filter((r) => r.inTargetPool).map((r) => `x/zones/${r.zone}/instances/${r.name}`),
            healthChecks: [],
          },
    forwardingRule: lb === 'full' ? { name: names.forwardingRule, ip: '34.1.1.1', target: 'pool' } : undefined,
    replicas,
    etcd: { reachable, members: reachable ? members : [], leaderId: members.find((m) => m.isLeader)?.id },
    settings: { multizone: true, quorumRead: false },
    journal: withJournal,
    nodeGroups: [],
    nodeTemplates: [],
    observedAt: '2026-11-24T00:00:00Z',
  };
}

import { decodeJournal } from '../../src/plan/journal.ts';
function decodeLabels(labels: Record<string, string>) {
  return decodeJournal(names, labels);
}

export function intent(over: Partial<Intent> = {}): Intent {
  return {
    operation: 'up',
    project: 'p',
    multizone: true,
    quorumRead: false,
    replicate: false,
    deleteNodes: true,
    instancePrefix: 'kubernetes',
    zones: [],
    allowEvenReplicas: false,
    requestId: 'r1',
    machineType: 'e2-standard-2',
    image: 'projects/debian-cloud/global/images/family/debian-12',
    network: 'default',
    dataDiskSizeGb: 20,
    ...over,
  };
}
