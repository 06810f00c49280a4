// A snapshot taken before a membership change must be a real, restorable etcd backup: streamed
// from a live member (skipping a dead one), written 0600, hashed, and accepted by
// `etcdctl snapshot restore`, after which a fresh etcd serves the data it held.
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { createEtcdAdmin } from '../../src/etcd/admin.ts';
import { DirectTransport } from '../../src/etcd/transport.ts';
import { TunnelTransport } from '../../src/etcd/tunnel-transport.ts';
import type { TunnelDial } from '../../src/etcd/tunnel-transport.ts';
import { createMemberClient } from '../../src/etcd/client.ts';
import type { EtcdAdmin } from '../../src/etcd/types.ts';
import { ETCD_BINARY, freeLoopbackAddress, startEtcdCluster } from '../support/etcd-cluster.ts';
import type { EtcdTestCluster } from '../support/etcd-cluster.ts';

let cluster: EtcdTestCluster;
let admin: EtcdAdmin;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'snapshot-test-'));
  cluster = await startEtcdCluster({ size: 3 });
  admin = createEtcdAdmin(cluster.tls, new DirectTransport(), { callTimeoutMs: 3000, membershipTimeoutMs: 20_000 });
  const client = createMemberClient(cluster.tls, cluster.endpoints[1]!, cluster.endpoints[1]!);
  try {
    for (let i = 0; i < 200; i++) await client.put(`/registry/snap/${String(i).padStart(3, '0')}`).value(`value-${i}`);
  } finally {
    client.close();
  }
}, 60_000);
afterAll(async () => {
  await admin?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('streams a whole snapshot from a live member after a dead one, 0600, with its hash and revision', async () => {
  await cluster.kill(0);
  const path = join(dir, 'backups', 'before-change.db');
  const info = await admin.snapshot(cluster.endpoints, path);
  expect(info.from).toBe(cluster.endpoints[1]);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const bytes = readFileSync(path);
  expect(info.bytes).toBe(bytes.length);
  expect(info.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  expect(Number(info.revision)).toBeGreaterThanOrEqual(201);
  const status = JSON.parse(
    execFileSync('etcdctl', ['snapshot', 'status', path, '-w', 'json'], { env: { ...process.env, ETCDCTL_API: '3' } }).toString(),
  );
  expect(status.totalKey).toBeGreaterThanOrEqual(200);
}, 60_000);

test('the snapshot restores into a fresh etcd that serves the data', async () => {
  const path = join(dir, 'backups', 'before-change.db');
  const ip = await freeLoopbackAddress();
  const dataDir = join(dir, 'restored');
  const peer = `http://${ip}:2380`;
  execFileSync(
    'etcdctl',
    [
      'snapshot',
      'restore',
      path,
      '--data-dir',
      dataDir,
      '--name',
      'restored',
      '--initial-cluster',
      `restored=${peer}`,
      '--initial-advertise-peer-urls',
      peer,
    ],
    { env: { ...process.env, ETCDCTL_API: '3' }, stdio: 'ignore' },
  );
  const etcd = spawn(
    ETCD_BINARY,
    [
      '--name',
      'restored',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      `http://${ip}:2379`,
      '--advertise-client-urls',
      `http://${ip}:2379`,
      '--listen-peer-urls',
      peer,
    ],
    { stdio: 'ignore' },
  );
  try {
    let value = '';
    for (let i = 0; i < 100 && !value; i++) {
      try {
        value = execFileSync('etcdctl', ['--endpoints', `http://${ip}:2379`, 'get', '/registry/snap/123', '--print-value-only'], {
          env: { ...process.env, ETCDCTL_API: '3' },
          stdio: ['ignore', 'pipe', 'ignore'],
        })
          .toString()
          .trim();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(value).toBe('value-123');
  } finally {
    etcd.kill('SIGKILL');
    await new Promise((r) => etcd.once('exit', r));
  }
}, 60_000);

test('no member able to stream is an error naming each problem, and leaves no partial file', async () => {
  const path = join(dir, 'none.db');
  await expect(admin.snapshot([cluster.endpoints[0]!], path)).rejects.toThrow(/no etcd member could stream a snapshot: /);
  expect(() => statSync(path)).toThrow();
  expect(() => statSync(`${path}.partial`)).toThrow();
}, 60_000);

/** A path to the member that carries `bytes` towards the client and then nothing more (a stalled link). */
const stallingAfter =
  (bytes: number): TunnelDial =>
  (host, port) => {
    const member = connect({ host, port });
    const toClient = new PassThrough();
    let carried = 0;
    member.on('data', (chunk: Buffer) => {
      if (carried >= bytes) return;
      carried += chunk.length;
      toClient.write(chunk);
    });
    return Duplex.from({ readable: toClient, writable: member });
  };

test('a stream that stalls ends the snapshot after membershipTimeoutMs without a byte, and leaves no partial file', async () => {
  // A store of a few MB, so that the snapshot is well past what the stalling link carries.
  const client = createMemberClient(cluster.tls, cluster.endpoints[1]!, cluster.endpoints[1]!);
  try {
    // An earlier test stopped a member; a put may meet the election that followed: try again.
    for (let i = 0; i < 4; i++) {
      for (let attempt = 1; ; attempt++) {
        try {
          await client.put(`/registry/big/${i}`).value(randomBytes(1024 * 1024));
          break;
        } catch (err) {
          if (attempt >= 20) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }
  } finally {
    client.close();
  }
  const tunnel = new TunnelTransport(stallingAfter(400_000));
  const stalling = createEtcdAdmin(cluster.tls, tunnel, { callTimeoutMs: 3000, membershipTimeoutMs: 2000 });
  const path = join(dir, 'stalled.db');
  const started = Date.now();
  try {
    await expect(stalling.snapshot([cluster.endpoints[1]!], path)).rejects.toThrow(/the stream stalled: no bytes for 2 s after \d+/);
  } finally {
    await stalling.close();
    await tunnel.close();
  }
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(() => statSync(path)).toThrow();
  expect(() => statSync(`${path}.partial`)).toThrow();
}, 60_000);
