import { describe, expect, it } from '@jest/globals';
import { clusterNames, type ClusterState, type RunReport, type Step } from '../../src/model.ts';
import { outputsFor } from '../../src/report/outputs.ts';
import { renderSummary } from '../../src/report/summary.ts';
import { duration } from '../../src/report/markdown.ts';
import { member, replica } from '../support/report-fixtures.ts';
import { manifestFor } from '../../src/release/pinned.ts';

const names = clusterNames('kubernetes');

function state(extra: Partial<ClusterState> = {}): ClusterState {
  return {
    names,
    project: 'my-project',
    secrets: [],
    inlineKeys: [],
    region: 'europe-west1',
    zones: [
      { name: 'europe-west1-b', region: 'europe-west1', status: 'UP' },
      { name: 'europe-west1-c', region: 'europe-west1', status: 'UP' },
      { name: 'europe-west1-d', region: 'europe-west1', status: 'DOWN' },
    ],
    firewalls: [],
    replicas: [],
    etcd: { reachable: true, members: [] },
    journal: [],
    nodeGroups: [],
    nodeTemplates: [],
    observedAt: '2026-01-01T00:00:00Z',
    ...extra,
  };
}

const address = (ip: string): ClusterState['address'] => ({
  name: names.address,
  ip,
  status: 'IN_USE',
  users: [],
  region: 'europe-west1',
  labels: {},
});

/** Three replicas behind the load balancer; the one in -c is a learner, the one in -d's neighbour is unhealthy. */
function haState(): ClusterState {
  return state({
    address: address('34.1.2.3'),
    forwardingRule: { name: names.forwardingRule, ip: '34.1.2.3', target: 'pool-link' },
    targetPool: { name: names.targetPool, instances: ['a', 'b', 'c'], healthChecks: ['hc'] },
    healthCheck: names.healthCheck,
    settings: { multizone: true, quorumRead: false },
    replicas: [
      replica('kubernetes-master-0c1', 'europe-west1-c', '127.10.0.3', { release: manifestFor('v1.35.4', 'v3.6.14') }),
      replica('kubernetes-master', 'europe-west1-b', '127.10.0.1', { release: manifestFor('v1.34.7', 'v3.5.33') }),
      replica('kubernetes-master-a1f', 'europe-west1-b', '127.10.0.2', {
        apiserverReady: false,
        release: manifestFor('v1.34.7', 'v3.5.33'),
      }),
    ],
    etcd: {
      reachable: true,
      leaderId: '111',
      members: [
        member('kubernetes-master', '111', '127.10.0.1', {
          isLeader: true,
          appliedIndex: 900,
          dbSize: 4 * 1024 * 1024,
          dbSizeInUse: 1024 * 1024,
        }),
        member('kubernetes-master-a1f', '222', '127.10.0.2', { appliedIndex: 899, dbSize: 512 * 1024 }),
        member('kubernetes-master-0c1', '333', '127.10.0.3', { isLearner: true, appliedIndex: 850 }),
      ],
    },
    leases: {
      readable: true,
      identities: [
        { name: 'apiserver-aaaa', hostname: 'kubernetes-master' },
        { name: 'apiserver-bbbb', hostname: 'kubernetes-master-a1f.europe-west1-b.c.my-project.internal' },
        { name: 'apiserver-dddd', hostname: 'kubernetes-master-9e9', deleteFailed: 'HTTP 403' },
      ],
      controllerManager: {
        holderIdentity: 'kubernetes-master-a1f_6f1c0f5e-54a4-4b43-9d3c-3b0e1d1f0a11',
        hostname: 'kubernetes-master-a1f',
        renewTime: '2026-12-02T10:00:01.000000Z',
        leaseDurationSeconds: 15,
      },
      scheduler: {
        holderIdentity: 'kubernetes-master-9e9_0b5b1b84-1a43-4a0e-9a59-5d0f6c8f7d22',
        hostname: 'kubernetes-master-9e9',
        leaseDurationSeconds: 15,
      },
    },
  });
}

