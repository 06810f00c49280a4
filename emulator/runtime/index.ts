// The emulator's VM runtime: makes processes and sockets match the desired world, level-
// triggered. RUNNING master replicas get etcd + kube-apiserver stand-in + health sidecar;
// external IPs get one-to-one NAT; forwarding rules get load-balanced listeners. apply() calls
// are serialised, and each one returns once sockets are bound and vanished VMs are gone (etcd
// itself starts in the background: it may wait for certificates or its cluster).
import type { RuntimeForwardingRule, RuntimeHealthCheck, RuntimeInstance, RuntimeOptions, RuntimeWorld, VmRuntime } from './types.ts';
import { masterSpecOf } from './master-spec.ts';
import { MasterVm } from './master-vm.ts';
import { MasterKeys } from './master-keys.ts';
import { ExternalNat } from './external-nat.ts';
import { HealthChecker } from './health-checker.ts';
import { LoadBalancer } from './load-balancer.ts';
import { restoreIfAsked } from './snapshot-restore.ts';

export type { RuntimeForwardingRule, RuntimeHealthCheck, RuntimeInstance, RuntimeOptions, RuntimeWorld, VmRuntime } from './types.ts';

/** Extras beyond the fixed VmRuntime boundary, for tests and diagnostics. */
export interface VmRuntimeDetails extends VmRuntime {
  /** Name of the identity lease the VM's apiserver keeps, if it runs (the same across restarts). */
  identityLeaseName(instanceKey: string): string | undefined;
  /** The holder identity the VM's apiserver process writes into it (new on each start). */
  identityLeaseHolder(instanceKey: string): string | undefined;
  /** PID of the VM's etcd, if it runs. */
  etcdPid(instanceKey: string): number | undefined;
}

export function createVmRuntime(options: RuntimeOptions): VmRuntimeDetails {
  const log = options.log;
  let instances = new Map<string, RuntimeInstance>();
  const vms = new Map<string, MasterVm>();
  const keys = new MasterKeys(options.readSecret, log);
  /** Per instance, `ha-masters/startup` as vm/startup.sh reports it (when guest attributes are enabled). */
  const startup = new Map<string, string>();
  /** VMs whose restore failed at this boot: they start nothing until they are powered off. */
  const failedRestores = new Set<string>();
  const health = new HealthChecker();
  const nat = new ExternalNat(log);
  const lb = new LoadBalancer({ lbProgrammingDelayMs: options.lbProgrammingDelayMs, log, health, instance: (key) => instances.get(key) });
  let stopped = false;
  let queue: Promise<void> = Promise.resolve();

  // Internal DNS: a VM name resolves to the internal IP of a RUNNING instance of that name.
  const resolveVm = (vm: string): string | undefined => {
    for (const inst of instances.values()) if (inst.name === vm && inst.status === 'RUNNING') return inst.internalIp;
    return undefined;
  };

  const serialised = (work: () => Promise<void>): Promise<void> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };

  async function reconcileVms(world: RuntimeWorld): Promise<void> {
    const desired = new Map<string, { instance: RuntimeInstance; spec: NonNullable<ReturnType<typeof masterSpecOf>> }>();
    const running = new Set(world.instances.filter((i) => i.status === 'RUNNING').map((i) => i.key));
    keys.poweredOff(running);
    for (const key of startup.keys()) if (!running.has(key)) startup.delete(key);
    for (const key of failedRestores) if (!running.has(key)) failedRestores.delete(key);
    for (const instance of world.instances) {
      if (instance.status !== 'RUNNING' || failedRestores.has(instance.key)) continue;
      const report = (status: string) => {
        if (instance.metadata['enable-guest-attributes']?.toUpperCase() === 'TRUE') startup.set(instance.key, status);
      };
      const withKeys = await keys.resolve(instance);
      if (!withKeys.ok) {
        report(`failed: ${withKeys.reason}`);
        continue;
      }
      const spec = masterSpecOf({ ...instance, metadata: withKeys.metadata });
      if (!spec) continue;
      desired.set(instance.key, { instance, spec });
      report(spec.member ? 'ok' : 'running: waiting for etcd-member-certs');
    }
    const stopping: Promise<void>[] = [];
    for (const [key, vm] of vms) {
      const want = desired.get(key);
      if (!want || want.spec.fingerprint !== vm.fingerprint) {
        vms.delete(key);
        stopping.push(vm.stop());
      }
    }
    await Promise.all(stopping);
    for (const [key, { instance, spec }] of desired) {
      const existing = vms.get(key);
      if (existing) {
        await existing.update(spec);
        continue;
      }
      // Before etcd starts, as vm/startup.sh: a restore that fails is the start-up's failure, until the next boot.
      const failed = await restoreIfAsked(spec, {
        dataDiskDir: instance.dataDiskDir,
        etcdBinary: options.etcdBinary,
        serviceAccount: instance.serviceAccountEmail,
        read: options.readObject ?? (async () => ({ status: 503 })),
        log,
      });
      if (failed) {
        log(`${key}: start-up failed: ${failed}`);
        failedRestores.add(key);
        if (instance.metadata['enable-guest-attributes']?.toUpperCase() === 'TRUE') startup.set(key, `failed: ${failed}`);
        continue;
      }
      const vm = new MasterVm(instance, spec, {
        stateDir: options.stateDir,
        etcdBinary: options.etcdBinary,
        leaseRenewIntervalMs: options.leaseRenewIntervalMs,
        log,
        resolveVm,
      });
      vms.set(key, vm);
      await vm.start();
    }
  }

  function healthChecksOf(rules: RuntimeForwardingRule[]): { instanceKey: string; check: RuntimeHealthCheck }[] {
    return rules.flatMap((r) => (r.healthCheck ? r.backends.map((instanceKey) => ({ instanceKey, check: r.healthCheck! })) : []));
  }

  return {
    apply(world) {
      return serialised(async () => {
        if (stopped) return;
        instances = new Map(world.instances.map((i) => [i.key, i]));
        await reconcileVms(world);
        health.sync(healthChecksOf(world.forwardingRules), instances);
        // Rules that went away free their addresses before NAT binds: a static IP can move
        // from a forwarding rule to an instance in one change.
        await lb.sync(world.forwardingRules);
        await nat.sync(world.instances);
      });
    },

    backendHealth(instanceKey, check) {
      return health.health(instanceKey, check);
    },

    killEtcd(instanceKey, keepDown) {
      return serialised(async () => {
        const vm = vms.get(instanceKey);
        // A VM that is not running has no etcd to kill; its next boot starts etcd as usual.
        if (!vm) return log(`killEtcd ${instanceKey}: no running master VM, nothing to kill`);
        await vm.etcd.kill(keepDown);
      });
    },

    pids() {
      return [...vms.values()].flatMap((vm) => vm.pids());
    },

    guestAttributes(instanceKey) {
      const status = startup.get(instanceKey);
      return new Map(status === undefined ? [] : [['ha-masters/startup', status]]);
    },

    identityLeaseName(instanceKey) {
      return vms.get(instanceKey)?.apiserver.lease.name;
    },

    identityLeaseHolder(instanceKey) {
      return vms.get(instanceKey)?.apiserver.lease.holder;
    },

    etcdPid(instanceKey) {
      return vms.get(instanceKey)?.etcd.pid;
    },

    stop() {
      return serialised(async () => {
        stopped = true;
        const all = [...vms.values()];
        vms.clear();
        health.stop();
        await Promise.all([...all.map((vm) => vm.stop()), nat.stop(), lb.stop()]);
      });
    },
  };
}
