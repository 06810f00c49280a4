// Forwarding rules: nothing before the programming delay, then TCP spread over the pool's
// RUNNING and HEALTHY backends (health checked on the sidecar), accept-and-close with no backend,
// and no listener at all once the rule is gone. Backends are real master VMs (each its own
// one-member cluster); which one answered is read from its identity lease's hostname label.
import { rmSync } from 'node:fs';
import { createVmRuntime } from '../../emulator/runtime/index.ts';
import type { VmRuntimeDetails } from '../../emulator/runtime/index.ts';
import type { RuntimeForwardingRule, RuntimeHealthCheck, RuntimeInstance } from '../../emulator/runtime/types.ts';
import { makeTestPki, masterMetadata, memberCertsMetadata, randomLoopbackBase } from '../support/runtime-certs.ts';
import type { TestPki } from '../support/runtime-certs.ts';
import { httpsGet, instance, runtimeOptions, tcpConnectResult, tempStateDir, waitFor } from '../support/runtime-vms.ts';

const ZONE = 'us-central1-b';
const base = randomLoopbackBase();
const STATIC_IP = `${base}.200`;
const LB_IP = `${base}.201`;
const LB_IP_NO_CHECK = `${base}.202`;
const X = 'kubernetes-master';
const Y = 'kubernetes-master-a1b';
const ips: Record<string, string> = { [X]: `${base}.41`, [Y]: `${base}.42` };
const key = (vm: string): string => `${ZONE}/${vm}`;
const DELAY_MS = 1500;

const check: RuntimeHealthCheck = {
  port: 3990,
  requestPath: '/readyz',
  checkIntervalSec: 0.5,
  timeoutSec: 1,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
};

let stateDir: string;
let pki: TestPki;
let runtime: VmRuntimeDetails;

const metadata = new Map<string, Record<string, string>>();

function vm(name: string, status = 'RUNNING'): RuntimeInstance {
  const ip = ips[name]!;
  // Made once per VM: a new member certificate would (rightly) restart its etcd.
  if (!metadata.has(name)) {
    metadata.set(name, {
      // Each VM is the first master of its own cluster: two independent backends.
      ...masterMetadata({ pki, master: name, staticIp: STATIC_IP, state: 'new', initialCluster: [name] }),
      ...memberCertsMetadata(pki.member(name, ip)),
    });
  }
  return instance(stateDir, ZONE, name, ip, metadata.get(name)!, { status });
}

function rules(changedAt: number): RuntimeForwardingRule[] {
  return [
    { key: 'us-central1/with-check', ip: LB_IP, portLow: 443, portHigh: 443, backends: [key(X), key(Y)], healthCheck: check, changedAt },
    { key: 'us-central1/no-check', ip: LB_IP_NO_CHECK, portLow: 443, portHigh: 443, backends: [key(X), key(Y)], changedAt },
  ];
}

/** Which VM answered a request through `ip`: the hostname label on the identity lease it keeps. */
async function answeredBy(ip: string): Promise<string> {
  const res = await httpsGet(ip, 443, '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', pki.apiserverCa.cert);
  if (res.status !== 200) return `status ${res.status} ${res.body}`;
  const list = JSON.parse(res.body) as { items: { metadata: { labels: Record<string, string> } }[] };
  return [...new Set(list.items.map((l) => l.metadata.labels['kubernetes.io/hostname']))].join(',');
}

async function answerers(ip: string, n: number): Promise<string[]> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(await answeredBy(ip));
  return [...seen].sort();
}

const healthOf = (name: string): string => runtime.backendHealth(key(name), check);

beforeAll(() => {
  stateDir = tempStateDir('runtime-lb');
  pki = makeTestPki(X, STATIC_IP);
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

test('forwarding rules follow the programming delay, backend status and health, and disappear at once', async () => {
  runtime = createVmRuntime(runtimeOptions(stateDir, { lbProgrammingDelayMs: DELAY_MS, leaseRenewIntervalMs: 500 }));
  const changedAt = Date.now();
  await runtime.apply({ instances: [vm(X), vm(Y)], forwardingRules: rules(changedAt), firewalls: [] });

  // Not programmed yet; backends start UNHEALTHY until the threshold of good probes.
  expect(await tcpConnectResult(LB_IP, 443)).toBe('ECONNREFUSED');
  expect(healthOf(X)).toBe('UNHEALTHY');
  expect(runtime.backendHealth(`${ZONE}/not-in-any-pool`, check)).toBe('UNHEALTHY');

  await waitFor('both backends healthy', 20_000, async () => (healthOf(X) === 'HEALTHY' && healthOf(Y) === 'HEALTHY' ? true : undefined));
  await waitFor('rule programmed', 10_000, async () => ((await tcpConnectResult(LB_IP, 443)) === 'connected' ? true : undefined), 50);
  expect(Date.now() - changedAt).toBeGreaterThanOrEqual(DELAY_MS);
  await waitFor('both leases written', 10_000, async () =>
    (await answerers(LB_IP, 4)).join() === [X, Y].sort().join() ? true : undefined,
  );
  expect(await answerers(LB_IP, 6)).toEqual([X, Y].sort());
  expect(await answerers(LB_IP_NO_CHECK, 6)).toEqual([X, Y].sort());

  // A STOPPED backend gets no traffic, health check or not.
  await runtime.apply({ instances: [vm(X), vm(Y, 'STOPPED')], forwardingRules: rules(changedAt), firewalls: [] });
  expect(healthOf(Y)).toBe('UNHEALTHY');
  expect(await answerers(LB_IP_NO_CHECK, 6)).toEqual([X]);
  expect(await answerers(LB_IP, 6)).toEqual([X]);

  // Back to RUNNING, then failing its health check (etcd down -> /readyz 500): skipped again.
  await runtime.apply({ instances: [vm(X), vm(Y)], forwardingRules: rules(changedAt), firewalls: [] });
  await waitFor('Y healthy again', 20_000, async () => (healthOf(Y) === 'HEALTHY' ? true : undefined));
  await runtime.killEtcd(key(Y), true);
  await waitFor('Y unhealthy', 10_000, async () => (healthOf(Y) === 'UNHEALTHY' ? true : undefined));
  expect(await answerers(LB_IP, 6)).toEqual([X]);

  // Empty pool: connections are accepted and closed.
  await runtime.killEtcd(key(X), true);
  await waitFor('X unhealthy', 10_000, async () => (healthOf(X) === 'UNHEALTHY' ? true : undefined));
  expect(await tcpConnectResult(LB_IP, 443)).toBe('connected');
  const refused = await httpsGet(LB_IP, 443, '/readyz', pki.apiserverCa.cert).catch((e: NodeJS.ErrnoException) => e.code);
  expect(refused).toBe('ECONNRESET');

  // The rule goes: no listener at once.
  await runtime.apply({ instances: [vm(X), vm(Y)], forwardingRules: [], firewalls: [] });
  expect(await tcpConnectResult(LB_IP, 443)).toBe('ECONNREFUSED');
  expect(await tcpConnectResult(LB_IP_NO_CHECK, 443)).toBe('ECONNREFUSED');
}, 60_000);
