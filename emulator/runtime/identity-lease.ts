// The APIServerIdentity lease a kube-apiserver keeps: kube-system/kube-apiserver-<uuid>, a new
// identity each time the process starts, renewed on an interval (and recreated if someone
// deleted it), so that stale identities of vanished apiservers can be found and removed.
import { randomUUID } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { LEASE_NAMESPACE, microTime, putLease, secondTime } from './lease-store.ts';
import type { LeaseObject } from './lease-store.ts';
import { Wakeup } from './wakeup.ts';

export const APISERVER_COMPONENT_LABEL = 'k8s.io/component';
export const LEASE_DURATION_SECONDS = 3600;

export class IdentityLease {
  readonly name = `kube-apiserver-${randomUUID()}`;
  private readonly uid = randomUUID();
  private readonly createdAt = secondTime(new Date());
  private readonly etcd: Etcd3;
  private readonly hostname: string;
  private readonly intervalMs: number;
  private readonly wakeup = new Wakeup();
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(etcd: Etcd3, hostname: string, intervalMs: number) {
    this.etcd = etcd;
    this.hostname = hostname;
    this.intervalMs = intervalMs;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeup.notify();
    await this.loop;
  }

  private object(now: Date): LeaseObject {
    return {
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      metadata: {
        name: this.name,
        namespace: LEASE_NAMESPACE,
        uid: this.uid,
        creationTimestamp: this.createdAt,
        labels: { [APISERVER_COMPONENT_LABEL]: 'kube-apiserver', 'kubernetes.io/hostname': this.hostname },
      },
      spec: { holderIdentity: this.name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(now) },
    };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let ok = true;
      try {
        await putLease(this.etcd, this.object(new Date()));
      } catch {
        ok = false; // etcd down or no quorum: like kube-apiserver, try again soon
      }
      if (this.stopped) break;
      await this.wakeup.sleep(ok ? this.intervalMs : Math.min(this.intervalMs, 1000));
    }
  }
}