function report(s: ClusterState, extra: Partial<RunReport> = {}): RunReport {
  return { operation: 'up', changed: false, steps: [], warnings: [], state: s, ...extra };
}

describe('outputsFor', () => {
  it('gives exact strings for an HA cluster behind a load balancer', () => {
    const expiring = { ...haState(), certExpiry: { what: 'kubernetes-master-a1f ETCD_MEMBER_CERT', notAfter: '2031-12-01T10:00:00.000Z' } };
    const out = outputsFor(report(expiring, { changed: true, replicaName: 'kubernetes-master-0c1' }));
    expect(out).toEqual({
      'external-ip': '34.1.2.3',
      'replica-count': '3',
      'replicas-json':
        '[{"name":"kubernetes-master","zone":"europe-west1-b","internalIp":"127.10.0.1","status":"RUNNING","memberId":"6f","role":"voter","healthy":true,"kubernetesVersion":"v1.34.7","etcdVersion":"v3.5.33"},' +
        '{"name":"kubernetes-master-a1f","zone":"europe-west1-b","internalIp":"127.10.0.2","status":"RUNNING","memberId":"de","role":"voter","healthy":false,"kubernetesVersion":"v1.34.7","etcdVersion":"v3.5.33"},' +
        '{"name":"kubernetes-master-0c1","zone":"europe-west1-c","internalIp":"127.10.0.3","status":"RUNNING","memberId":"14d","role":"learner","healthy":false,"kubernetesVersion":"v1.35.4","etcdVersion":"v3.6.14"}]',
      'load-balancer': 'true',
      changed: 'true',
      'replica-name': 'kubernetes-master-0c1',
      'etcd-snapshot': '',
      kubeconfig: '',
      'cert-expiry': '2031-12-01T10:00:00.000Z',
      healthy: 'false',
      'plan-json': '',
      repaired: '',
    });
    expect(renderSummary(report(expiring))).toContain(
      '| First certificate to expire | `kubernetes-master-a1f ETCD_MEMBER_CERT` on 2031-12-01 |',
    );
  });

  it('reports a single master holding the static IP, with no load balancer', () => {
    const s = state({
      address: address('34.9.9.9'),
      replicas: [replica('kubernetes-master', 'europe-west1-b', '127.10.0.1', { hasStaticIp: true, inTargetPool: false })],
      etcd: { reachable: true, members: [member('kubernetes-master', '7', '127.10.0.1', { isLeader: true })] },
    });
    const out = outputsFor(report(s));
    expect(out['external-ip']).toBe('34.9.9.9');
    expect(out['load-balancer']).toBe('false');
    expect(out.changed).toBe('false');
    expect(out['replica-name']).toBe('');
    expect(JSON.parse(out['replicas-json']!)).toEqual([
      {
        name: 'kubernetes-master',
        zone: 'europe-west1-b',
        internalIp: '127.10.0.1',
        status: 'RUNNING',
        memberId: '7',
        role: 'voter',
        healthy: true,
        kubernetesVersion: null,
        etcdVersion: null,
      },
    ]);
  });

  it('matches a never-started member by peer URL, and marks VMs without a member or not running', () => {
    const s = state({
      address: address('34.9.9.9'),
      replicas: [
        replica('kubernetes-master', 'europe-west1-b', '127.10.0.1'),
        replica('kubernetes-master-abc', 'europe-west1-c', '127.10.0.5'),
        replica('kubernetes-master-def', 'europe-west1-c', '127.10.0.6', { status: 'TERMINATED' }),
        replica('kubernetes-master-fff', 'europe-west1-b', '', { status: 'PROVISIONING', internalIp: undefined }),
      ],
      etcd: {
        reachable: true,
        members: [
          member('kubernetes-master', '1', '127.10.0.1'),
          { ...member('x', '5', '127.10.0.5', { isLearner: true, healthy: false }), name: '' },
          member('kubernetes-master-def', '6', '127.10.0.6', { healthy: false }),
        ],
      },
    });
    expect(JSON.parse(outputsFor(report(s))['replicas-json']!)).toEqual([
      {
        name: 'kubernetes-master',
        zone: 'europe-west1-b',
        internalIp: '127.10.0.1',
        status: 'RUNNING',
        memberId: '1',
        role: 'voter',
        healthy: true,
        kubernetesVersion: null,
        etcdVersion: null,
      },
      {
        name: 'kubernetes-master-fff',
        zone: 'europe-west1-b',
        internalIp: null,
        status: 'PROVISIONING',
        memberId: null,
        role: 'none',
        healthy: false,
        kubernetesVersion: null,
        etcdVersion: null,
      },
      {
        name: 'kubernetes-master-abc',
        zone: 'europe-west1-c',
        internalIp: '127.10.0.5',
        status: 'RUNNING',
        memberId: '5',
        role: 'learner',
        healthy: false,
        kubernetesVersion: null,
        etcdVersion: null,
      },
      {
        name: 'kubernetes-master-def',
        zone: 'europe-west1-c',
        internalIp: '127.10.0.6',
        status: 'TERMINATED',
        memberId: '6',
        role: 'voter',
        healthy: false,
        kubernetesVersion: null,
        etcdVersion: null,
      },
    ]);
  });

  it('is empty after a teardown', () => {
    expect(outputsFor(report(state({ etcd: { reachable: false, members: [] } }), { operation: 'down', changed: true }))).toEqual({
      'external-ip': '',
      'replica-count': '0',
      'replicas-json': '[]',
      'load-balancer': 'false',
      changed: 'true',
      'replica-name': '',
      'etcd-snapshot': '',
      kubeconfig: '',
      'cert-expiry': '',
      healthy: '',
      'plan-json': '',
      repaired: '',
    });
  });
});

