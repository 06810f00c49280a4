// What the kube-controller-manager and kube-scheduler stand-ins do: read --kubeconfig, and with
// --leader-elect (default true) take part in leader election on kube-system/<component> like the
// real components (client-go's leader election); the leader then holds and renews the lease. No
// controllers or scheduling run. When the leader cannot renew for --leader-elect-renew-deadline it
// exits with status 1, as the real components do ("leaderelection lost"): run them under a
// restarting supervisor (systemd Restart=always), as the real ones must be.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { parseCommandLine } from './flags.ts';
import type { StandinName } from './flags.ts';
import { loadKubeconfig } from './kubeconfig.ts';
import { LeaseClient } from './lease-client.ts';
import { LeaderElector } from './leader-election.ts';
import { klog, structured } from './klog.ts';
import { kubeVersion } from './version.ts';
import { parseGoDuration } from './duration.ts';

const JITTER_FACTOR = 1.2; // wait.JitterUntil's factor in client-go's leader election

const STARTING: Record<'kube-controller-manager' | 'kube-scheduler', [string, string]> = {
  'kube-controller-manager': ['controllermanager.go:193', 'Starting'],
  'kube-scheduler': ['server.go:167', 'Starting Kubernetes Scheduler'],
};

export async function runControlPlaneComponent(component: 'kube-controller-manager' | 'kube-scheduler', argv: string[]): Promise<void> {
  const flags = parseCommandLine(component as StandinName, argv);
  const fail = (message: string): never => {
    process.stderr.write(`Error: ${message}\n`);
    process.exit(1);
  };
  const duration = (flag: string, fallbackMs: number): number => {
    const v = flags.get(flag);
    if (v === undefined) return fallbackMs;
    const ms = parseGoDuration(v);
    return ms === undefined
      ? fail(`invalid argument ${JSON.stringify(v)} for "--${flag}" flag: time: invalid duration ${JSON.stringify(v)}`)
      : ms;
  };
  const leaseDurationMs = duration('leader-elect-lease-duration', 15_000);
  const renewDeadlineMs = duration('leader-elect-renew-deadline', 10_000);
  const retryPeriodMs = duration('leader-elect-retry-period', 2_000);
  const leaderElect = flags.bool('leader-elect', true);
  if (leaderElect && leaseDurationMs <= renewDeadlineMs) fail('leaseDuration must be greater than renewDeadline');
  if (leaderElect && renewDeadlineMs <= retryPeriodMs * JITTER_FACTOR) fail(`renewDeadline must be greater than retryPeriod*JitterFactor`);

  const [source, message] = STARTING[component];
  klog.info(source, structured(message, { version: kubeVersion().gitVersion }));

  const kubeconfigPath = flags.get('kubeconfig');
  const master = flags.get('master');
  if (!kubeconfigPath && !master)
    fail('invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable');
  let rest;
  try {
    rest = kubeconfigPath ? loadKubeconfig(kubeconfigPath, master) : { server: master!, insecure: false };
  } catch (err) {
    return fail((err as Error).message);
  }

  const stopping = { now: false };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stopping.now = true;
      klog.info('server.go:284', '"Requested to terminate, exiting"');
      process.exit(0);
    });
  }
  if (!leaderElect) {
    setInterval(() => undefined, 1 << 30); // runs as the only instance, with no lease
    return;
  }

  const version = kubeVersion();
  const userAgent = `${component}/${version.gitVersion} (linux/amd64) kubernetes/${version.gitCommit.slice(0, 7)}/leader-election`;
  const client = new LeaseClient(rest, userAgent, Math.max(1000, Math.floor(renewDeadlineMs / 2)));
  const elector = new LeaderElector(client, {
    namespace: flags.string('leader-elect-resource-namespace', 'kube-system'),
    name: flags.string('leader-elect-resource-name', component),
    identity: `${hostname()}_${randomUUID()}`,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
  });
  if (!(await elector.acquire())) return;
  await elector.renew();
  if (stopping.now) return;
  klog.error(
    component === 'kube-scheduler' ? 'server.go:286' : 'controllermanager.go:339',
    component === 'kube-scheduler' ? '"Leaderelection lost"' : '"leaderelection lost"',
  );
  process.exit(1);
}
