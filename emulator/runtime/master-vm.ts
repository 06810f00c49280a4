// One running master replica VM: its etcd, its kube-apiserver stand-in, its health sidecar, and
// the leader election of its kube-controller-manager and kube-scheduler.
// Created when the instance is RUNNING, stopped (as if power were cut) when it is not.
import type { RuntimeInstance } from './types.ts';
import type { MasterSpec } from './master-spec.ts';
import { EtcdMember } from './etcd-member.ts';
import { ApiServerStandIn } from './apiserver.ts';
import { startHealthSidecar } from './health-sidecar.ts';
import { ControlPlaneComponents } from './control-plane.ts';
import type { Listening } from './listen.ts';
import { vmDirOf } from './vm-files.ts';

export interface MasterVmContext {
  stateDir: string;
  etcdBinary: string;
  leaseRenewIntervalMs: number;
  log: (line: string) => void;
  resolveVm: (vm: string) => string | undefined;
}

export class MasterVm {
  readonly key: string;
  readonly fingerprint: string;
  private memberFingerprint: string;
  readonly etcd: EtcdMember;
  readonly apiserver: ApiServerStandIn;
  readonly components: ControlPlaneComponents;
  private sidecar: Listening | undefined;
  private readonly ctx: MasterVmContext;
  private readonly spec: MasterSpec;

  constructor(instance: RuntimeInstance, spec: MasterSpec, ctx: MasterVmContext) {
    this.key = instance.key;
    this.fingerprint = spec.fingerprint;
    this.memberFingerprint = spec.memberFingerprint;
    this.ctx = ctx;
    this.spec = spec;
    const vmDir = vmDirOf(ctx.stateDir, instance.zone, instance.name);
    this.etcd = new EtcdMember(spec, {
      key: instance.key,
      vmDir,
      dataDiskDir: instance.dataDiskDir,
      etcdBinary: ctx.etcdBinary,
      log: ctx.log,
      resolveVm: ctx.resolveVm,
    });
    this.apiserver = new ApiServerStandIn(spec, { key: instance.key, leaseRenewIntervalMs: ctx.leaseRenewIntervalMs, log: ctx.log });
    this.components = new ControlPlaneComponents(spec, instance.key, ctx.log);
  }

  async start(): Promise<void> {
    this.etcd.start();
    await this.apiserver.start();
    this.sidecar = await startHealthSidecar(this.spec.internalIp, `${this.key} health sidecar`, this.ctx.log);
    this.components.start();
  }

  /** Metadata changed without touching the cluster certificates or the IP. */
  async update(spec: MasterSpec): Promise<void> {
    // A replaced member certificate restarts etcd (the kubelet would see a changed manifest); its
    // first arrival just lets the waiting etcd start.
    const replaced = this.memberFingerprint !== '' && spec.memberFingerprint !== this.memberFingerprint;
    this.memberFingerprint = spec.memberFingerprint;
    this.etcd.update(spec);
    if (replaced) await this.etcd.kill(false);
  }

  pids(): number[] {
    const pid = this.etcd.pid;
    return pid === undefined ? [] : [pid];
  }

  async stop(): Promise<void> {
    // The components first: they would only log failed renewals against a stopped apiserver.
    await this.components.stop();
    await Promise.all([this.etcd.stop(), this.apiserver.stop(), this.sidecar?.close()]);
  }
}
