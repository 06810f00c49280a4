// The emulator's Debian runtime: an instance booted from debian-12 is a real Debian machine that
// runs its own start-up script, reads GCE's metadata server, writes guest attributes, keeps its
// data disk across a stop and start, and lives in a VPC the host (the runner) has no address in.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeClients } from './support/compute.ts';
import type { Compute } from './support/compute.ts';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { hostNamesFor } from '../../emulator/vm/names.ts';
import { DEFAULT_IMAGE_CACHE, imageAt, standinCompileCacheDir } from '../../emulator/vm/image.ts';
import { debianInstanceBody, debianTest, hostLeftovers, startDebianEmulator, waitUntil } from '../support/debian-vms.ts';

const execFileAsync = promisify(execFile);
const PROJECT = 'debian-vm';
const ZONE = 'europe-west1-b';
let emulator: RunningEmulator;
let compute: Compute;
const lines: string[] = [];
const probes: string[] = [];

// Formats the data disk only when blank, keeps a boot counter on it, reports through the metadata
// server, then waits (long poll) for a key the test sets later.
const STARTUP = `#!/bin/bash
set -u
md() { curl -sf -H 'Metadata-Flavor: Google' "http://metadata.google.internal/computeMetadata/v1/$1"; }
disk=/dev/disk/by-id/google-$(md instance/name)-pd
echo "boot of $(hostname): name=$(md instance/name) ip=$(md instance/network-interfaces/0/ip) zone=$(md instance/zone)"
echo "without header: $(curl -s -o /dev/null -w '%{http_code}' http://metadata.google.internal/computeMetadata/v1/instance/name)"
blkid "$disk" >/dev/null || { echo "formatting $disk"; mkfs.ext4 -q "$disk"; }
mkdir -p /mnt/pd && mount "$disk" /mnt/pd
boots=$(( $(cat /mnt/pd/boots 2>/dev/null || echo 0) + 1 )); echo $boots > /mnt/pd/boots; sync
echo "$(hostname)" > /var/cache/ha-emulator/node-compile-cache/probe-$(md instance/id)
echo "boots on disk: $boots"
curl -sf -X PUT -H 'Metadata-Flavor: Google' --data "boot-$boots" http://metadata.google.internal/computeMetadata/v1/instance/guest-attributes/test/progress
echo "later-key: $(md 'instance/attributes/later-key?wait_for_change=true&timeout_sec=60')"
`;

beforeAll(async () => {
  if (!(await import('../support/debian-vms.ts')).debianSupport.ok) return;
  emulator = await startDebianEmulator(lines);
  compute = computeClients(emulator.port);
}, 180_000);

afterAll(async () => {
  for (const probe of probes) rmSync(probe, { force: true });
  if (!emulator) return;
  await compute.close();
  await emulator.stop();
  const prefix = hostNamesFor(emulator.stateDir).prefix;
  expect(hostLeftovers(prefix, emulator.stateDir)).toEqual([]);
  expect(emulator.runtime.pids().length).toBe(0);
  rmSync(emulator.stateDir, { recursive: true, force: true });
});

async function serial(name: string): Promise<string> {
  const [out] = await compute.instances.getSerialPortOutput({ project: PROJECT, zone: ZONE, instance: name });
  return out.contents ?? '';
}

debianTest("a firewall rule builds its network's VPC before any VM boots into it (the first VM does not wait for it)", async () => {
  const ns = hostNamesFor(emulator.stateDir).vpcNamespace('default');
  expect(existsSync(`/run/netns/${ns}`)).toBe(false);
  const rule = {
    name: 'early-rule',
    network: 'global/networks/default',
    allowed: [{ IPProtocol: 'tcp', ports: ['1'] }],
    sourceRanges: ['192.0.2.0/24'],
  };
  await compute.finish(await compute.firewalls.insert({ project: PROJECT, firewallResource: rule }), PROJECT);
  await emulator.settled();
  expect(existsSync(`/run/netns/${ns}`)).toBe(true);
  await compute.finish(await compute.firewalls.delete({ project: PROJECT, firewall: rule.name }), PROJECT);
});

