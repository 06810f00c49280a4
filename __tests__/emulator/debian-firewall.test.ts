// The emulated VPC enforces GCE's firewall on real Debian VMs: ingress is denied unless a rule
// allows it, by source range, source tag, target tag and port, with priorities; and the emulator's
// own traffic into VMs comes from the addresses GCE's would (clients of external IPs and load
// balancers, health checkers, a runner inside the VPC). The peer port here is etcd's (2380),
// served by a plain listener so that only the network is under test.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { computeClients } from './support/compute.ts';
import type { Compute } from './support/compute.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import type { DebianRuntime } from '../../emulator/vm/runtime.ts';
import type { DialSource } from '../../emulator/vm/names.ts';
import { hostNamesFor } from '../../emulator/vm/names.ts';
import { debianInstanceBody, debianSupport, debianTest, hostLeftovers, startDebianEmulator, waitUntil } from '../support/debian-vms.ts';

const PROJECT = 'debian-firewall';
const ZONE = 'europe-west1-b';
const PEER_PORT = 2380;
let emulator: RunningEmulator;
let compute: Compute;
const ips: Record<string, string> = {};
let bridgeMacBefore = '';

/** The MAC of the VPC's bridge: the address VMs resolve their gateway (and so the VPC side) to. */
const bridgeMac = (namespace: string): string =>
  execFileSync('ip', ['-n', namespace, '-o', 'link', 'show', 'br0'])
    .toString()
    .match(/link\/ether (\S+)/)?.[1] ?? '';

// Each VM answers on the peer port with its name (node is bound into every emulated VM).
const LISTENER = `#!/bin/bash
/opt/ha-emulator/node -e "require('net').createServer((s) => s.end('$(hostname)\\n')).listen(${PEER_PORT})" &
echo "listening on ${PEER_PORT}"
`;

beforeAll(async () => {
  if (!debianSupport.ok) return;
  emulator = await startDebianEmulator();
  compute = computeClients(emulator.port);
  bridgeMacBefore = bridgeMac(await runtime().ensureVpc('default'));
  for (const [name, tags] of [
    ['peer-a', ['master']],
    ['peer-b', ['master']],
    ['outsider', []],
  ] as const) {
    await compute.finish(
      await compute.instances.insert({
        project: PROJECT,
        zone: ZONE,
        instanceResource: debianInstanceBody(name, ZONE, { 'startup-script': LISTENER }, { tags: { items: [...tags] } }),
      }),
      PROJECT,
    );
    const [vm] = await compute.instances.get({ project: PROJECT, zone: ZONE, instance: name });
    ips[name] = vm.networkInterfaces?.[0]?.networkIP as string;
  }
  for (const name of Object.keys(ips)) {
    await waitUntil(`${name}'s listener`, 60_000, async () => {
      const [out] = await compute.instances.getSerialPortOutput({ project: PROJECT, zone: ZONE, instance: name });
      return out.contents?.includes(`listening on ${PEER_PORT}`) ? true : undefined;
    });
  }
}, 240_000);

afterAll(async () => {
  if (!emulator) return;
  await compute.close();
  await emulator.stop();
  expect(hostLeftovers(hostNamesFor(emulator.stateDir).prefix, emulator.stateDir)).toEqual([]);
  rmSync(emulator.stateDir, { recursive: true, force: true });
});

const runtime = (): DebianRuntime => emulator.runtime as DebianRuntime;

/** What `from` VM reads from `to`'s peer port: its name, or 'blocked' when nothing answers in 2 s. */
async function fromVm(from: string, to: string): Promise<string> {
  const probe = `exec 3<>/dev/tcp/${ips[to]}/${PEER_PORT} && cat <&3`;
  return runtime()
    .exec(`${ZONE}/${from}`, ['timeout', '2', 'bash', '-c', probe])
    .then(
      (s) => s.trim(),
      () => 'blocked',
    );
}

/** The same from one of the emulator's own sources (through the VPC's gateway). */
function fromSource(source: DialSource, to: string): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = runtime().dial('default', ips[to] as string, PEER_PORT, source);
    let data = '';
    const timer = setTimeout(() => finish('blocked'), 2000);
    const finish = (v: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('end', () => finish(data.trim() || 'closed'));
    socket.on('error', () => finish('closed'));
  });
}

async function setFirewall(name: string, body: Record<string, unknown> | undefined): Promise<void> {
  const op = body
    ? await compute.firewalls.insert({ project: PROJECT, firewallResource: { name, network: 'global/networks/default', ...body } })
    : await compute.firewalls.delete({ project: PROJECT, firewall: name });
  await compute.finish(op, PROJECT);
  await emulator.settled();
}

