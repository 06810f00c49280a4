import { plan, shapeWarnings } from '../../src/plan/ladder.ts';
import { clusterNames, isNodeGroupName, isNodeTemplateName } from '../../src/model.ts';
import type { ClusterState, Intent, PlanResult, Step } from '../../src/model.ts';
import { quorumOf } from '../../src/plan/quorum.ts';
import { projectStep as applyIdeal } from '../../src/plan/project.ts';
import {
  M,
  cluster,
  deadEtcd,
  names,
  intent,
  leader,
  learner,
  noCerts,
  noExternalIp,
  noMember,
  replica,
  request,
  staticIp,
  stopped,
  unstartedMember,
  vmGone,
} from '../support/cluster-builder.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';

function stepOf(r: PlanResult): Step {
  if (r.type !== 'step') throw new Error(`expected a step, got ${JSON.stringify(r)}`);
  return r.step;
}

/** Applies steps in the ideal world until done/refuse; checks invariants on the way. */
function converge(i: Intent, start: ClusterState, max = 60): { steps: Step[]; end: PlanResult; state: ClusterState } {
  let state = start;
  const steps: Step[] = [];
  for (let k = 0; k < max; k++) {
    const r = plan(i, state);
    if (r.type !== 'step') return { steps, end: r, state };
    const before = state;
    state = applyIdeal(state, r.step);
    steps.push(r.step);
    assertQuorumKept(before, state, r.step);
    expect(state.etcd.members.filter((m) => m.isLearner).length).toBeLessThanOrEqual(1);
  }
  throw new Error(`no convergence after ${max} steps: ${steps.map((s) => s.kind).join(', ')}`);
}

function healthyQuorum(s: ClusterState): boolean {
  const voters = s.etcd.members.filter((m) => !m.isLearner);
  return voters.length > 0 && voters.filter((m) => m.healthy).length >= quorumOf(voters.length);
}

function assertQuorumKept(before: ClusterState, after: ClusterState, step: Step) {
  if (healthyQuorum(before) && before.etcd.members.length > 0 && after.replicas.length > 0) {
    if (!healthyQuorum(after)) throw new Error(`step ${step.kind} broke quorum`);
  }
}

describe('up: a new cluster', () => {
  const empty = cluster({ address: false, firewalls: false, healthCheck: false });
  test('reserves the address first, then firewalls and health check, then the first master with the static IP', () => {
    const i = intent({ zone: B });
    const { steps, end, state } = converge(i, { ...empty, replicas: [], etcd: { reachable: false, members: [] } });
    expect(steps.map((s) => s.kind)).toEqual([
      'createAddress',
      'createFirewall',
      'createFirewall',
      'createFirewall',
      'createHealthCheck',
      'createReplica',
      'setMemberCerts',
    ]);
    expect(steps[5]).toMatchObject({ kind: 'createReplica', replica: M, zone: B, first: true });
    expect(end.type).toBe('done');
    expect(state.replicas[0]!.hasStaticIp).toBe(true);
  });
  test('an existing healthy cluster: done, no step', () => {
    expect(plan(intent({ zone: B }), cluster({}, replica('', B, leader(), staticIp()))).type).toBe('done');
  });
  test('a first master whose etcd has not started yet is waited for', () => {
    const s = cluster({}, replica('', B, noMember(), staticIp()));
    expect(stepOf(plan(intent({ zone: B }), s))).toMatchObject({ kind: 'waitReady', replica: M });
  });
});

