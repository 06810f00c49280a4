// Helpers for tests that drive the emulator's VM runtime directly: instances, an etcd admin
// client as the action would use it, HTTPS/TCP probes and polling.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';
import type { RuntimeInstance, RuntimeOptions } from '../../emulator/runtime/types.ts';
import type { TestPki } from './runtime-certs.ts';

export function tempStateDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

export function runtimeOptions(stateDir: string, over: Partial<RuntimeOptions> = {}): RuntimeOptions & { lines: string[] } {
  const lines: string[] = [];
  return {
    stateDir,
    lbProgrammingDelayMs: 0,
    leaseRenewIntervalMs: 1000,
    etcdBinary: '/usr/bin/etcd',
    log: (line) => lines.push(line),
    lines,
    ...over,
  };
}

export function instance(
  stateDir: string,
  zone: string,
  name: string,
  internalIp: string,
  metadata: Record<string, string>,
  over: Partial<RuntimeInstance> = {},
): RuntimeInstance {
  const dataDiskDir = join(stateDir, 'disks', zone, `${name}-pd`);
  mkdirSync(dataDiskDir, { recursive: true });
  const base: RuntimeInstance = {
    key: `${zone}/${name}`,
    name,
    zone,
    status: 'RUNNING',
    internalIp,
    externalIps: [],
    metadata,
    dataDiskDir,
    project: 'runtime-test',
    id: '1',
    network: 'default',
    region: zone.replace(/-[a-z]$/, ''),
    bootImage: '',
    bootDiskDir: '',
    tags: [],
  };
  return { ...base, ...over };
}

/** An etcd client as the action has it (CN=client, no retries), for the given member IPs. */
export function adminClient(pki: TestPki, ips: string[]): Etcd3 {
  return new Etcd3({
    hosts: ips.map((ip) => `https://${ip}:2379`),
    credentials: {
      rootCertificate: Buffer.from(pki.etcdCa.cert),
      certChain: Buffer.from(pki.etcdClient.cert),
      privateKey: Buffer.from(pki.etcdClient.key),
    },
    faultHandling: { global: noop, host: () => noop },
    grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 1000 },
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `probe` returns a value other than undefined; fails with the last error after timeoutMs. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
      last = 'not yet';
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${last}`);
    await sleep(everyMs);
  }
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** GET over HTTPS, verifying the server against `ca` with the given server name (null: the IP itself). */
export function httpsGet(
  ip: string,
  port: number,
  path: string,
  ca: string,
  servername: string | null = 'kubernetes',
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: ip, port, path, ca, agent: false, ...(servername ? { servername } : {}), timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export function httpGet(ip: string, port: number, path: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: ip, port, path, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The error code of a TCP connect (e.g. 'ECONNREFUSED'), or 'connected'. */
export function tcpConnectResult(ip: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** True while the process exists and is not a zombie (a killed, not yet reaped process is dead). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** memberAdd as a learner, retrying etcd's "unhealthy cluster" refusal (strict reconfig check). */
export async function addLearner(client: Etcd3, peerUrl: string): Promise<string> {
  return waitFor(
    `learner ${peerUrl} added`,
    30_000,
    async () => {
      const res = await client.cluster.memberAdd({ peerURLs: [peerUrl], isLearner: true }, { deadline: Date.now() + 3000 });
      return res.member.ID;
    },
    300,
  );
}

/** Promote, retrying "not in sync" until the learner has caught up. */
export async function promote(client: Etcd3, id: string): Promise<void> {
  await waitFor(
    `member ${id} promoted`,
    30_000,
    async () => {
      await client.cluster.memberPromote({ ID: id }, { deadline: Date.now() + 3000 });
      return true;
    },
    200,
  );
}
