// The bundled action as a self-hosted runner inside the VPC runs it (`ip netns exec <vpc> node
// dist/index.js`), against Debian VMs that boot its start-up script: it reaches the Compute API and
// the release mirror at their in-VPC addresses and etcd through the firewall rule the runner's owner
// adds; kubectl, from outside the VPC, reaches the cluster through the kubeconfig output's external
// IP before and after the IP moves to the load balancer.
import { privateKeysGcloudSees } from '../support/metadata-scan.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { DebianRuntime } from '../../emulator/vm/runtime.ts';
import { API_IP, MIRROR_IP, hostNamesFor } from '../../emulator/vm/names.ts';
import { allowSelfHostedRunner } from '../../scripts/runner-firewall.ts';
import { debianSupport, debianTest, hostLeftovers, startDebianEmulator } from '../support/debian-vms.ts';
import { kubectlRaw, runDist } from '../support/run-dist.ts';

const PROJECT = 'dist-debian';
let emulator: RunningEmulator;
let dir: string;
let insideVpc: string[] = [];

beforeAll(async () => {
  if (!debianSupport.ok) return;
  dir = mkdtempSync(join(tmpdir(), 'ha-dist-debian-'));
  emulator = await startDebianEmulator();
  insideVpc = ['ip', 'netns', 'exec', await (emulator.runtime as DebianRuntime).ensureVpc('default')];
  await allowSelfHostedRunner(emulator.url, PROJECT);
}, 180_000);

afterAll(async () => {
  if (!emulator) return;
  await emulator.stop();
  expect(hostLeftovers(hostNamesFor(emulator.stateDir).prefix, emulator.stateDir)).toEqual([]);
  rmSync(emulator.stateDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const step = (inputs: Record<string, string>) =>
  runDist(
    dir,
    {
      project: PROJECT,
      'compute-endpoint': `http://${API_IP}`,
      'secret-manager-endpoint': `http://${API_IP}`,
      'release-manifest': `http://${MIRROR_IP}/release/manifest.json`,
      ...inputs,
    },
    { GCE_METADATA_HOST: `${API_IP}:80` },
    insideVpc,
  );

debianTest(
  'kube-up, replicate (1 -> 2), status and kube-down: the bundled action inside the VPC, kubectl from outside',
  async () => {
    const created = await step({
      'kube-env': 'MULTIZONE=true KUBE_GCE_ZONE=europe-west1-b ENABLE_ETCD_QUORUM_READS=true ./cluster/kube-up.sh',
    });
    expect(created.code).toBe(0);
    expect(created.outputs['external-ip']).toMatch(/^127\.\d+\.\d+\.\d+$/);
    const [first] = JSON.parse(created.outputs['replicas-json']!) as { name: string; status: string; role: string; healthy: boolean }[];
    expect(first).toMatchObject({ name: 'kubernetes-master', status: 'RUNNING', role: 'voter', healthy: true });
    expect(await kubectlRaw(created.outputs.kubeconfig!, '/readyz')).toEqual({ code: 0, out: 'ok' });
    // Issue 9: no private key where compute.instances.get reaches; the keys are in Secret Manager.
    expect(await privateKeysGcloudSees(emulator.url, PROJECT)).toEqual([]);
    expect(await clusterSecrets()).toEqual([
      'kubernetes-master-cluster-keys',
      'kubernetes-master-etcd-ca-key',
      'kubernetes-master-replica-keys',
    ]);

    const replicated = await step({ 'kube-env': 'KUBE_GCE_ZONE=europe-west1-c KUBE_REPLICATE_EXISTING_MASTER=true ./cluster/kube-up.sh' });
    expect(replicated.code).toBe(0);
    expect(replicated.outputs['replica-count']).toBe('2');
    expect(replicated.outputs['load-balancer']).toBe('true');
    expect(replicated.outputs['external-ip']).toBe(created.outputs['external-ip']);
    expect(await kubectlRaw(replicated.outputs.kubeconfig!, '/readyz')).toEqual({ code: 0, out: 'ok' });
    // The summary names the replicas that lead kube-controller-manager and kube-scheduler.
    expect(replicated.summary).toMatch(/kube-system\/kube-scheduler`\s*\|\s*replica `kubernetes-master(-[0-9a-f]{3})?`/);
    expect(await privateKeysGcloudSees(emulator.url, PROJECT)).toEqual([]);
    expect(await clusterSecrets()).toHaveLength(4);

    const status = await step({ operation: 'status', 'gce-zone': 'europe-west1-c' });
    expect(status.code).toBe(0);
    expect(status.outputs.changed).toBe('false');
    expect((JSON.parse(status.outputs['replicas-json']!) as { healthy: boolean }[]).every((r) => r.healthy)).toBe(true);

    const down = await step({ 'kube-env': 'KUBE_DELETE_NODES=true ./cluster/kube-down.sh', 'gce-zone': 'europe-west1-c' });
    expect(down.code).toBe(0);
    // With KUBE_DELETE_NODES=true kube-down tears the whole cluster down; the VMs are gone.
    expect(down.outputs['replica-count']).toBe('0');
    const res = await fetch(`${emulator.url}/compute/v1/projects/${PROJECT}/aggregated/instances`);
    expect(res.status).toBe(200);
    const listed = JSON.stringify(await res.json());
    expect(listed).not.toContain('kubernetes-master');
    expect(await clusterSecrets()).toEqual([]);
  },
  420_000,
);

/** Secrets labelled with the cluster, as the runner's identity lists them. */
async function clusterSecrets(): Promise<string[]> {
  const token = (await (
    await fetch(`${emulator.url}/computeMetadata/v1/instance/service-accounts/default/token`, { headers: { 'Metadata-Flavor': 'Google' } })
  ).json()) as { access_token: string };
  const res = await fetch(`${emulator.url}/v1/projects/${PROJECT}/secrets?filter=labels.ha-masters-cluster=kubernetes-master`, {
    headers: { authorization: `Bearer ${token.access_token}` },
  });
  const body = (await res.json()) as { secrets?: { name: string }[] };
  return (body.secrets ?? []).map((s) => s.name.split('/').pop()!).sort();
}