describe('up + replicate-existing-master', () => {
  const one = () => cluster({}, replica('', B, leader(), staticIp()));
  test('refuses when there is no cluster, nothing changed', () => {
    const r = plan(intent({ zone: C, replicate: true }), cluster({ address: false, firewalls: false, healthCheck: false }));
    expect(r).toMatchObject({ type: 'refuse', nothingChanged: true });
    if (r.type === 'refuse') expect(r.problem).toContain('no cluster "kubernetes-master"');
  });
  test('refuses a zone in another region, naming the region and the zones to use', () => {
    const r = plan(intent({ zone: 'us-central1-a', replicate: true }), one());
    expect(r.type).toBe('refuse');
    if (r.type === 'refuse') {
      expect(r.problem).toContain('us-central1-a is in region us-central1');
      expect(r.fix).toContain('europe-west1-b, europe-west1-c, europe-west1-d');
    }
  });
  test('refuses an unknown zone', () => {
    const r = plan(intent({ zone: 'europe-west9-z', replicate: true }), one());
    expect(r.type === 'refuse' && r.problem).toContain('does not exist');
  });
  test('1 -> 2: VM, certificate, learner, promotion, then the load balancer with the IP moved last', () => {
    const { steps, end, state } = converge(intent({ zone: C, replicate: true }), one());
    expect(steps.map((s) => s.kind)).toEqual([
      'createReplica',
      'setMemberCerts',
      'addLearner',
      'promoteLearner',
      'createTargetPool',
      'detachStaticIp',
      'createForwardingRule',
      'attachEphemeralIp',
      'writeJournal',
    ]);
    expect(steps[0]).toMatchObject({ kind: 'createReplica', zone: C, first: false, seeds: [M], request: 'r1' });
    expect(steps[4]).toMatchObject({ kind: 'createTargetPool' });
    expect((steps[4] as Extract<Step, { kind: 'createTargetPool' }>).instances).toHaveLength(2);
    expect(end.type).toBe('done');
    expect(state.forwardingRule).toBeDefined();
    expect(state.replicas.every((r) => r.inTargetPool)).toBe(true);
  });
  test('a second run of the same request makes no step', () => {
    const { state } = converge(intent({ zone: C, replicate: true }), one());
    expect(plan(intent({ zone: C, replicate: true }), state).type).toBe('done');
  });
  test('a new request adds another replica', () => {
    const { state } = converge(intent({ zone: C, replicate: true }), one());
    const next = plan(intent({ zone: D, replicate: true, requestId: 'r2' }), state);
    expect(stepOf(next)).toMatchObject({ kind: 'createReplica', zone: D, request: 'r2' });
  });
  test('the name of the new replica is the same on a re-run that died before the VM existed', () => {
    const a = stepOf(plan(intent({ zone: C, replicate: true }), one()));
    const b = stepOf(plan(intent({ zone: C, replicate: true }), one()));
    expect(a).toEqual(b);
    expect((a as { replica: string }).replica).toMatch(/^kubernetes-master-[0-9a-f]{3}$/);
  });
  test('refuses to add while a replica is unhealthy, naming it and the fix', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C), replica('bbb', D, deadEtcd()));
    const r = plan(intent({ zone: D, replicate: true }), s);
    expect(r.type).toBe('refuse');
    if (r.type === 'refuse') {
      expect(r.problem).toContain('kubernetes-master-bbb (its etcd member does not answer)');
      expect(r.fix).toContain('operation: replace, replica-name: kubernetes-master-bbb');
    }
  });
  test('finishes a half-added replica of an earlier run before anything else', () => {
    const s = cluster({}, replica('', B, leader(), staticIp()), replica('abc', C, noCerts(), request('r1')));
    expect(stepOf(plan(intent({ zone: C, replicate: true }), s))).toMatchObject({ kind: 'setMemberCerts', replica: `${M}-abc` });
    const s2 = cluster({}, replica('', B, leader(), staticIp()), replica('abc', C, learner(), request('r1')));
    expect(stepOf(plan(intent({ zone: B }), s2))).toMatchObject({ kind: 'promoteLearner', replica: `${M}-abc` });
  });
});

