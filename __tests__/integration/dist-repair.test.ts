// `operation: repair` through the bundled action, against the emulator with real etcd: it writes
// nothing when all is well; it replaces a stopped VM and a dead etcd member in their own zones; its
// retry guard stops a replacement that keeps failing, with a clear failure; a zone DOWN keeps the
// replica where it is under repair-zone-policy: same (and fails the step) and moves its replacement
// under spread; a VM deleted behind its back is replaced once its orphan member is seen twice; five
// replicas with two dead get both replaced in one run; with quorum lost it changes nothing and gives
// the recovery plan, starting from the most advanced survivor, which recover then follows.
//
// The scenarios run on three clusters side by side, each in its own emulator (a zone outage is
// emulator-wide, and the emulator's VM processes are known by zone and name, so two projects'
// `kubernetes-master` in one zone would clash). On each cluster they run in order, each on the
// state the one before left; a scenario whose predecessor failed fails without running. The time
// jest shows for a scenario includes waiting for its predecessors. The quorum cluster sets the
// pace: five replicas are built, then recover alone takes about a minute.
import { bundleAgainstEmulator, type BundleRun } from '../support/run-bundle.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';

interface View {
  name: string;
  zone: string;
  healthy: boolean;
  role: string;
}
const replicasOf = (r: BundleRun): View[] => JSON.parse(r.outputs['replicas-json'] ?? '[]') as View[];
const firstLine = (md: string) => md.split('\n')[0];

/** Each cluster's scenarios, one after the other: started together once every emulator is up. */
const chains: (() => Promise<void>)[] = [];
let closing = false;

/**
 * A cluster in its own emulator, and `scenario`, which adds a test that runs on it after the ones
 * added before (concurrent with the other clusters' tests; its timeout covers its predecessors').
 */
