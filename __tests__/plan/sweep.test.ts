// A generated sweep: many cluster states x every kind of intent, each driven to the end in the
// ideal world. Whatever the state, the planner must never break a healthy quorum, never keep two
// learners, always end (done or refuse), refuse before changing anything when it refuses at once,
// and make no step when run again after "done".
import { plan } from '../../src/plan/ladder.ts';
import type { ClusterState, Intent, PlanResult, Step } from '../../src/model.ts';
import { quorumOf } from '../../src/plan/quorum.ts';
import { projectStep as applyIdeal } from '../../src/plan/project.ts';
import { M, cluster, deadEtcd, intent, leader, learner, noCerts, replica, staticIp, stopped } from '../support/cluster-builder.ts';
import type { BuiltReplica } from '../support/cluster-builder.ts';

const ZONES = ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'];
const HEALTH = ['ok', 'ok', 'ok', 'deadEtcd', 'stopped', 'learner', 'joining'] as const;

function rng(seed: number) {
  let x = seed >>> 0;
  return () => (x = (x * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

function randomState(rand: () => number): ClusterState {
  const n = 1 + Math.floor(rand() * 5);
  const built: BuiltReplica[] = [];
  let learners = 0;
  for (let i = 0; i < n; i++) {
    const zone = ZONES[Math.floor(rand() * 3)]!;
    let h = HEALTH[Math.floor(rand() * HEALTH.length)]!;
    if (i === 0) h = 'ok';
    if (h === 'learner' && learners++ > 0) h = 'ok';
    const mods = [] as ((r: BuiltReplica) => void)[];
    if (i === 0) mods.push(leader());
    if (h === 'deadEtcd') mods.push(deadEtcd());
    if (h === 'stopped') mods.push(stopped());
    if (h === 'learner') mods.push(learner());
    if (h === 'joining') mods.push(noCerts());
    built.push(replica(i === 0 ? '' : (0x100 + i).toString(16), zone, ...mods));
  }
  const voters = built.filter((b) => b.member && !b.member.isLearner).length;
  const lb = voters >= 2 ? 'full' : 'none';
  if (lb === 'none') mods0(built[0]!);
  return cluster({ lb }, ...built);
}
function mods0(b: BuiltReplica) {
  staticIp()(b);
}

function intents(s: ClusterState): Intent[] {
  const names = s.replicas.map((r) => r.name);
  return [
    intent({ zone: ZONES[0] }),
    intent({ operation: 'status' }),
    ...ZONES.map((z) => intent({ zone: z, replicate: true })),
    ...ZONES.map((z) => intent({ operation: 'down', deleteNodes: false, zone: z })),
    ...names.slice(0, 2).map((r) => intent({ operation: 'down', deleteNodes: false, replicaName: r })),
    ...names.slice(0, 2).map((r) => intent({ operation: 'replace', replicaName: r })),
    ...ZONES.map((z) => intent({ operation: 'replace', zone: z })),
    intent({ replicas: 1 }),
    intent({ replicas: 3 }),
    intent({ replicas: 5 }),
    intent({ operation: 'down', deleteNodes: true, zone: ZONES[0] }),
  ];
}

function healthyQuorum(s: ClusterState): boolean {
  const v = s.etcd.members.filter((m) => !m.isLearner);
  return v.length > 0 && v.filter((m) => m.healthy).length >= quorumOf(v.length);
}

function drive(i: Intent, start: ClusterState): { end: PlanResult; state: ClusterState; steps: Step[] } {
  let state = start;
  const steps: Step[] = [];
  for (let k = 0; k < 120; k++) {
    const r = plan(i, state);
    if (r.type === 'refuse' && k === 0) expect(r.nothingChanged).toBe(true);
    if (r.type !== 'step') return { end: r, state, steps };
    if (r.step.kind === 'waitReady') {
      const vm = state.replicas.find((x) => x.name === (r.step as { replica: string }).replica);
      const m = state.etcd.members.find((x) => vm?.internalIp && x.peerUrls.some((u) => u.includes(vm.internalIp!)));
      if (!m || m.isLearner || !m.healthy)
        return { end: { type: 'refuse', problem: 'would wait forever', fix: '', nothingChanged: false }, state, steps };
    }
    const before = state;
    state = applyIdeal(state, r.step);
    steps.push(r.step);
    const st = r.step;
    if (st.kind === 'removeMember') {
      expect(before.etcd.members.filter((m) => !m.isLearner && m.id !== st.memberId).length).toBeGreaterThan(0);
    }
    const teardown = i.operation === 'down' && i.deleteNodes;
    if (healthyQuorum(before) && !teardown) {
      if (state.replicas.length > 0 && !healthyQuorum(state)) throw new Error(`${r.step.kind} broke quorum (intent ${JSON.stringify(i)})`);
    }
    expect(state.etcd.members.filter((m) => m.isLearner).length).toBeLessThanOrEqual(1);
  }
  throw new Error(`no end after 120 steps for ${JSON.stringify(i)}: ${steps.map((s) => s.kind).join(',')}`);
}

test('invariants hold over 400 random clusters x every intent', () => {
  const rand = rng(20261124);
  let runs = 0,
    dones = 0;
  for (let k = 0; k < 400; k++) {
    const s = randomState(rand);
    for (const i of intents(s)) {
      const { end, state } = drive(i, s);
      runs++;
      if (end.type === 'done') {
        dones++;
        expect(plan(i, state).type).toBe('done');
      }
    }
  }
  expect(runs).toBeGreaterThan(5000);
  expect(dones).toBeGreaterThan(runs / 3);
  expect(M).toBe('kubernetes-master');
});