describe('down, delete-nodes false', () => {
  const three = () => cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C), replica('bbb', D));
  test('journals the victim first, then pool, leader move, member, VM, journal done', () => {
    const i = intent({ operation: 'down', deleteNodes: false, replicaName: M, zone: B });
    const { steps, end } = converge(i, three());
    expect(steps.map((s) => s.kind)).toEqual([
      'writeJournal',
      'removeFromTargetPool',
      'moveLeader',
      'removeMember',
      'deleteReplica',
      'writeJournal',
    ]);
    expect(end.type).toBe('done');
  });
  test('a dead replica can be removed; no leader move', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C), replica('bbb', D, stopped()));
    const { steps, end } = converge(intent({ operation: 'down', deleteNodes: false, zone: D }), s);
    expect(steps.map((s) => s.kind)).toEqual(['writeJournal', 'removeFromTargetPool', 'removeMember', 'deleteReplica', 'writeJournal']);
    expect(end.type).toBe('done');
  });
  test('refuses a removal that would lose quorum, with the numbers', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C), replica('bbb', D, deadEtcd()));
    const r = plan(intent({ operation: 'down', deleteNodes: false, replicaName: `${M}-aaa` }), s);
    expect(r).toMatchObject({ type: 'refuse', nothingChanged: true });
    if (r.type === 'refuse') expect(r.problem).toContain('leaves 2 voting members with 1 healthy; quorum needs 2');
  });
  test('refuses the last replica', () => {
    const r = plan(intent({ operation: 'down', deleteNodes: false, zone: B }), cluster({}, replica('', B, leader(), staticIp())));
    expect(r.type === 'refuse' && r.fix).toContain('delete-nodes: true');
  });
  test('no replica in the zone is an error, never a guess', () => {
    const r = plan(
      intent({ operation: 'down', deleteNodes: false, zone: 'europe-west1-d' }),
      cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C), replica('bbb', C)),
    );
    expect(r.type === 'refuse' && r.problem).toContain('no replica of kubernetes-master in zone europe-west1-d');
  });
  test('a named replica must be in gce-zone', () => {
    const r = plan(intent({ operation: 'down', deleteNodes: false, zone: D, replicaName: `${M}-aaa` }), three());
    expect(r.type === 'refuse' && r.problem).toContain('is in zone europe-west1-c, not in gce-zone europe-west1-d');
  });
  test('an unknown replica name is refused with the list of replicas', () => {
    const r = plan(intent({ operation: 'down', deleteNodes: false, replicaName: 'kubernetes-master-zzz' }), three());
    expect(r.type === 'refuse' && r.fix).toContain('kubernetes-master-aaa (europe-west1-c)');
  });
  test('2 -> 1 removes the load balancer and puts the static IP back on the last replica', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C));
    const { steps, state } = converge(intent({ operation: 'down', deleteNodes: false, zone: C }), s);
    expect(steps.map((x) => x.kind)).toEqual([
      'writeJournal',
      'removeFromTargetPool',
      'removeMember',
      'deleteReplica',
      'writeJournal',
      'deleteForwardingRule',
      'attachStaticIp',
      'deleteTargetPool',
    ]);
    expect(state.replicas[0]!.hasStaticIp).toBe(true);
  });
  test('a second identical run after success makes no step', () => {
    const i = intent({ operation: 'down', deleteNodes: false, zone: D });
    const { state } = converge(i, three());
    expect(plan(i, state).type).toBe('done');
  });
  test('a run killed mid-removal is finished by the next run, on the same replica', () => {
    const i = intent({ operation: 'down', deleteNodes: false, zone: D });
    let s = three();
    for (let k = 0; k < 3; k++) s = applyIdeal(s, stepOf(plan(i, s)));
    const victim = s.journal[0]!.replica;
    const { state } = converge(i, s);
    expect(state.replicas.map((r) => r.name)).not.toContain(victim);
    expect(state.replicas).toHaveLength(2);
  });
});