// The rule the action creates for etcd: from VMs with the master tag, to them, on 2379-2380.
const ETCD_RULE = { allowed: [{ IPProtocol: 'tcp', ports: ['2379', '2380'] }], sourceTags: ['master'], targetTags: ['master'] };

debianTest(
  'without a rule nothing reaches the peer port; with the etcd rule only the tagged peers do',
  async () => {
    expect(await fromVm('peer-a', 'peer-b')).toBe('blocked');
    expect(await fromSource('runner', 'peer-b')).toBe('blocked');

    await setFirewall('masters-etcd', ETCD_RULE);
    expect(await fromVm('peer-a', 'peer-b')).toBe('peer-b');
    expect(await fromVm('peer-b', 'peer-a')).toBe('peer-a');
    // Not from a VM without the tag, nor into one, nor from outside the VPC or a runner inside it.
    expect(await fromVm('outsider', 'peer-a')).toBe('blocked');
    expect(await fromVm('peer-a', 'outsider')).toBe('blocked');
    expect(await fromSource('internet', 'peer-a')).toBe('blocked');
    expect(await fromSource('runner', 'peer-a')).toBe('blocked');

    // The rule gone, the peers are cut again (new connections; nothing is tracked).
    await setFirewall('masters-etcd', undefined);
    expect(await fromVm('peer-a', 'peer-b')).toBe('blocked');
  },
  120_000,
);

debianTest(
  "each of the emulator's sources has the address its GCE counterpart has",
  async () => {
    await setFirewall('from-health-checkers', {
      allowed: [{ IPProtocol: 'tcp', ports: [String(PEER_PORT)] }],
      sourceRanges: ['35.191.0.0/16'],
    });
    expect(await fromSource('health-check', 'outsider')).toBe('outsider');
    expect(await fromSource('internet', 'outsider')).toBe('blocked');
    await setFirewall('from-iap', { allowed: [{ IPProtocol: 'tcp', ports: [String(PEER_PORT)] }], sourceRanges: ['35.235.240.0/20'] });
    expect(await fromSource('iap', 'outsider')).toBe('outsider');
    await setFirewall('from-anywhere', { allowed: [{ IPProtocol: 'tcp' }], sourceRanges: ['0.0.0.0/0'], targetTags: ['master'] });
    expect(await fromSource('internet', 'peer-a')).toBe('peer-a');
    expect(await fromSource('runner', 'peer-a')).toBe('peer-a');
    // A tag added later makes the VM a target at once.
    expect(await fromSource('internet', 'outsider')).toBe('blocked');
    const [vm] = await compute.instances.get({ project: PROJECT, zone: ZONE, instance: 'outsider' });
    await compute.finish(
      await compute.instances.setTags({
        project: PROJECT,
        zone: ZONE,
        instance: 'outsider',
        tagsResource: { items: ['master'], fingerprint: vm.tags?.fingerprint },
      }),
      PROJECT,
    );
    await emulator.settled();
    expect(await fromSource('internet', 'outsider')).toBe('outsider');
  },
  120_000,
);

debianTest(
  'a deny of higher priority wins over an allow, and a disabled rule counts for nothing',
  async () => {
    await setFirewall('deny-peer', { denied: [{ IPProtocol: 'all' }], sourceRanges: ['0.0.0.0/0'], priority: 900 });
    expect(await fromSource('internet', 'peer-a')).toBe('blocked');
    expect(await fromSource('health-check', 'peer-a')).toBe('blocked');
    const [rule] = await compute.firewalls.get({ project: PROJECT, firewall: 'deny-peer' });
    await compute.finish(
      await compute.firewalls.patch({ project: PROJECT, firewall: 'deny-peer', firewallResource: { ...rule, disabled: true } }),
      PROJECT,
    );
    await emulator.settled();
    expect(await fromSource('internet', 'peer-a')).toBe('peer-a');
  },
  60_000,
);

debianTest("VMs joining the bridge do not change the VPC side's MAC (the VMs' ARP entries for it stay right)", () => {
  // A Linux bridge without a MAC of its own takes its lowest port's, so each VM booting could
  // move it; VMs would then send their replies to the VPC side (runner, gateway) into the void.
  expect(bridgeMacBefore).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  expect(bridgeMac(runtime().vpcNamespace('default'))).toBe(bridgeMacBefore);
});
