// One VM's etcd, supervised the way the kubelet runs the etcd static pod: it waits for the
// member certificate, decides how to start (new / join existing / reboot on existing data),
// and restarts the process with a bounded back-off whenever it exits.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MasterSpec } from './master-spec.ts';
import { memberNameOf, peerUrlOf, resolveInitialCluster } from './etcd-join.ts';
import type { SeedAddress } from './etcd-join.ts';
import { trackPid, untrackPid } from './process-reaper.ts';
import { Wakeup } from './wakeup.ts';
import { writePrivateFile } from './vm-files.ts';

export interface EtcdMemberOptions {
  key: string;
  vmDir: string;
  dataDiskDir: string;
  etcdBinary: string;
  log: (line: string) => void;
  /** Internal DNS: VM name -> internal IP of a RUNNING instance, from the current world. */
  resolveVm: (vm: string) => string | undefined;
}

const BACKOFF_START_MS = 250;
const BACKOFF_CAP_MS = 5000;
/** A run this long counts as healthy: the back-off starts over. */
const STABLE_RUN_MS = 10_000;
const JOIN_POLL_MS = 500;

export class EtcdMember {
  private readonly opts: EtcdMemberOptions;
  private spec: MasterSpec;
  private child: ChildProcess | undefined;
  private childExit: Promise<void> | undefined;
  private stopped = false;
  private keepDown = false;
  private readonly wakeup = new Wakeup();
  private loop: Promise<void> | undefined;

  constructor(spec: MasterSpec, opts: EtcdMemberOptions) {
    this.spec = spec;
    this.opts = opts;
  }

  get dataDir(): string {
    return join(this.opts.dataDiskDir, 'etcd');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.loop ??= this.run().catch((err: unknown) => this.opts.log(`${this.opts.key}: etcd supervisor failed: ${(err as Error).stack}`));
  }

  /** New metadata (same fingerprint): e.g. the member certificate has just arrived. */
  update(spec: MasterSpec): void {
    this.spec = spec;
    this.wakeup.notify();
  }

  /** Fault injection: SIGKILL now; with keepDown it stays down until kill(…, false) or a VM restart. */
  async kill(keepDown: boolean): Promise<void> {
    this.keepDown = keepDown;
    await this.killChild();
    this.wakeup.notify();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeup.notify();
    await this.killChild();
    await this.loop;
  }

  private async killChild(): Promise<void> {
    const child = this.child;
    const exited = this.childExit;
    if (!child || !exited) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }

  private async run(): Promise<void> {
    let backoff = BACKOFF_START_MS;
    let failures = 0;
    let waitingLogged = '';
    const waitingFor = (what: string): void => {
      if (waitingLogged !== what) this.opts.log(`${this.opts.key}: etcd waits for ${what}`);
      waitingLogged = what;
    };
    while (!this.stopped) {
      if (this.keepDown) {
        await this.wakeup.sleep(60_000);
        continue;
      }
      const spec = this.spec;
      if (!spec.member) {
        waitingFor('the etcd-member-certs metadata');
        await this.wakeup.sleep(60_000);
        continue;
      }
      const initial = await this.initialFlags(spec);
      if (this.stopped || this.keepDown) continue;
      if (!initial.ok) {
        waitingFor(`its own member in the cluster (${initial.reason})`);
        await this.wakeup.sleep(JOIN_POLL_MS);
        continue;
      }
      waitingLogged = '';
      const startedAt = Date.now();
      const exit = await this.spawnAndWait(spec, initial.flags);
      if (this.stopped) break;
      if (Date.now() - startedAt >= STABLE_RUN_MS) {
        backoff = BACKOFF_START_MS;
        failures = 0;
      }
      failures += 1;
      // A removed member fails forever: say so once, then stay quiet.
      if (failures === 1 && !this.keepDown)
        this.opts.log(`${this.opts.key}: etcd exited (${exit}); restarting with back-off (log: ${this.logPath})`);
      if (!this.keepDown) await this.wakeup.sleep(backoff);
      backoff = Math.min(backoff * 2, BACKOFF_CAP_MS);
    }
  }