describe('replace', () => {
  test('a healthy replica gives way after its successor serves (add first)', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C), replica('bbb', D));
    const { steps, state, end } = converge(intent({ operation: 'replace', replicaName: `${M}-aaa` }), s);
    expect(steps[0]).toMatchObject({ kind: 'createReplica', zone: C });
    expect(steps.findIndex((x) => x.kind === 'removeMember')).toBeGreaterThan(steps.findIndex((x) => x.kind === 'promoteLearner'));
    expect(end.type).toBe('done');
    expect(state.replicas.filter((r) => r.zone === C)).toHaveLength(1);
    expect(state.replicas.map((r) => r.name)).not.toContain(`${M}-aaa`);
  });
  test('a learner that never caught up (its start-up failed) is replaced, not promoted first', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C), replica('bbb', D, learner()));
    const first = stepOf(plan(intent({ operation: 'replace', replicaName: `${M}-bbb` }), s));
    expect(first.kind).not.toBe('promoteLearner');
    const { steps, state, end } = converge(intent({ operation: 'replace', replicaName: `${M}-bbb` }), s);
    expect(steps.filter((x) => x.kind === 'promoteLearner' && x.replica === `${M}-bbb`)).toEqual([]);
    expect(end.type).toBe('done');
    expect(state.replicas.map((r) => r.name)).not.toContain(`${M}-bbb`);
    // Any other request still finishes the learner first.
    expect(stepOf(plan(intent({ zone: B }), s))).toMatchObject({ kind: 'promoteLearner', replica: `${M}-bbb` });
  });
  test('a broken replica leaves first (etcd refuses to add while a voter is down)', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C, stopped()), replica('bbb', D));
    const { steps, state, end } = converge(intent({ operation: 'replace', zone: C }), s);
    expect(steps[0]).toMatchObject({ kind: 'writeJournal', entry: { replica: `${M}-aaa`, phase: 'removing' } });
    expect(steps.findIndex((x) => x.kind === 'createReplica')).toBeGreaterThan(steps.findIndex((x) => x.kind === 'removeMember'));
    expect(end.type).toBe('done');
    expect(state.replicas).toHaveLength(3);
    expect(state.etcd.members.every((m) => m.healthy && !m.isLearner)).toBe(true);
  });
  test('a replica whose VM is gone: its member goes, a new one comes in the same zone', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C, vmGone()), replica('bbb', D));
    const { state, end } = converge(intent({ operation: 'replace', replicaName: `${M}-aaa`, zone: C }), s);
    expect(end.type).toBe('done');
    expect(state.etcd.members).toHaveLength(3);
    expect(state.replicas.filter((r) => r.zone === C)).toHaveLength(1);
  });
  test('no unhealthy replica in the zone: done, nothing to replace (a scheduled repair stays green)', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C), replica('bbb', D));
    expect(plan(intent({ operation: 'replace', zone: C }), s)).toEqual({
      type: 'done',
      reason: 'every replica in zone europe-west1-c is healthy: nothing to replace',
    });
  });
  test('without a name or zone, every unhealthy replica is replaced, one at a time', () => {
    const s = cluster(
      { lb: 'full' },
      replica('', B, leader()),
      replica('a01', C),
      replica('a02', D),
      replica('a03', C, stopped()),
      replica('a04', D, deadEtcd()),
    );
    const { steps, state, end } = converge(intent({ operation: 'replace' }), s, 120);
    expect(end.type).toBe('done');
    expect(end.type === 'done' && end.reason).toMatch(/^replaced kubernetes-master-a0[34] -> .*, kubernetes-master-a0[34] -> /);
    expect(state.replicas.map((r) => r.name)).not.toEqual(expect.arrayContaining([`${M}-a03`]));
    expect(state.replicas.map((r) => r.name)).not.toEqual(expect.arrayContaining([`${M}-a04`]));
    expect(state.replicas).toHaveLength(5);
    expect(state.etcd.members.every((m) => m.healthy && !m.isLearner)).toBe(true);
    expect(
      steps
        .filter((x) => x.kind === 'createReplica')
        .map((x) => (x as { zone: string }).zone)
        .sort(),
    ).toEqual([C, D]);
  });
  test('re-running a finished replace changes nothing', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C, stopped()), replica('bbb', D));
    const i = intent({ operation: 'replace', zone: C });
    const { state } = converge(i, s);
    expect(plan(i, state).type).toBe('done');
  });
});

describe('replicas: N', () => {
  test('1 -> 3 spreads over three zones, one at a time', () => {
    const { state, end } = converge(intent({ replicas: 3 }), cluster({}, replica('', B, leader(), staticIp())), 80);
    expect(end.type).toBe('done');
    expect(new Set(state.replicas.map((r) => r.zone))).toEqual(new Set([B, C, D]));
    expect(state.etcd.members.filter((m) => !m.isLearner)).toHaveLength(3);
  });
  test('5 -> 3 removes from the most crowded zone first', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('a01', B), replica('a02', C), replica('a03', C), replica('a04', D));
    const first = stepOf(plan(intent({ replicas: 3 }), s));
    expect(first).toMatchObject({ kind: 'writeJournal', entry: { phase: 'removing' } });
    const { state, end } = converge(intent({ replicas: 3 }), s, 80);
    expect(end.type).toBe('done');
    expect(new Set(state.replicas.map((r) => r.zone))).toEqual(new Set([B, C, D]));
  });
  test('up + replicas: 3 on an empty project creates the first master in gce-zone, then spreads', () => {
    const empty = cluster({ address: false, firewalls: false, healthCheck: false });
    const { state, end } = converge(
      intent({ replicas: 3, zone: C }),
      { ...empty, replicas: [], etcd: { reachable: false, members: [] } },
      80,
    );
    expect(end.type).toBe('done');
    expect(state.replicas.find((r) => r.name === M)?.zone).toBe(C);
    expect(new Set(state.replicas.map((r) => r.zone))).toEqual(new Set([B, C, D]));
  });
  test('creating a cluster without any zone is refused before anything is written', () => {
    const empty = cluster({ address: false, firewalls: false, healthCheck: false });
    const r = plan(intent({ replicas: 3 }), { ...empty, region: undefined, replicas: [], etcd: { reachable: false, members: [] } });
    expect(r).toMatchObject({ type: 'refuse', nothingChanged: true });
    expect(r.type === 'refuse' && r.fix).toContain('gce-zone');
  });
  test('the zones input limits placement', () => {
    const r = plan(intent({ replicas: 3, zones: [D] }), cluster({}, replica('', B, leader(), staticIp())));
    expect(stepOf(r)).toMatchObject({ kind: 'createReplica', zone: D });
  });
});

