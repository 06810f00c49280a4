// The engine against real Debian 12 VMs that boot the action's own start-up script (the emulator's
// Debian runtime): a first master, the 1 -> 2 step that builds the load balancer, kubectl through
// the external IP before and after the IP moves, a tampered release refused with its reason, the
// broken replica (its start-up failed) replaced by repair at once, a quorum lost and recovered from
// the survivor's data (its start-up script forcing a new cluster), and a teardown that leaves
// nothing on the host. The test process has no route into the VPC: the engine reaches the VMs through the emulator's IAP relay, as on a
// GitHub-hosted runner (HA_TEST_REACH=inside-vpc runs it as a self-hosted runner in the VPC).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Intent, RunReport } from '../../src/model.ts';
import { clusterNames, replicaKeysSecret } from '../../src/model.ts';
import { privateKeysGcloudSees } from '../support/metadata-scan.ts';
import { writeAdminKubeconfig } from '../../src/kube/kubeconfig.ts';
import { intent as baseIntent } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';
import { debianTest, hostLeftovers } from '../support/debian-vms.ts';
import { hostNamesFor } from '../../emulator/vm/names.ts';
import { replacedReplicas } from '../../src/report/outputs.ts';

const run = promisify(execFile);
const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
let world: EngineWorld;
const emulatorLog: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'ha-debian-engine-'));

const intent = (over: Partial<Intent>): Intent =>
  baseIntent({
    project: PROJECT,
    requestId: `req-${Math.random().toString(16).slice(2, 10)}`,
    ...(world.release ? { release: world.release } : {}),
    ...over,
  });
const slow = () => world.withLimits({ readyTimeoutMs: 120_000 });

beforeAll(async () => {
  if (!(await import('../support/debian-vms.ts')).debianSupport.ok) return;
  world = await startEngineWorld({ vmRuntime: 'debian', emulatorLog });
}, 180_000);