  private get logPath(): string {
    return join(this.opts.vmDir, 'etcd.log');
  }

  private hasData(): boolean {
    const memberDir = join(this.dataDir, 'member');
    return existsSync(memberDir) && readdirSync(memberDir).length > 0;
  }

  private async initialFlags(spec: MasterSpec): Promise<{ ok: true; flags: string[] } | { ok: false; reason: string }> {
    if (this.hasData()) {
      // As vm/startup.sh: once per nonce, a new one-member cluster from this member's data. (The
      // script records the nonce once etcd answers; here it is recorded as etcd starts.)
      const nonce = spec.forceNewCluster;
      const applied = join(this.opts.dataDiskDir, 'force-new-cluster.applied');
      if (nonce && (existsSync(applied) ? readFileSync(applied, 'utf8') : '') !== nonce) {
        writeFileSync(applied, nonce, { mode: 0o600 });
        this.opts.log(`${this.opts.key}: etcd forms a new one-member cluster from its data (etcd-force-new-cluster ${nonce})`);
        return { ok: true, flags: ['--force-new-cluster'] };
      }
      return { ok: true, flags: [] };
    }
    const self = `${memberNameOf(spec.vm)}=${peerUrlOf(spec.internalIp)}`;
    if (spec.initialState === 'new') return { ok: true, flags: ['--initial-cluster', self, '--initial-cluster-state', 'new'] };
    const seeds: SeedAddress[] = [];
    for (const vm of spec.initialCluster) {
      if (vm === spec.vm) continue;
      const ip = this.opts.resolveVm(vm);
      if (ip) seeds.push({ vm, ip });
    }
    const joined = await resolveInitialCluster(spec, seeds);
    if (!joined.ok) return joined;
    return { ok: true, flags: ['--initial-cluster', joined.initialCluster, '--initial-cluster-state', 'existing'] };
  }

  private writeCerts(spec: MasterSpec): { ca: string; cert: string; key: string } {
    const ca = join(this.opts.vmDir, 'etcd-ca.crt');
    const cert = join(this.opts.vmDir, 'etcd-member.crt');
    const key = join(this.opts.vmDir, 'etcd-member.key');
    writePrivateFile(ca, spec.etcdCaCert);
    writePrivateFile(cert, spec.member!.cert);
    writePrivateFile(key, spec.member!.key);
    return { ca, cert, key };
  }

  /** Resolves with a description of how the process ended. */
  private async spawnAndWait(spec: MasterSpec, initialFlags: string[]): Promise<string> {
    const files = this.writeCerts(spec);
    mkdirSync(this.opts.dataDiskDir, { recursive: true });
    const clientUrl = `https://${spec.internalIp}:2379`;
    const peerUrl = peerUrlOf(spec.internalIp);
    const args = [
      '--name',
      memberNameOf(spec.vm),
      '--data-dir',
      this.dataDir,
      '--listen-client-urls',
      clientUrl,
      '--advertise-client-urls',
      clientUrl,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--cert-file',
      files.cert,
      '--key-file',
      files.key,
      '--trusted-ca-file',
      files.ca,
      '--client-cert-auth',
      '--peer-cert-file',
      files.cert,
      '--peer-key-file',
      files.key,
      '--peer-trusted-ca-file',
      files.ca,
      '--peer-client-cert-auth',
      '--logger',
      'zap',
      '--log-outputs',
      'stderr',
      ...initialFlags,
    ];
    const logFd = openSync(this.logPath, 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(this.opts.etcdBinary, args, { stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    const exited = new Promise<string>((resolve) => {
      child.once('error', (err) => resolve(`could not start ${this.opts.etcdBinary}: ${err.message}`));
      child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
    });
    this.child = child;
    this.childExit = exited.then(() => undefined);
    if (child.pid !== undefined) trackPid(child.pid);
    const how = await exited;
    if (child.pid !== undefined) untrackPid(child.pid);
    this.child = undefined;
    this.childExit = undefined;
    return how;
  }
}
