// EtcdAdmin.observe against a real 3-member etcd cluster with mTLS: healthy, one member dead,
// quorum lost; and calls to endpoints that are down or never answer return within the deadline.
import { execFile } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { promisify } from 'node:util';
import type { Server, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createEtcdAdmin } from '../../src/etcd/admin.ts';
import { createCa, issueClientCert } from '../../src/etcd/certs.ts';
import { DirectTransport } from '../../src/etcd/transport.ts';
import { TunnelTransport } from '../../src/etcd/tunnel-transport.ts';
import type { EtcdAdmin } from '../../src/etcd/types.ts';
import { freeLoopbackAddress, startEtcdCluster } from '../support/etcd-cluster.ts';
import type { EtcdTestCluster } from '../support/etcd-cluster.ts';

const CALL_TIMEOUT_MS = 3000;

let cluster: EtcdTestCluster;
let admin: EtcdAdmin;
const execFileAsync = promisify(execFile);

beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3 });
  admin = createEtcdAdmin(cluster.tls, new DirectTransport(), { callTimeoutMs: CALL_TIMEOUT_MS, membershipTimeoutMs: 4000 });
});
afterAll(async () => {
  await admin?.close();
  await cluster?.stop();
});

describe('observe', () => {
  test('a healthy cluster: every member healthy, exactly one leader', async () => {
    const view = await admin.observe(cluster.endpoints);
    expect(view.reachable).toBe(true);
    expect(view.error).toBeUndefined();
    expect(view.members).toHaveLength(3);
    const byName = new Map(view.members.map((m) => [m.name, m]));
    for (const m of cluster.members) {
      expect(byName.get(m.name)).toMatchObject({
        peerUrls: [m.peerUrl],
        clientUrls: [m.clientUrl],
        isLearner: false,
        healthy: true,
        alarms: [],
      });
      expect(byName.get(m.name)!.id).toMatch(/^\d+$/);
      expect(byName.get(m.name)!.appliedIndex).toBeGreaterThan(0);
    }
    const leaders = view.members.filter((m) => m.isLeader);
    expect(leaders).toHaveLength(1);
    expect(view.leaderId).toBe(leaders[0]!.id);
  });

  test('no DEP0123 warning: IP addresses are never sent as the TLS server name', async () => {
    // Node prints the warning from its own tls module, which jest's sandboxed `process` does not
    // see: run observe in a plain Node process and read its stderr.
    const script = [
      `import { createEtcdAdmin } from ${JSON.stringify(new URL('../../src/etcd/admin.ts', import.meta.url).href)};`,
      `import { DirectTransport } from ${JSON.stringify(new URL('../../src/etcd/transport.ts', import.meta.url).href)};`,
      'const admin = createEtcdAdmin(JSON.parse(process.env.TLS), new DirectTransport());',
      'const view = await admin.observe(JSON.parse(process.env.ENDPOINTS));',
      'await admin.close();',
      'console.log(JSON.stringify({ reachable: view.reachable, healthy: view.members.filter(m => m.healthy).length }));',
    ].join('\n');
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, NODE_OPTIONS: '', TLS: JSON.stringify(cluster.tls), ENDPOINTS: JSON.stringify(cluster.endpoints) },
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).toEqual({ reachable: true, healthy: 3 });
    expect(stderr).not.toContain('DEP0123');
  });

  test('through any single endpoint the view is the same', async () => {
    const a = await admin.observe([cluster.endpoints[2]!]);
    expect(a.reachable).toBe(true);
    expect(a.members.map((m) => m.name).sort()).toEqual(cluster.members.map((m) => m.name).sort());
  });

  test('a client with a certificate from another CA cannot read (server verification and mTLS are on)', async () => {
    const other = await createCa('other-ca');
    const stranger = await issueClientCert(other, 'client');
    const wrongTrust = createEtcdAdmin({ ...cluster.tls, ca: other.cert }, new DirectTransport(), { callTimeoutMs: CALL_TIMEOUT_MS });
    const wrongClient = createEtcdAdmin({ ...cluster.tls, cert: stranger.cert, key: stranger.key }, new DirectTransport(), {
      callTimeoutMs: CALL_TIMEOUT_MS,
    });
    try {
      const a = await wrongTrust.observe([cluster.endpoints[0]!]);
      expect(a).toMatchObject({ reachable: false, members: [] });
      expect(a.error).toContain('member list');
      const b = await wrongClient.observe([cluster.endpoints[0]!]);
      expect(b).toMatchObject({ reachable: false, members: [] });
    } finally {
      await wrongTrust.close();
      await wrongClient.close();
    }
  });

  test('a connection that drops under a status call does not make its member sick: it is asked again once', async () => {
    // Each member is reached through a tunnel (as over IAP); the test can cut a member's tunnel
    // at the moment the next call is written into it, so that call fails at once.
    const cutOnNextWrite = new Set<string>();
    const tunnel = new TunnelTransport((host, port) => {
      const key = `${host}:${port}`;
      const remote = connect(port, host);
      const write = remote.write.bind(remote) as (...args: unknown[]) => boolean;
      remote.write = ((...args: unknown[]) => {
        if (!cutOnNextWrite.delete(key)) return write(...args);
        remote.destroy();
        return false;
      }) as typeof remote.write;
      return remote;
    });
    const tunnelled = createEtcdAdmin(cluster.tls, tunnel, { callTimeoutMs: CALL_TIMEOUT_MS, membershipTimeoutMs: 4000 });
    try {
      const [reader, ...others] = cluster.members;
      const first = await tunnelled.observe([reader!.clientUrl]);
      expect(first.members.map((m) => m.healthy)).toEqual([true, true, true]);
      for (const m of others) cutOnNextWrite.add(new URL(m.clientUrl).host);
      const second = await tunnelled.observe([reader!.clientUrl]);
      expect(cutOnNextWrite.size).toBe(0);
      expect(second.members.map((m) => m.healthy)).toEqual([true, true, true]);
    } finally {
      await tunnelled.close();
      await tunnel.close();
    }
  });

  test('the leader SIGKILLed: it is unhealthy, the cluster is reachable (the quorum read waits out the election)', async () => {
    const before = await admin.observe(cluster.endpoints);
    const leaderName = before.members.find((m) => m.isLeader)!.name;
    const index = cluster.members.findIndex((m) => m.name === leaderName);
    const victim = cluster.members[index]!;
    await cluster.kill(index);
    // The endpoints still include the dead member, as the engine's would.
    const view = await admin.observe(cluster.endpoints);
    expect(view.error).toBeUndefined();
    expect(view.reachable).toBe(true);
    expect(view.members).toHaveLength(3);
    const dead = view.members.find((m) => m.name === victim.name)!;
    expect(dead).toMatchObject({ healthy: false, isLeader: false });
    expect(dead.appliedIndex).toBeUndefined();
    expect(view.members.filter((m) => m.name !== victim.name).every((m) => m.healthy)).toBe(true);
  });

  test('two of three SIGKILLed: not reachable, no throw, bounded time', async () => {
    const second = cluster.members.findIndex((m) => m.running);
    await cluster.kill(second);
    const survivorName = cluster.members.find((m) => m.running)!.name;
    const started = Date.now();
    const view = await admin.observe(cluster.endpoints);
    const ms = Date.now() - started;
    console.log(`observe without quorum took ${ms} ms (call timeout ${CALL_TIMEOUT_MS} ms)`);
    expect(ms).toBeLessThan(CALL_TIMEOUT_MS * 3 + 1000); // bounded by the call deadlines, not hanging
    expect(view.reachable).toBe(false);
    expect(view.error).toMatch(/^no member answered a quorum read: /);
    // The survivor still lists every member and answers its own status.
    expect(view.members).toHaveLength(3);
    const survivor = view.members.find((m) => m.name === survivorName)!;
    expect(survivor.healthy).toBe(true);
    expect(view.members.filter((m) => m.healthy)).toHaveLength(1);
  });
});