debianTest(
  'a debian-12 instance boots, runs its start-up script and reads the metadata server',
  async () => {
    await compute.finish(
      await compute.instances.insert({
        project: PROJECT,
        zone: ZONE,
        instanceResource: debianInstanceBody('vm1', ZONE, {
          'startup-script': STARTUP,
          'enable-guest-attributes': 'TRUE',
          'later-key': 'v1',
        }),
      }),
      PROJECT,
    );
    const [vm] = await compute.instances.get({ project: PROJECT, zone: ZONE, instance: 'vm1' });
    const ip = vm.networkInterfaces?.[0]?.networkIP as string;
    // europe-west1's auto-mode subnet, not a loopback address.
    expect(ip).toMatch(/^10\.132\.0\.\d+$/);

    const text = await waitUntil('the start-up script on the serial console', 60_000, async () => {
      const s = await serial('vm1');
      return s.includes('boots on disk: 1') ? s : undefined;
    });
    expect(text).toContain(`startup-script: boot of vm1: name=vm1 ip=${ip} zone=projects/${PROJECT}/zones/${ZONE}`);
    // GCE refuses metadata requests without Metadata-Flavor: Google.
    expect(text).toContain('startup-script: without header: 403');
    expect(text).toContain('startup-script: formatting /dev/disk/by-id/google-vm1-pd');
    // The stand-ins' compile cache is the host's one directory, shared by every VM.
    const probe = join(standinCompileCacheDir(imageAt(DEFAULT_IMAGE_CACHE)), `probe-${vm.id}`);
    probes.push(probe);
    expect(readFileSync(probe, 'utf8')).toBe('vm1\n');

    // Written right after the line above: wait for it.
    const written = await waitUntil('the guest attribute', 15_000, async () => {
      const [attrs] = await compute.instances.getGuestAttributes({ project: PROJECT, zone: ZONE, instance: 'vm1', queryPath: 'test/' });
      return attrs.queryValue?.items?.length ? attrs.queryValue.items : undefined;
    });
    expect(written).toEqual([expect.objectContaining({ namespace: 'test', key: 'progress', value: 'boot-1' })]);

    // A long poll on a key returns as soon as setMetadata changes it.
    const [current] = await compute.instances.get({ project: PROJECT, zone: ZONE, instance: 'vm1' });
    const items = (current.metadata?.items ?? []).filter((i) => i.key !== 'later-key').concat([{ key: 'later-key', value: 'v2' }]);
    await compute.finish(
      await compute.instances.setMetadata({
        project: PROJECT,
        zone: ZONE,
        instance: 'vm1',
        metadataResource: { fingerprint: current.metadata?.fingerprint, items },
      }),
      PROJECT,
    );
    expect(
      await waitUntil('the long poll to return', 15_000, async () => ((await serial('vm1')).includes('later-key: v2') ? true : undefined)),
    ).toBe(true);
  },
  120_000,
);

