// Real etcd clusters for tests: N members of /usr/bin/etcd (3.4) with mTLS for peers and clients,
// each member on its own random loopback address 127.B.x.y (B in 16..250) with the standard ports
// 2379 (client) and 2380 (peer), certificates from src/etcd/certs.ts, a fresh data dir each.
//
//   const cluster = await startEtcdCluster({ size: 3 });
//   afterAll(() => cluster.stop());             // SIGKILL every member, await exit, delete dirs
//   cluster.endpoints                           // advertised client URLs, in member order
//   cluster.tls                                 // { ca, cert, key }: a client cert (CN "client")
//   await cluster.kill(0)                       // SIGKILL member 0 and await its exit
//
// Joining a member (what a new replica does, docs/vm-contract.md):
//   const slot = await cluster.reserveMember('kubernetes-master-abc');  // IP, URLs, certs; not started
//   await admin.addLearner(cluster.endpoints, slot.peerUrl);
//   await cluster.startMember(slot, { state: 'existing', initialCluster: '<name>=<peer URL>,...' });
//
// Members are killed with SIGKILL (SIGTERM takes ~7 s); stop() never leaves a process behind.
// Set ETCD_BINARY to use another etcd than /usr/bin/etcd.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { randomBytes } from 'node:crypto';
import { createCa, issueClientCert, issueMemberCert } from '../../src/etcd/certs.ts';
import type { CertificateAuthority, PemPair } from '../../src/etcd/certs.ts';
import type { TlsMaterial } from '../../src/etcd/types.ts';

export const ETCD_BINARY = process.env.ETCD_BINARY ?? '/usr/bin/etcd';

/** A member's identity before it runs: address, URLs, certificate, data dir. */
export interface EtcdMemberSlot {
  /** etcd member name, `etcd-<vmName>`. */
  name: string;
  vmName: string;
  ip: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
  memberCert: PemPair;
}

export interface EtcdTestMember extends EtcdMemberSlot {
  pid: number;
  running: boolean;
  /** Resolves with the exit code (or null when killed by a signal). */
  exited: Promise<number | null>;
}

export interface EtcdTestCluster {
  ca: CertificateAuthority;
  /** Client TLS material (CN "client"), as the action uses it. */
  tls: TlsMaterial;
  /** Every member started so far, in start order; `members[i]` serves `endpoints[i]` for the initial ones. */
  members: EtcdTestMember[];
  /** Client URLs of the initial members. */
  endpoints: string[];
  /** PIDs of the members still running. */
  pids(): number[];
  /** SIGKILL member i and wait for it to exit. */
  kill(i: number): Promise<void>;
  /** Picks a free address and issues a member certificate for a member that will join later. */
  reserveMember(vmName?: string): Promise<EtcdMemberSlot>;
  /** Starts a reserved member; resolves once its process is spawned (not when it is healthy). */
  startMember(slot: EtcdMemberSlot, opts: { state: 'new' | 'existing'; initialCluster: string }): EtcdTestMember;
  /** Resolves when every listed member answers /health with mTLS; rejects after `timeoutMs`. */
  waitHealthy(members: EtcdMemberSlot[], timeoutMs?: number): Promise<void>;
  /** Last lines of a member's log, for failure messages. */
  logTail(i: number, lines?: number): string;
  /** SIGKILL every member, await their exits, delete the data dirs. */
  stop(): Promise<void>;
}

export interface StartEtcdClusterOptions {
  size: number;
  /** VM names of the initial members; default `test-<random>-m<i>`. */
  vmNames?: string[];
  /** Wait until every member is healthy (default true). */
  waitHealthy?: boolean;
}

const takenIps = new Set<string>();