describe('endpoints that are down', () => {
  let blackHole: Server;
  let blackHoleUrl: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // Accepts TCP and never answers: like a VM whose etcd hangs, or a dropped packet path.
    blackHole = createServer((s) => sockets.push(s));
    const ip = await freeLoopbackAddress();
    await new Promise<void>((resolve) => blackHole.listen(0, ip, resolve));
    blackHoleUrl = `https://${ip}:${(blackHole.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => blackHole.close(resolve));
  });

  test('observe of an endpoint that never answers returns within the call deadline', async () => {
    const started = Date.now();
    const view = await admin.observe([blackHoleUrl]);
    const ms = Date.now() - started;
    expect(view).toMatchObject({ reachable: false, members: [] });
    expect(view.error).toContain(`${blackHoleUrl}: member list: Deadline exceeded`);
    expect(ms).toBeGreaterThanOrEqual(CALL_TIMEOUT_MS - 100);
    expect(ms).toBeLessThan(CALL_TIMEOUT_MS + 3000);
  });

  test('observe of a killed member (connection refused) returns at once', async () => {
    const started = Date.now();
    const dead = cluster.members.find((m) => !m.running)!;
    const view = await admin.observe([dead.clientUrl]);
    expect(view).toMatchObject({ reachable: false, members: [] });
    expect(view.error).toContain('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(CALL_TIMEOUT_MS);
  });

  test('a membership change through an endpoint that never answers gives up at its deadline', async () => {
    const started = Date.now();
    await expect(admin.removeMember([blackHoleUrl], '12345')).rejects.toThrow(
      /^remove member 3039: gave up after 4000 ms; last problem: .*Deadline exceeded/,
    );
    const ms = Date.now() - started;
    expect(ms).toBeLessThan(4000 + CALL_TIMEOUT_MS + 3000);
  });

  test('no endpoints at all', async () => {
    expect(await admin.observe([])).toEqual({ reachable: false, members: [], error: 'no etcd endpoints to ask' });
    await expect(admin.addLearner([], 'https://10.0.0.1:2380')).rejects.toThrow(
      'add learner https://10.0.0.1:2380: no etcd endpoints given',
    );
  });
});
