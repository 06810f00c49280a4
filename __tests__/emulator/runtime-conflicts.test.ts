// Addresses that cannot be bound are logged, not fatal: a forwarding rule on an instance's
// external IP (a conflict the REST layer prevents) and a busy address.
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { createVmRuntime } from '../../emulator/runtime/index.ts';
import type { VmRuntimeDetails } from '../../emulator/runtime/index.ts';
import { randomLoopbackBase } from '../support/runtime-certs.ts';
import { instance, runtimeOptions, tcpConnectResult, tempStateDir, waitFor } from '../support/runtime-vms.ts';

const base = randomLoopbackBase();
let stateDir: string;
let runtime: VmRuntimeDetails;
let squatter: Server | undefined;

beforeAll(() => {
  stateDir = tempStateDir('runtime-conflicts');
});

afterAll(async () => {
  await runtime?.stop();
  await new Promise<void>((r) => (squatter ? squatter.close(() => r()) : r()));
  rmSync(stateDir, { recursive: true, force: true });
});

test('a rule on an instance external IP and a busy NAT address are logged and retried, and nothing crashes', async () => {
  const opts = runtimeOptions(stateDir);
  runtime = createVmRuntime(opts);
  const shared = `${base}.61`;
  const busy = `${base}.62`;
  // Something else holds busy:443 (no VM may listen there).
  squatter = createServer();
  await new Promise<void>((r) => squatter!.listen(443, busy, () => r()));

  // Plain (non-master) VMs: NAT only, no processes.
  const a = instance(stateDir, 'europe-west1-b', 'plain-a', `${base}.71`, {}, { externalIps: [shared] });
  const b = instance(stateDir, 'europe-west1-b', 'plain-b', `${base}.72`, {}, { externalIps: [busy] });
  const rule = { key: 'europe-west1/clash', ip: shared, portLow: 443, portHigh: 443, backends: [a.key], changedAt: Date.now() };
  await runtime.apply({ instances: [a, b], forwardingRules: [rule], firewalls: [] });
  expect(runtime.pids()).toEqual([]);
  expect(opts.lines).toContain(`cannot bind external IP of ${b.key} on ${busy}:443: listen EADDRINUSE: address already in use ${busy}:443`);
  await waitFor('the clash logged', 5000, async () =>
    opts.lines.includes(`cannot bind forwarding rule ${rule.key} on ${shared}:443: listen EADDRINUSE: address already in use ${shared}:443`)
      ? true
      : undefined,
  );

  // Once the squatter leaves, the next apply binds the NAT address.
  await new Promise<void>((r) => squatter!.close(() => r()));
  squatter = undefined;
  await runtime.apply({ instances: [a, b], forwardingRules: [rule], firewalls: [] });
  expect(await tcpConnectResult(busy, 443)).toBe('connected');

  await runtime.stop();
  expect(await tcpConnectResult(shared, 443)).toBe('ECONNREFUSED');
  expect(await tcpConnectResult(busy, 443)).toBe('ECONNREFUSED');
});