export async function startEtcdCluster(opts: StartEtcdClusterOptions): Promise<EtcdTestCluster> {
  const root = mkdtempSync(join(tmpdir(), 'etcd-cluster-'));
  const ca = await createCa('etcd-ca');
  const client = await issueClientCert(ca, 'client');
  const caFile = join(root, 'ca.crt');
  writeFileSync(caFile, ca.cert);
  const token = `test-${randomBytes(6).toString('hex')}`;
  const prefix = `test-${randomBytes(2).toString('hex')}`;
  const members: EtcdTestMember[] = [];
  const slots: EtcdMemberSlot[] = [];

  async function reserveMember(vmName?: string): Promise<EtcdMemberSlot> {
    const vm = vmName ?? `${prefix}-m${slots.length}`;
    const ip = await freeLoopbackAddress();
    const dir = mkdtempSync(join(root, `${vm}-`));
    const memberCert = await issueMemberCert(ca, { vmName: vm, internalIp: ip });
    writeFileSync(join(dir, 'member.crt'), memberCert.cert);
    writeFileSync(join(dir, 'member.key'), memberCert.key, { mode: 0o600 });
    const slot: EtcdMemberSlot = {
      name: `etcd-${vm}`,
      vmName: vm,
      ip,
      clientUrl: `https://${ip}:2379`,
      peerUrl: `https://${ip}:2380`,
      dataDir: join(dir, 'data'),
      logFile: join(dir, 'etcd.log'),
      memberCert,
    };
    slots.push(slot);
    return slot;
  }

  function startMember(slot: EtcdMemberSlot, start: { state: 'new' | 'existing'; initialCluster: string }): EtcdTestMember {
    const dir = join(slot.dataDir, '..');
    const cert = join(dir, 'member.crt');
    const key = join(dir, 'member.key');
    const args = [
      '--name',
      slot.name,
      '--data-dir',
      slot.dataDir,
      '--logger',
      'zap',
      '--log-outputs',
      'stderr',
      '--listen-client-urls',
      slot.clientUrl,
      '--advertise-client-urls',
      slot.clientUrl,
      '--listen-peer-urls',
      slot.peerUrl,
      '--initial-advertise-peer-urls',
      slot.peerUrl,
      '--initial-cluster',
      start.initialCluster,
      '--initial-cluster-state',
      start.state,
      '--initial-cluster-token',
      token,
      '--cert-file',
      cert,
      '--key-file',
      key,
      '--trusted-ca-file',
      caFile,
      '--client-cert-auth',
      '--peer-cert-file',
      cert,
      '--peer-key-file',
      key,
      '--peer-trusted-ca-file',
      caFile,
      '--peer-client-cert-auth',
    ];
    const log = openSync(slot.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(ETCD_BINARY, args, { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    if (child.pid === undefined) throw new Error(`could not start ${ETCD_BINARY} for ${slot.name}`);
    const member: EtcdTestMember = {
      ...slot,
      pid: child.pid,
      running: true,
      exited: new Promise((resolve) => {
        child.once('exit', (code) => {
          member.running = false;
          resolve(code);
        });
      }),
    };
    members.push(member);
    return member;
  }

  const tls: TlsMaterial = { ca: ca.cert, cert: client.cert, key: client.key };

  async function waitHealthy(list: EtcdMemberSlot[], timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const m of list) {
      while (!(await isHealthy(m.clientUrl, tls))) {
        if (Date.now() > deadline) {
          throw new Error(`etcd member ${m.name} at ${m.clientUrl} not healthy after ${timeoutMs} ms; log:\n${tail(m.logFile, 20)}`);
        }
        await sleep(100);
      }
    }
  }

  async function kill(i: number): Promise<void> {
    const m = members[i];
    if (!m) throw new Error(`no member ${i}`);
    if (m.running) process.kill(m.pid, 'SIGKILL');
    await m.exited;
  }

  async function stop(): Promise<void> {
    await Promise.all(members.map((_, i) => kill(i)));
    for (const s of slots) takenIps.delete(s.ip);
    rmSync(root, { recursive: true, force: true });
  }

  const cluster: EtcdTestCluster = {
    ca,
    tls,
    members,
    endpoints: [],
    pids: () => members.filter((m) => m.running).map((m) => m.pid),
    kill,
    reserveMember,
    startMember,
    waitHealthy,
    logTail: (i, lines = 30) => tail(members[i]?.logFile ?? '', lines),
    stop,
  };
  try {
    for (let i = 0; i < opts.size; i++) await reserveMember(opts.vmNames?.[i]);
    const initialCluster = slots.map((s) => `${s.name}=${s.peerUrl}`).join(',');
    for (const s of [...slots]) startMember(s, { state: 'new', initialCluster });
    cluster.endpoints = slots.map((s) => s.clientUrl);
    if (opts.waitHealthy ?? true) await waitHealthy(slots);
  } catch (err) {
    await stop();
    throw err;
  }
  return cluster;
}

/** A random 127.B.x.y whose ports 2379 and 2380 are free right now. */
export async function freeLoopbackAddress(): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const b = randomBytes(3);
    const ip = `127.${16 + (b[0]! % 235)}.${b[1]!}.${1 + (b[2]! % 254)}`;
    if (takenIps.has(ip)) continue;
    if ((await canListen(ip, 2379)) && (await canListen(ip, 2380))) {
      takenIps.add(ip);
      return ip;
    }
  }
  throw new Error('no free loopback address found for an etcd member');
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** etcd's own /health over mTLS: true when the member can serve a quorum read. */
function isHealthy(clientUrl: string, tls: TlsMaterial): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${clientUrl}/health`, { ca: tls.ca, cert: tls.cert, key: tls.key, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
