// The APIServerIdentity lease a kube-apiserver keeps (apiserver-identity.ts: named after the
// hostname, a new holder each time the process starts), renewed on an interval (and recreated if
// someone deleted it), so that stale identities of vanished apiservers can be found and removed.
import { randomUUID } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { LEASE_NAMESPACE, microTime, putLease, secondTime } from './lease-store.ts';
import type { LeaseObject } from './lease-store.ts';
import { IDENTITY_LEASE_SECONDS, identityLabels, identityLeaseName, newIdentityHolder } from './apiserver-identity.ts';
import { Wakeup } from './wakeup.ts';

export class IdentityLease {
  readonly name: string;
  readonly holder: string;
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
    this.name = identityLeaseName(hostname);
    this.holder = newIdentityHolder(this.name);
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
        labels: identityLabels(this.hostname),
      },
      spec: { holderIdentity: this.holder, leaseDurationSeconds: IDENTITY_LEASE_SECONDS, renewTime: microTime(now) },
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