afterAll(async () => {
  if (world) {
    const stateDir = world.stateDir;
    await world.stop();
    expect(hostLeftovers(hostNamesFor(stateDir).prefix, stateDir)).toEqual([]);
  }
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** kubectl from the test process (outside the VPC) through the cluster's external IP, as admin. */
async function kubectl(report: RunReport, ...args: string[]): Promise<string> {
  const { secrets } = await world.secrets();
  const ip = report.state.address?.ip ?? report.state.forwardingRule?.ip;
  const file = await writeAdminKubeconfig({ apiCa: secrets.apiCa, master: 'kubernetes-master', externalIp: ip!, ttlMs: 10 * 60_000, dir });
  const { stdout } = await run('kubectl', ['--kubeconfig', file.path, '--request-timeout=10s', ...args]);
  return stdout.trim();
}
const kubectlReadyz = (report: RunReport): Promise<string> => kubectl(report, 'get', '--raw', '/readyz');

const serial = (key: string): string => world.debian!.serialOutput(key).toString();

debianTest(
  'up: the first master boots Debian, runs the shipped start-up script and serves kubectl on the static IP',
  async () => {
    const report = await slow().run(intent({ zone: B }));
    expect(report.state.etcd.members.map((m) => [m.name, m.healthy])).toEqual([['etcd-kubernetes-master', true]]);
    const console = serial(`${B}/kubernetes-master`);
    expect(console).toContain('startup-script: ha-masters-startup: formatting /dev/disk/by-id/google-kubernetes-master-pd');
    expect(console).toMatch(/startup-script: ha-masters-startup: downloading kubernetes-server v1\.34\.\d+/);
    expect(console).toContain('startup-script: ha-masters-startup: ok');
    expect(await world.compute.getGuestAttribute(B, 'kubernetes-master', 'ha-masters/startup')).toBe('ok');
    // The units the script wrote, as systemd in the VM sees them.
    const active = await world.debian!.exec(`${B}/kubernetes-master`, [
      'systemctl',
      'is-active',
      'ha-etcd',
      'ha-kube-apiserver',
      'ha-kube-controller-manager',
      'ha-kube-scheduler',
      'ha-readyz.socket',
    ]);
    expect(active.trim().split('\n')).toEqual(['active', 'active', 'active', 'active', 'active']);
    expect(await kubectlReadyz(report)).toBe('ok');
  },
  240_000,
);

debianTest(
  '1 -> 2: the replica joins as a learner, the load balancer takes the static IP, kubectl still answers there',
  async () => {
    const report = await slow().run(intent({ zone: C, replicate: true }));
    expect(report.state.etcd.members.filter((m) => m.healthy && !m.isLearner)).toHaveLength(2);
    expect(report.state.forwardingRule?.ip).toBe(report.state.address?.ip);
    const joined = report.state.replicas.find((r) => r.zone === C)!;
    const console = serial(`${C}/${joined.name}`);
    expect(console).toContain('--initial-cluster-state=existing');
    // One kube-scheduler leads across both replicas: the lease names one replica, and only that
    // replica's scheduler says it acquired it.
    const holder = await kubectl(report, 'get', 'lease', '-n', 'kube-system', 'kube-scheduler', '-o', 'jsonpath={.spec.holderIdentity}');
    const leader = report.state.replicas.find((r) => holder.startsWith(`${r.name}_`));
    expect(leader).toBeDefined();
    for (const r of report.state.replicas) {
      const journal = await world.debian!.exec(`${r.zone}/${r.name}`, ['journalctl', '-u', 'ha-kube-scheduler', '--no-pager', '-o', 'cat']);
      expect([r.name, /successfully acquired lease kube-system\/kube-scheduler/.test(journal)]).toEqual([r.name, r === leader]);
    }
    expect(await kubectlReadyz(report)).toBe('ok');
  },
  240_000,
);

debianTest(
  'a tampered kube-server archive leaves the new replica unready, and the run says why',
  async () => {
    await world.admin('mirror-tamper', { artifact: 'kubernetes-server', tampered: true });
    try {
      // The VM says so as soon as the mirror serves the same wrong file twice; the run stops waiting
      // for the learner then, instead of at its deadline.
      const logged = world.logs.length;
      await expect(world.withLimits({ readyTimeoutMs: 150_000 }).run(intent({ zone: D, replicate: true }))).rejects.toThrow(
        /kubernetes-server sha512 mismatch \(the mirror serves [0-9a-f]{16}\.\.\. every time\)/,
      );
      expect(world.logs.slice(logged)).toContainEqual(
        expect.stringMatching(/reported a failed start-up: no longer waiting for its learner to catch up$/),
      );
    } finally {
      await world.admin('mirror-tamper', { artifact: 'kubernetes-server', tampered: false });
    }
    const broken = (await world.compute.listInstances('kubernetes-master')).find((v) => v.zone === D)!;
    expect(serial(`${D}/${broken.name}`)).toContain('kubernetes-server sha512 mismatch');
    // Nothing unverified was installed or started.
    expect(await world.debian!.exec(`${D}/${broken.name}`, ['sh', '-c', 'ls /opt/ha-masters/bin 2>/dev/null | wc -l'])).toBe('0\n');
  },
  240_000,
);

debianTest(
  'repair swaps the replica whose start-up failed (a learner that never started) for a good one at once',
  async () => {
    const broken = (await world.compute.listInstances('kubernetes-master')).find((v) => v.zone === D)!;
    // Well within its learner grace period (10 min): the VM's own report of a failed start-up is enough.
    const repair = { maxRetries: 3, retryPeriodMs: 0, minHealthyPeriodMs: 3_600_000, zonePolicy: 'same' as const, learnerGraceMs: 600_000 };
    const replaced = await slow().run(intent({ operation: 'repair', repair }));
    expect(replacedReplicas(replaced)).toEqual([broken.name]);
    expect(replaced.state.replicas.map((r) => r.name)).not.toContain(broken.name);
    expect(replaced.state.replicas.find((r) => r.zone === D)).toBeDefined();
    expect(replaced.state.etcd.members.filter((m) => m.healthy && !m.isLearner)).toHaveLength(3);
    expect(await kubectlReadyz(replaced)).toBe('ok');
    // The removed replica's own keys went with it; every live replica has its own secret.
    const names = clusterNames('kubernetes');
    expect(await world.keys.listCluster(names)).toEqual(
      [names.secretClusterKeys, names.secretEtcdCaKey, ...replaced.state.replicas.map((r) => replicaKeysSecret(r.name))].sort(),
    );
    expect(await privateKeysGcloudSees(world.url, PROJECT)).toEqual([]);
  },
  400_000,
);

debianTest(
  'two of three etcd units stopped for good: recover has the survivor start with --force-new-cluster from its data (the shipped script), then three again; then down tears everything down',
  async () => {
    const before = (await world.run(intent({ operation: 'status' }))).state;
    const survivor = before.replicas.find((r) => r.name === 'kubernetes-master')!;
    const lost = before.replicas.filter((r) => r.name !== survivor.name);
    for (const r of lost) await world.admin('kill-etcd', { zone: r.zone, instance: r.name, keepDown: true });
    const snapshots = mkdtempSync(join(tmpdir(), 'ha-recover-'));
    try {
      const recovered = await slow().run(intent({ operation: 'recover' }), { snapshotDir: snapshots });
      expect(recovered.steps.map((s) => s.step.kind)).toContain('forceNewCluster');
      expect(recovered.snapshot?.path).toContain(snapshots);
      expect(recovered.state.replicas).toHaveLength(3);
      expect(recovered.state.etcd.members.filter((m) => m.healthy && !m.isLearner)).toHaveLength(3);
      expect(await kubectlReadyz(recovered)).toBe('ok');
      // The survivor's own script did it, once: its console says so, and the flag is gone again.
      expect(serial(`${survivor.zone}/${survivor.name}`)).toContain('etcd formed a new one-member cluster from its own data');
      expect(await world.debian!.exec(`${survivor.zone}/${survivor.name}`, ['cat', '/etc/ha-masters/etcd.env'])).toBe(
        'ETCD_INITIAL_FLAGS=""\n',
      );
    } finally {
      rmSync(snapshots, { recursive: true, force: true });
    }
    const names = clusterNames('kubernetes');
    const down = await slow().run(intent({ operation: 'down', deleteNodes: true }));
    expect(down.state.replicas).toEqual([]);
    expect(await world.keys.listCluster(names)).toEqual([]);
  },
  400_000,
);