describe('etcd members without VMs', () => {
  test('an unstarted member whose VM is gone is removed', () => {
    const s = cluster(
      { lb: 'full' },
      replica('', B, leader()),
      replica('aaa', C),
      replica('bbb', D),
      replica('ccc', D, unstartedMember(), learner(), vmGone()),
    );
    expect(stepOf(plan(intent({ operation: 'up', zone: B }), s))).toMatchObject({ kind: 'removeMember' });
  });
  test('a dead orphan voter is removed only while quorum holds', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C, deadEtcd()), replica('bbb', D, vmGone(), deadEtcd()));
    const r = plan(intent({ zone: B }), s);
    expect(r.type === 'step' && r.step.kind === 'removeMember').toBe(false);
  });
});

describe('status', () => {
  test('never plans a write', () => {
    const s = cluster({}, replica('', B, leader(), staticIp()), replica('abc', C, noCerts()));
    expect(plan(intent({ operation: 'status' }), s).type).toBe('done');
  });
});

describe('down, delete-nodes true', () => {
  test('node groups go first, then their templates, as kube-down did', () => {
    const s = {
      ...cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C), replica('bbb', D)),
      nodeGroups: [{ name: 'kubernetes-minion-group', zone: B }],
      nodeTemplates: ['kubernetes-minion-template'],
    };
    const { steps, end } = converge(intent({ operation: 'down', deleteNodes: true, zone: B }), s);
    expect(steps.slice(0, 3).map((x) => x.kind)).toEqual(['deleteNodeGroup', 'deleteNodeTemplate', 'deleteForwardingRule']);
    expect(end.type).toBe('done');
  });
  test("node names are matched in full: another cluster's nodes are not this cluster's", () => {
    expect(isNodeGroupName(names, 'kubernetes-minion-group')).toBe(true);
    expect(isNodeGroupName(names, 'kubernetes-minion-group-2')).toBe(true);
    expect(isNodeGroupName(names, 'kubernetes-windows-node-group')).toBe(true);
    expect(isNodeGroupName(names, 'kubernetes-foo-minion-group')).toBe(false);
    expect(isNodeGroupName(names, 'kubernetes-minion-template')).toBe(false);
    expect(isNodeTemplateName(names, 'kubernetes-minion-template')).toBe(true);
    expect(isNodeTemplateName(clusterNames('k8s.io'), 'k8sxio-minion-template')).toBe(false);
  });
  test('deletes the load balancer, VMs, health check, firewalls, then the address', () => {
    const s = cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C), replica('bbb', D, noExternalIp()));
    const { steps, end } = converge(intent({ operation: 'down', deleteNodes: true, zone: B }), s);
    expect(steps.map((x) => x.kind)).toEqual([
      'deleteForwardingRule',
      'deleteTargetPool',
      'deleteReplica',
      'deleteReplica',
      'deleteReplica',
      'deleteHealthCheck',
      'deleteFirewall',
      'deleteFirewall',
      'deleteFirewall',
      'deleteAddress',
    ]);
    expect(end.type).toBe('done');
  });
});