function cluster(project: string) {
  const action = bundleAgainstEmulator(project);
  const steps: { name: string; fn: () => Promise<void>; settle: (error?: unknown) => void }[] = [];
  let budget = 0;

  function scenario(name: string, fn: () => Promise<void>, timeout: number): void {
    budget += timeout;
    let settle!: (error?: unknown) => void;
    const result = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))));
    result.catch(() => {}); // its test reports it, maybe later than it fails
    steps.push({ name, fn, settle });
    test.concurrent(name, () => result, budget);
  }

  chains.push(async () => {
    let failed: string | undefined;
    for (const step of steps) {
      if (failed || closing) {
        step.settle(new Error(failed ? `not run: "${failed}" failed before it on this cluster` : 'not run: the tests have ended'));
        continue;
      }
      try {
        await step.fn();
        step.settle();
      } catch (e) {
        failed = step.name;
        step.settle(e ?? new Error('failed'));
      }
    }
  });

  async function stopVm(zone: string, name: string): Promise<void> {
    const res = await fetch(`${action.emulator().url}/compute/v1/projects/${project}/zones/${zone}/instances/${name}/stop`, {
      method: 'POST',
    });
    expect(res.ok).toBe(true);
    // The stop is an operation: wait until GCE shows the VM TERMINATED.
    for (let i = 0; i < 100; i++) {
      const vm = (await (
        await fetch(`${action.emulator().url}/compute/v1/projects/${project}/zones/${zone}/instances/${name}`)
      ).json()) as {
        status: string;
      };
      if (vm.status === 'TERMINATED') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${name} did not stop`);
  }

  async function repair(inputs: Record<string, string> = {}): Promise<BundleRun> {
    return action.run({ operation: 'repair', 'gce-zone': B, ...inputs });
  }

  return { project, action, admin: action.admin, scenario, stopVm, repair };
}

// Before the emulators stop: a scenario still waiting then never starts.
afterAll(() => {
  closing = true;
});
const replacements = cluster('repair-world'); // healthy, stopped VM and dead member, retry guard
const outages = cluster('repair-outages'); // VM deleted behind its back, zone DOWN, five with two dead
const quorum = cluster('repair-quorum'); // quorum lost, recover
// After the emulators start.
beforeAll(() => {
  for (const chain of chains) void chain();
});

{
  const { action, admin, scenario, stopVm, repair, project } = replacements;

  scenario(
    'a healthy cluster: repair writes nothing',
    async () => {
      const up = await action.run({ operation: 'up', 'gce-zone': B, multizone: 'true', replicas: '3', zones: `${B},${C},${D}` });
      expect(up.code).toBe(0);
      const mark = await action.requestCount();
      const r = await repair();
      expect(r.code).toBe(0);
      expect(await action.writesSince(mark)).toEqual([]);
      expect(r.outputs.healthy).toBe('true');
      expect(r.outputs.repaired).toBe('');
      expect(firstLine(r.summary)).toMatch(/: done, no change was needed$/);
    },
    240_000,
  );

  scenario(
    'a stopped VM, then a dead etcd member, are replaced, each in its own zone',
    async () => {
      const before = replicasOf(await action.run({ operation: 'status', 'gce-zone': B }));
      const stopped = before.find((v) => v.zone === C)!;
      await stopVm(C, stopped.name);
      const first = await repair();
      expect(first.stdout).not.toMatch(/::error::/);
      expect(first.code).toBe(0);
      expect(first.outputs.repaired).toBe(stopped.name);
      expect(first.summary).toMatch(/Repaired: `kubernetes-master-[0-9a-f]{3}`; replacements `kubernetes-master-[0-9a-f]{3}`/);

      const dead = before.find((v) => v.zone === D)!;
      await admin('kill-etcd', { zone: D, instance: dead.name, keepDown: true });
      const second = await repair();
      expect(second.stdout).not.toMatch(/::error::/);
      expect(second.code).toBe(0);
      expect(second.outputs.repaired).toBe(dead.name);
      expect(second.outputs.healthy).toBe('true');
      const after = replicasOf(second);
      expect(after.map((v) => v.zone).sort()).toEqual([B, C, D]);
      expect(after.every((v) => v.healthy && v.role === 'voter')).toBe(true);
      expect(after.map((v) => v.name)).not.toContain(stopped.name);
      expect(after.map((v) => v.name)).not.toContain(dead.name);
    },
    300_000,
  );

  scenario(
    'a replacement that fails again within repair-min-healthy-period counts as a retry; past repair-max-retries repair stops and fails',
    async () => {
      const before = replicasOf(await action.run({ operation: 'status', 'gce-zone': B }));
      // The replacement made in D by the previous scenario: made by a repair minutes ago.
      const again = before.find((v) => v.zone === D)!;
      await admin('kill-etcd', { zone: D, instance: again.name, keepDown: true });

      const mark = await action.requestCount();
      const refused = await repair({ 'repair-max-retries': '0' });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(
        new RegExp(
          `::error::.*repair gives up on ${again.name} \\(its etcd member does not answer\\) was made by the 1st repair in a row and failed within repair-min-healthy-period \\(60 min\\) of its creation; 0 retries allowed \\(repair-max-retries\\)`,
        ),
      );
      expect(firstLine(refused.summary)).toMatch(/: REFUSED, nothing was changed/);
      expect(await action.writesSince(mark)).toEqual([]);

      // One retry allowed: the replacement is made, as the second repair in a row.
      const retried = await repair({ 'repair-max-retries': '1' });
      expect(retried.code).toBe(0);
      expect(retried.outputs.repaired).toBe(again.name);
      const made = replicasOf(retried).find((v) => v.zone === D)!;
      const vm = (await (
        await fetch(`${action.emulator().url}/compute/v1/projects/${project}/zones/${D}/instances/${made.name}`)
      ).json()) as {
        labels: Record<string, string>;
      };
      expect(vm.labels['ha-masters-repairs']).toBe('2');
    },
    300_000,
  );
}

{
  const { action, admin, scenario, repair, project } = outages;

  scenario(
    'a VM deleted outside the action: its member leaves once seen twice, and a successor restores the count',
    async () => {
      const up = await action.run({ operation: 'up', 'gce-zone': B, multizone: 'true', replicas: '3', zones: `${B},${C},${D}` });
      expect(up.code).toBe(0);
      const before = replicasOf(up);
      const gone = before.find((v) => v.zone === C)!;
      const res = await fetch(`${action.emulator().url}/compute/v1/projects/${project}/zones/${C}/instances/${gone.name}`, {
        method: 'DELETE',
      });
      expect(res.ok).toBe(true);
      for (let i = 0; i < 100 && replicasOf(await action.run({ operation: 'status', 'gce-zone': B })).length === 3; i++)
        await new Promise((r) => setTimeout(r, 200));

      const r = await repair();
      expect(r.stdout).not.toMatch(/::error::/);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`wait 5 s and look again \\(etcd member etcd-${gone.name} has no VM\\)`));
      expect(r.outputs.repaired).toBe(gone.name);
      expect(r.outputs.healthy).toBe('true');
      const after = replicasOf(r);
      expect(after).toHaveLength(3);
      expect(after.map((v) => v.name)).not.toContain(gone.name);
    },
    300_000,
  );

  scenario(
    'a zone DOWN: same keeps the replica and fails the step; spread replaces it in another zone',
    async () => {
      await admin('zone-down', { zone: D });
      try {
        const mark = await action.requestCount();
        const kept = await repair();
        expect(kept.code).toBe(1);
        expect(kept.stdout).toMatch(/::error::.*stays in europe-west1-d \(repair-zone-policy: same\), and europe-west1-d is DOWN/);
        expect(kept.stdout).toMatch(/set repair-zone-policy: spread/);
        expect(await action.writesSince(mark)).toEqual([]);

        const spread = await repair({ 'repair-zone-policy': 'spread' });
        expect(spread.stdout).not.toMatch(/::error::/);
        expect(spread.code).toBe(0);
        expect(spread.outputs.healthy).toBe('true');
        expect(
          replicasOf(spread)
            .map((v) => v.zone)
            .filter((z) => z === D),
        ).toEqual([]);
        expect(replicasOf(spread)).toHaveLength(3);
      } finally {
        await admin('zone-up', { zone: D });
      }
    },
    300_000,
  );

  scenario(
    'five replicas with two dead: both replaced in one run',
    async () => {
      const scaled = await action.run({ operation: 'up', 'gce-zone': B, replicas: '5', zones: `${B},${C},${D}` });
      expect(scaled.code).toBe(0);
      const five = replicasOf(scaled);
      expect(five).toHaveLength(5);
      const victims = five.filter((v) => v.name !== 'kubernetes-master').slice(0, 2);
      for (const v of victims) await admin('kill-etcd', { zone: v.zone, instance: v.name, keepDown: true });

      const r = await repair();
      expect(r.stdout).not.toMatch(/::error::/);
      expect(r.code).toBe(0);
      expect(r.outputs.repaired!.split(',').sort()).toEqual(victims.map((v) => v.name).sort());
      expect(replicasOf(r)).toHaveLength(5);
      expect(r.outputs.healthy).toBe('true');
    },
    420_000,
  );
}

{
  const { action, admin, scenario, repair } = quorum;

  scenario(
    'quorum lost: repair changes nothing, fails, and names the survivor to recover from',
    async () => {
      const up = await action.run({ operation: 'up', 'gce-zone': B, multizone: 'true', replicas: '5', zones: `${B},${C},${D}` });
      expect(up.code).toBe(0);
      const five = replicasOf(up);
      expect(five).toHaveLength(5);
      const victims = five.filter((v) => v.name !== 'kubernetes-master').slice(0, 3);
      for (const v of victims) await admin('kill-etcd', { zone: v.zone, instance: v.name, keepDown: true });
      const mark = await action.requestCount();
      const r = await repair();
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /::error::.*etcd of kubernetes-master has no quorum: 2 of 5 voters answer .*repair changes nothing without a quorum.*Fix: the survivor with the highest raft index is etcd-kubernetes-master(-[0-9a-f]{3})? \(applied index \d+\); run operation: recover with confirm: kubernetes-master and etcd-snapshot-dir/,
      );
      expect(firstLine(r.summary)).toMatch(/: REFUSED, nothing was changed/);
      expect(await action.writesSince(mark)).toEqual([]);
    },
    300_000,
  );

  scenario(
    'recover: refused without confirm and a snapshot directory, then rebuilds etcd from the survivor and is back at five',
    async () => {
      const mark = await action.requestCount();
      const unconfirmed = await action.run({ operation: 'recover', 'gce-zone': B });
      expect(unconfirmed.code).toBe(1);
      expect(unconfirmed.stdout).toMatch(
        /::error::.*confirm: recover rebuilds etcd from one surviving member .*Fix: set confirm: kubernetes-master/,
      );
      expect(unconfirmed.stdout).toMatch(/etcd-snapshot-dir: recover takes a snapshot of the surviving member/);
      expect(await action.writesSince(mark)).toEqual([]);

      const snapshots = `${action.dir()}/snapshots`;
      const r = await action.run({ operation: 'recover', 'gce-zone': B, confirm: 'kubernetes-master', 'etcd-snapshot-dir': snapshots });
      expect(r.stdout).not.toMatch(/::error::/);
      expect(r.code).toBe(0);
      expect(r.outputs['etcd-snapshot']).toContain(snapshots);
      expect(r.outputs.healthy).toBe('true');
      expect(replicasOf(r)).toHaveLength(5);
      expect(r.stdout).toMatch(/step \d+: set etcd-force-new-cluster on kubernetes-master(-[0-9a-f]{3})? in europe-west1-[bcd], reset it/);
      expect(firstLine(r.summary)).toMatch(/: done, changed the cluster \(\d+ writes\)$/);
    },
    420_000,
  );
}