debianTest('the host has no address and no route of its own in the VPC subnet (the runner is outside)', () => {
  // No traffic is sent to the subnet from the host: only its own configuration is read.
  const addrs = execFileSync('ip', ['-4', '-o', 'addr', 'show']).toString();
  expect(addrs).not.toMatch(/inet 10\.132\./);
  const routes = execFileSync('ip', ['-4', 'route', 'show']).toString();
  expect(routes).not.toMatch(/^10\.132\./m);
  // Inside the VPC namespace the subnet is there.
  const ns = hostNamesFor(emulator.stateDir).vpcNamespace('default');
  expect(execFileSync('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'br0']).toString()).toContain('10.132.0.1/20');
});

debianTest(
  'the data disk keeps its filesystem and data across stop and start',
  async () => {
    await compute.finish(await compute.instances.stop({ project: PROJECT, zone: ZONE, instance: 'vm1' }), PROJECT);
    await emulator.settled();
    await compute.finish(await compute.instances.start({ project: PROJECT, zone: ZONE, instance: 'vm1' }), PROJECT);
    const text = await waitUntil('the second boot', 60_000, async () => {
      const s = await serial('vm1');
      return s.includes('boots on disk: 2') ? s : undefined;
    });
    // Not formatted again: the second boot found the first boot's counter.
    expect(text.match(/formatting/g)).toHaveLength(1);
    // The script writes the attribute right after the line above: wait for it, then it is the new boot's.
    const value = await waitUntil("the second boot's guest attribute", 15_000, async () => {
      const [attrs] = await compute.instances.getGuestAttributes({
        project: PROJECT,
        zone: ZONE,
        instance: 'vm1',
        variableKey: 'test/progress',
      });
      return attrs.variableValue === 'boot-2' ? attrs.variableValue : undefined;
    });
    expect(value).toBe('boot-2');
  },
  120_000,
);

debianTest('serial output pages with start and next, as GCE does', async () => {
  const [all] = await compute.instances.getSerialPortOutput({ project: PROJECT, zone: ZONE, instance: 'vm1' });
  const total = Number(all.next);
  expect(total).toBeGreaterThan(100);
  const [tail] = await compute.instances.getSerialPortOutput({ project: PROJECT, zone: ZONE, instance: 'vm1', start: total - 50 });
  expect(tail.contents).toBe((all.contents ?? '').slice(-50));
  const [negative] = await compute.instances.getSerialPortOutput({ project: PROJECT, zone: ZONE, instance: 'vm1', start: -50 });
  expect(Number(negative.start)).toBe(total - 50);
});

// gcloud, a client nobody here wrote, reads both: where gcloud is missing, the test says so and skips.
const haveGcloud = spawnSync('gcloud', ['--version'], { stdio: 'ignore' }).status === 0;
(haveGcloud ? debianTest : test.skip)(
  'gcloud reads the serial console and the guest attributes',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-gcloud-'));
    const env = { PATH: process.env.PATH, HOME: dir, CLOUDSDK_CONFIG: join(dir, 'gcloud') };
    // Asynchronous: the emulator answering gcloud runs in this process.
    const gcloud = async (...args: string[]): Promise<string> => (await execFileAsync('gcloud', args, { env, timeout: 60_000 })).stdout;
    try {
      await gcloud('config', 'set', 'api_endpoint_overrides/compute', `${emulator.url}/compute/v1/`);
      await gcloud('config', 'set', 'auth/disable_credentials', 'true');
      await gcloud('config', 'set', 'project', PROJECT);
      const out = await gcloud('compute', 'instances', 'get-serial-port-output', 'vm1', '--zone', ZONE);
      expect(out).toContain('startup-script: boots on disk: 2');
      const attrs = JSON.parse(
        await gcloud('compute', 'instances', 'get-guest-attributes', 'vm1', '--zone', ZONE, '--query-path', 'test/', '--format', 'json'),
      ) as Array<{ key: string; value: string }>;
      expect(attrs).toEqual([expect.objectContaining({ key: 'progress', value: 'boot-2' })]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  120_000,
);

debianTest('deleting the instance powers the machine off and frees its namespace, loop device and mount', async () => {
  await compute.finish(await compute.instances.delete({ project: PROJECT, zone: ZONE, instance: 'vm1' }), PROJECT);
  await emulator.settled();
  const prefix = hostNamesFor(emulator.stateDir).prefix;
  // The VPC's own namespace stays while the emulator runs; the VM's is gone.
  expect(hostLeftovers(prefix, emulator.stateDir)).toEqual([`netns ${prefix}net-default`]);
});

// Last: starting and stopping a second emulator leaves the first one's keep-alive connections idle
// long enough to race its server's keep-alive timeout (an ECONNRESET on the next request).
debianTest(
  'without a --vm-runtime the emulator takes debian where the host allows it, and says why',
  async () => {
    const lines: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'emu-default-runtime-'));
    const other = await startEmulator({ port: 0, stateDir: dir, log: (l) => lines.push(l) });
    try {
      expect(other.runtime.addressing).toBe('vpc');
      expect(lines).toContainEqual(
        expect.stringMatching(/^VM runtime: debian \(this host allows it: root, namespaces, overlayfs, nft; Debian 12 machines from /),
      );
    } finally {
      await other.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  60_000,
);