describe('transport: iap', () => {
  const iap = (over: Partial<Intent> = {}): Intent => intent({ transport: 'iap', ...over });
  test('a new cluster gets the IAP firewall with the others, before its first master', () => {
    const empty = cluster({ address: false, firewalls: false, healthCheck: false });
    const { steps } = converge(iap({ zone: B }), { ...empty, replicas: [], etcd: { reachable: false, members: [] } });
    expect(steps.map((s) => (s.kind === 'createFirewall' ? `createFirewall ${s.name}` : s.kind))).toEqual([
      'createAddress',
      `createFirewall ${names.firewallHttps}`,
      `createFirewall ${names.firewallEtcd}`,
      `createFirewall ${names.firewallHealthChecks}`,
      `createFirewall ${names.firewallIap}`,
      'createHealthCheck',
      'createReplica',
      'setMemberCerts',
    ]);
  });
  test('a cluster made from a self-hosted runner gets it the first time a run goes through IAP, whatever the operation', () => {
    const s = cluster({}, replica('', B, leader(), staticIp()));
    expect(plan(intent({ zone: B }), s).type).toBe('done');
    for (const i of [iap({ zone: B }), iap({ zone: C, replicate: true }), iap({ operation: 'replace', replicaName: M })]) {
      expect(stepOf(plan(i, s))).toEqual({ kind: 'createFirewall', name: names.firewallIap });
    }
  });
  test('status writes nothing, not even the rule', () => {
    expect(plan(iap({ operation: 'status' }), cluster({}, replica('', B, leader(), staticIp()))).type).toBe('done');
  });
  test('a teardown deletes the IAP firewall with the others', () => {
    const s = cluster({}, replica('', B, leader()));
    const withIap = { ...s, firewalls: [...s.firewalls, names.firewallIap] };
    const { steps } = converge(intent({ operation: 'down', deleteNodes: true, zone: B }), withIap);
    expect(steps.filter((x) => x.kind === 'deleteFirewall').map((x) => (x as { name: string }).name)).toContain(names.firewallIap);
  });
});

describe('keys in Secret Manager', () => {
  const withSecrets = (s: ClusterState): ClusterState => ({
    ...s,
    secrets: [names.secretClusterKeys, names.secretEtcdCaKey, `${M}-replica-keys`],
  });
  test("a teardown deletes the cluster's secrets after its VMs and firewalls, before the address (it holds the journal)", () => {
    const { steps, end } = converge(
      intent({ operation: 'down', deleteNodes: true, zone: B }),
      withSecrets(cluster({}, replica('', B, leader()))),
    );
    const kinds = steps.map((x) => x.kind);
    expect(kinds.slice(-4)).toEqual(['deleteSecret', 'deleteSecret', 'deleteSecret', 'deleteAddress']);
    expect(kinds.indexOf('deleteSecret')).toBeGreaterThan(kinds.lastIndexOf('deleteReplica'));
    expect(end.type).toBe('done');
  });
  test("an old cluster's keys move, one replica per step, before anything else changes; status moves nothing", () => {
    const s = { ...cluster({ lb: 'full' }, replica('', B, leader()), replica('aaa', C)), inlineKeys: [M, `${M}-aaa`] };
    const { steps } = converge(intent({ zone: D, replicate: true }), s);
    expect(steps.slice(0, 3).map((x) => (x.kind === 'moveKeys' ? `moveKeys ${x.replica}` : x.kind))).toEqual([
      `moveKeys ${M}`,
      `moveKeys ${M}-aaa`,
      'createReplica',
    ]);
    expect(plan(intent({ operation: 'status' }), s).type).toBe('done');
    expect(shapeWarnings(s)).toContainEqual(expect.stringContaining(`the metadata of ${M}, ${M}-aaa holds the cluster's private keys`));
    // Nothing else to do: the move alone is the run.
    const same = converge(intent({ zone: B }), s);
    expect(same.steps.map((x) => x.kind)).toEqual(['moveKeys', 'moveKeys']);
    expect(same.end.type).toBe('done');
  });
});

describe('certificate expiry', () => {
  const at = (what: string, days: number): ClusterState => {
    const s = cluster({}, replica('', B, leader(), staticIp()));
    return { ...s, certExpiry: { what, notAfter: new Date(Date.parse(s.observedAt) + days * 86_400_000).toISOString() } };
  };
  test('warns 30 days ahead, naming the replica to replace, or saying a shared certificate cannot be rotated yet', () => {
    expect(shapeWarnings(at(`${M}-aaa ETCD_MEMBER_CERT`, 40)).join('\n')).not.toContain('expires');
    expect(shapeWarnings(at(`${M}-aaa ETCD_MEMBER_CERT`, 20))).toContainEqual(
      expect.stringContaining(`replace ${M}-aaa before then (operation: replace, replica-name: ${M}-aaa)`),
    );
    expect(shapeWarnings(at('CA_CERT', 20))).toContainEqual(expect.stringContaining('cannot rotate the shared certificates yet'));
  });
});