describe('renderSummary', () => {
  it('shows the cluster, replicas per zone, members and every step with reason and time', () => {
    const s = haState();
    const md = renderSummary(
      report(s, {
        changed: true,
        replicaName: 'kubernetes-master-0c1',
        steps: [
          {
            step: {
              kind: 'createReplica',
              replica: 'kubernetes-master-0c1',
              zone: 'europe-west1-c',
              first: false,
              seeds: ['kubernetes-master', 'kubernetes-master-a1f'],
            },
            reason: 'replicas: 3 wanted, 2 exist; europe-west1-c has fewest',
            ms: 12_345,
          },
          {
            step: { kind: 'addLearner', replica: 'kubernetes-master-0c1', zone: 'europe-west1-c', peerUrl: 'https://127.10.0.3:2380' },
            reason: 'a new member joins as a learner | never as a voter',
            ms: 420,
          },
          { step: { kind: 'waitReady', replica: 'kubernetes-master-0c1', zone: 'europe-west1-c' }, reason: 'catching up', ms: 65_000 },
        ],
        warnings: ['kube-env: NUM_NODES is not a flag this action knows; <ignored>.'],
      }),
    );
    expect(md).toBe(
      [
        '## ha-masters: up `kubernetes-master` in project `my-project`: done, changed the cluster (2 writes), but the cluster is UNHEALTHY: kubernetes-master-0c1: its etcd member is still a learner; kubernetes-master-a1f: its kube-apiserver is not ready',
        '',
        '**Changed** the cluster in 2 writes. Replica added: `kubernetes-master-0c1`.',
        '',
        '### Unhealthy',
        '',
        '- kubernetes-master-0c1: its etcd member is still a learner',
        '- kubernetes-master-a1f: its kube-apiserver is not ready',
        '',
        '|  |  |',
        '| --- | --- |',
        '| External IP | `34.1.2.3` (`kubernetes-master-ip`) |',
        '| Load balancer | yes: forwarding rule `kubernetes-master` tcp:443 to target pool `kubernetes-master` (3 instances, health check `kubernetes-master-hc`) |',
        '| Replicas | 3 (1 healthy) |',
        '| etcd | 2 voters (quorum 2), 1 learner, leader `etcd-kubernetes-master` |',
        '| Release | Kubernetes v1.34.7, etcd v3.5.33 (2); Kubernetes v1.35.4, etcd v3.6.14 (1) |',
        '| Recorded settings | MULTIZONE=true, ENABLE_ETCD_QUORUM_READ=false |',
        '',
        '### Replicas per zone',
        '',
        '| Zone | Replicas | Names |',
        '| --- | ---: | --- |',
        '| `europe-west1-b` | 2 | `kubernetes-master`, `kubernetes-master-a1f` (unhealthy) |',
        '| `europe-west1-c` | 1 | `kubernetes-master-0c1` (unhealthy) |',
        '| `europe-west1-d` (zone DOWN) | 0 |  |',
        '',
        '### etcd members',
        '',
        '| Member | ID | VM | Zone | Role | Leader | Healthy | Applied index | DB size (free) | Alarms |',
        '| --- | --- | --- | --- | --- | --- | --- | ---: | ---: | --- |',
        '| `etcd-kubernetes-master` | `6f` | `kubernetes-master` RUNNING | `europe-west1-b` | voter | leader | yes | 900 | 4.0 MiB (3.0 MiB, 75%) |  |',
        '| `etcd-kubernetes-master-a1f` | `de` | `kubernetes-master-a1f` RUNNING, apiserver not ready | `europe-west1-b` | voter |  | yes | 899 | 512 KiB |  |',
        '| `etcd-kubernetes-master-0c1` | `14d` | `kubernetes-master-0c1` RUNNING | `europe-west1-c` | learner |  | yes | 850 |  |  |',
        '',
        '### Control plane leases',
        '',
        '| Leader lease | Held by | Renewed |',
        '| --- | --- | --- |',
        '| `kube-system/kube-controller-manager` | replica `kubernetes-master-a1f` | `2026-12-02T10:00:01.000000Z` |',
        '| `kube-system/kube-scheduler` | kubernetes-master-9e9, which is no replica of this cluster now: a running replica takes over within 15 s of its last renewal |  |',
        '',
        'kube-apiserver identity leases: `kubernetes-master` (`apiserver-aaaa`), `kubernetes-master-a1f` (`apiserver-bbbb`), `kubernetes-master-9e9` (`apiserver-dddd`) (VM gone; deleting it failed, it expires within an hour).',
        '',
        '### What this run did',
        '',
        '| # | Step | Why | Time |',
        '| ---: | --- | --- | ---: |',
        '| 1 | create VM kubernetes-master-0c1 in europe-west1-c (joins etcd through kubernetes-master, kubernetes-master-a1f) | replicas: 3 wanted, 2 exist; europe-west1-c has fewest | 12.3 s |',
        '| 2 | add kubernetes-master-0c1 to etcd as a learner (https://127.10.0.3:2380) | a new member joins as a learner \\| never as a voter | 420 ms |',
        '| 3 | wait until kubernetes-master-0c1 is a healthy etcd voter with a ready apiserver | catching up | 1 min 05 s |',
        '',
        'Total: 1 min 18 s.',
        '',
        '### Warnings',
        '',
        '- kube-env: NUM_NODES is not a flag this action knows; &lt;ignored&gt;.',
        '',
      ].join('\n'),
    );
  });

  it('says when nothing changed and names the static IP holder', () => {
    const s = state({
      address: address('34.9.9.9'),
      replicas: [replica('kubernetes-master', 'europe-west1-b', '127.10.0.1', { hasStaticIp: true })],
      etcd: { reachable: true, members: [member('kubernetes-master', '7', '127.10.0.1', { isLeader: true })] },
    });
    const md = renderSummary(report(s, { operation: 'status' }));
    expect(md.split('\n')[0]).toBe('## ha-masters: status `kubernetes-master` in project `my-project`: healthy (1 replica)');
    expect(md).toContain('A status only reads the cluster: nothing was changed.');
    expect(md).toContain('| Load balancer | no: the static IP is on `kubernetes-master` |');
    expect(md).toContain('| etcd | 1 voter (quorum 1), 0 learners, leader `etcd-kubernetes-master` |');
    expect(md).toContain('### What this run did\n\nNothing: no step was needed.');
    expect(md).not.toContain('### Warnings');
  });

  it('lists members without a VM and explains an unreachable etcd', () => {
    const s = state({
      address: address('34.9.9.9'),
      replicas: [replica('kubernetes-master', 'europe-west1-b', '127.10.0.1', { status: 'TERMINATED' })],
      etcd: {
        reachable: false,
        error: 'context deadline exceeded',
        members: [member('kubernetes-master-bad', '9', '127.10.0.9', { healthy: false, alarms: ['NOSPACE'] })],
      },
    });
    const md = renderSummary(report(s, { operation: 'status' }));
    expect(md).toContain('| etcd | unreachable: context deadline exceeded |');
    expect(md).toContain('etcd could not be read: context deadline exceeded.');
    expect(md).toContain('| none |  | `kubernetes-master` TERMINATED | `europe-west1-b` | none |  | no |  |  |');
    expect(md).toContain('| `etcd-kubernetes-master-bad` | `9` | no VM |  | voter |  | no | 42 |  | NOSPACE |');
  });

  it('says plainly why the control plane leases could not be read, and when nobody leads', () => {
    const unreadable = state({
      address: address('34.9.9.9'),
      replicas: [replica('kubernetes-master', 'europe-west1-b', '127.10.0.1', { hasStaticIp: true })],
      leases: { readable: false, error: 'GET https://34.9.9.9/apis/...: no answer within 3000 ms' },
    });
    expect(renderSummary(report(unreadable))).toContain(
      '### Control plane leases\n\nCould not be read: GET https://34.9.9.9/apis/...: no answer within 3000 ms.\n',
    );
    const leaderless = state({ ...unreadable, leases: { readable: true, identities: [] } });
    const md = renderSummary(report(leaderless));
    expect(md).toContain('| `kube-system/kube-controller-manager` | nobody: kube-controller-manager has not elected a leader (yet) |  |');
    expect(md).toContain('| `kube-system/kube-scheduler` | nobody: kube-scheduler has not elected a leader (yet) |  |');
    expect(md).toContain('kube-apiserver identity leases: none.');
  });

  it('after a teardown says the cluster is gone and lists what was deleted', () => {
    const md = renderSummary(
      report(state({ etcd: { reachable: false, members: [] } }), {
        operation: 'down',
        changed: true,
        steps: [
          { step: { kind: 'deleteForwardingRule' }, reason: 'down tears the cluster down', ms: 800 },
          { step: { kind: 'deleteAddress' }, reason: 'last resource', ms: 1500 },
        ],
      }),
    );
    expect(md).toContain('No cluster `kubernetes-master` exists in project `my-project`.');
    expect(md).toContain('**Changed** the cluster in 2 writes.');
    expect(md).toContain('| 1 | delete forwarding rule kubernetes-master | down tears the cluster down | 800 ms |');
    expect(md).toContain('| 2 | release static IP kubernetes-master-ip | last resource | 1.5 s |');
    expect(md).not.toContain('### Replicas per zone');
  });

  it('describes every step kind with the resources it touches', () => {
    const s = haState();
    const kinds: Step[] = [
      { kind: 'createAddress' },
      { kind: 'createFirewall', name: 'kubernetes-master-etcd' },
      { kind: 'createHealthCheck' },
      { kind: 'createReplica', replica: 'kubernetes-master', zone: 'europe-west1-b', first: true, seeds: [] },
      { kind: 'setMemberCerts', replica: 'kubernetes-master', zone: 'europe-west1-b' },
      { kind: 'promoteLearner', replica: 'kubernetes-master-0c1', memberId: '333' },
      { kind: 'createTargetPool', instances: [{ name: 'kubernetes-master', zone: 'europe-west1-b' }] },
      { kind: 'addToTargetPool', replica: 'kubernetes-master-0c1', zone: 'europe-west1-c' },
      { kind: 'removeFromTargetPool', replica: 'kubernetes-master-0c1', zone: 'europe-west1-c' },
      { kind: 'detachStaticIp', replica: 'kubernetes-master', zone: 'europe-west1-b' },
      { kind: 'attachStaticIp', replica: 'kubernetes-master', zone: 'europe-west1-b' },
      { kind: 'attachEphemeralIp', replica: 'kubernetes-master', zone: 'europe-west1-b' },
      { kind: 'createForwardingRule' },
      { kind: 'deleteTargetPool' },
      { kind: 'moveLeader', fromId: '111', toId: '222' },
      { kind: 'removeMember', memberId: '333', memberName: 'etcd-kubernetes-master-0c1' },
      { kind: 'removeMember', memberId: '444', memberName: '' },
      { kind: 'deleteReplica', replica: 'kubernetes-master-0c1', zone: 'europe-west1-c' },
      { kind: 'deleteIdentityLease', name: 'apiserver-dddd', replica: 'kubernetes-master-9e9' },
      { kind: 'deleteFirewall', name: 'kubernetes-master-https' },
      { kind: 'deleteHealthCheck' },
      { kind: 'deleteNodeGroup', name: 'kubernetes-minion-group', zone: 'europe-west1-b' },
      { kind: 'deleteNodeTemplate', name: 'kubernetes-minion-template' },
      { kind: 'writeJournal', entry: { request: 'abc', replica: 'kubernetes-master-0c1', phase: 'removing' } },
    ];
    const all: RunReport['steps'] = kinds.map((step) => ({ step, reason: 'r', ms: 1 }));
    const lines = renderSummary(report(s, { changed: true, steps: all }))
      .split('\n')
      .filter((l) => /^\| \d+ \| /.test(l))
      .map((l) => l.split(' | ')[1]);
    expect(lines).toEqual([
      'reserve static IP kubernetes-master-ip',
      'create firewall kubernetes-master-etcd',
      'create HTTP health check kubernetes-master-hc',
      'create VM kubernetes-master in europe-west1-b (first master: a new one-member etcd cluster)',
      'give kubernetes-master its etcd member certificate',
      'promote kubernetes-master-0c1 (member 14d) to voter',
      'create target pool kubernetes-master with kubernetes-master',
      'add kubernetes-master-0c1 to target pool kubernetes-master',
      'remove kubernetes-master-0c1 from target pool kubernetes-master',
      'take static IP kubernetes-master-ip off kubernetes-master',
      'put static IP kubernetes-master-ip on kubernetes-master',
      'give kubernetes-master an ephemeral external IP',
      'create forwarding rule kubernetes-master: kubernetes-master-ip tcp:443 to target pool kubernetes-master',
      'delete target pool kubernetes-master',
      'move etcd leadership from etcd-kubernetes-master (6f) to etcd-kubernetes-master-a1f (de)',
      'remove etcd member etcd-kubernetes-master-0c1 (14d)',
      'remove etcd member (never started) (1bc)',
      'delete VM kubernetes-master-0c1 in europe-west1-c with its disks',
      'delete kube-apiserver identity lease kube-system/apiserver-dddd of kubernetes-master-9e9',
      'delete firewall kubernetes-master-https',
      'delete HTTP health check kubernetes-master-hc',
      'delete node group kubernetes-minion-group in europe-west1-b',
      'delete node template kubernetes-minion-template',
      'record request abc: removing kubernetes-master-0c1',
    ]);
  });

  it('formats durations', () => {
    expect([0, 999, 1000, 4250, 59_999, 60_000, 125_000, 3_600_000].map(duration)).toEqual([
      '0 ms',
      '999 ms',
      '1.0 s',
      '4.3 s',
      '1 min 00 s',
      '1 min 00 s',
      '2 min 05 s',
      '60 min 00 s',
    ]);
  });
});
