// Leader election as client-go's leaderelection package does it with a LeaseLock
// (k8s.io/client-go/tools/leaderelection): acquire by creating the Lease or by taking over one whose
// holder this candidate has not seen renew for leaseDurationSeconds; renew every retryPeriod; give
// up leadership when renewals fail for renewDeadline. All writes carry the resourceVersion last
// read, so of two candidates racing for an expired lease only one wins.
import { ApiError } from './lease-client.ts';
import type { LeaseClient } from './lease-client.ts';
import type { Lease } from './leases.ts';
import { microTime } from './leases.ts';
import { klog } from './klog.ts';
import { Wakeup } from '../runtime/wakeup.ts';

/** Where the elector's klog-style lines go (stderr in the stand-in binaries). */
export interface ElectionLog {
  info(source: string, message: string): void;
  error(source: string, message: string): void;
}

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log?: ElectionLog;
}

interface Record {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

const JITTER = 1.2;

export class LeaderElector {
  private readonly cfg: LeaderElectionConfig;
  private readonly client: LeaseClient;
  private lease: Lease | undefined; // the object last read or written (its resourceVersion)
  private observed: Record | undefined;
  private observedRaw = '';
  private observedTime = 0;
  private stopped = false;
  private readonly wakeup = new Wakeup();
  private readonly log: ElectionLog;

  constructor(client: LeaseClient, cfg: LeaderElectionConfig) {
    this.client = client;
    this.cfg = cfg;
    this.log = cfg.log ?? klog;
  }

  /** The holder identity this candidate writes. */
  get identity(): string {
    return this.cfg.identity;
  }

  get description(): string {
    return `${this.cfg.namespace}/${this.cfg.name}`;
  }

  isLeader(): boolean {
    return this.observed?.holderIdentity === this.cfg.identity;
  }

  /** Ends acquire() and renew() at once (a pending request still completes). */
  stop(): void {
    this.stopped = true;
    this.wakeup.notify();
  }

  private sleep(ms: number): Promise<void> {
    return this.stopped ? Promise.resolve() : this.wakeup.sleep(ms);
  }

  /** Blocks until this candidate leads (or stop()); true when it acquired the lease. */
  async acquire(): Promise<boolean> {
    this.log.info('leaderelection.go:257', `attempting to acquire leader lease ${this.description}...`);
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew()) {
        this.log.info('leaderelection.go:271', `successfully acquired lease ${this.description}`);
        return true;
      }
      await this.sleep(this.cfg.retryPeriodMs * (1 + Math.random() * JITTER));
    }
    return false;
  }

  /** Renews until a renewal round fails for renewDeadline (leadership lost) or stop(). */
  async renew(): Promise<void> {
    while (!this.stopped) {
      const deadline = Date.now() + this.cfg.renewDeadlineMs;
      let renewed = false;
      while (!this.stopped && Date.now() < deadline) {
        if (await this.tryAcquireOrRenew()) {
          renewed = true;
          break;
        }
        await this.sleep(Math.min(this.cfg.retryPeriodMs, Math.max(0, deadline - Date.now())));
      }
      if (this.stopped) return;
      if (!renewed) {
        this.log.info('leaderelection.go:297', `failed to renew lease ${this.description}: context deadline exceeded`);
        return;
      }
      await this.sleep(this.cfg.retryPeriodMs);
    }
  }

  private leaseValid(now: number): boolean {
    return this.observed !== undefined && this.observedTime + this.observed.leaseDurationSeconds * 1000 > now;
  }

  private setObserved(record: Record, raw?: string): void {
    this.observed = record;
    this.observedRaw = raw ?? JSON.stringify(record);
    this.observedTime = Date.now();
  }

  private toLease(record: Record, base?: Lease): Lease {
    return {
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      metadata: base ? { ...base.metadata } : { name: this.cfg.name, namespace: this.cfg.namespace },
      spec: { ...(base?.spec ?? {}), ...record },
    };
  }

  private static recordOf(lease: Lease): Record {
    return {
      holderIdentity: lease.spec.holderIdentity ?? '',
      leaseDurationSeconds: lease.spec.leaseDurationSeconds ?? 0,
      acquireTime: lease.spec.acquireTime ?? '',
      renewTime: lease.spec.renewTime ?? '',
      leaseTransitions: lease.spec.leaseTransitions ?? 0,
    };
  }

  /** client-go's tryAcquireOrRenew, step by step. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const nowTime = microTime(new Date(now));
    const record: Record = {
      holderIdentity: this.cfg.identity,
      leaseDurationSeconds: Math.round(this.cfg.leaseDurationMs / 1000),
      acquireTime: nowTime,
      renewTime: nowTime,
      leaseTransitions: 0,
    };
    // 1. fast path: the leader updates the lease it wrote last, assuming nobody else did.
    if (this.isLeader() && this.leaseValid(now) && this.lease) {
      record.acquireTime = this.observed!.acquireTime;
      record.leaseTransitions = this.observed!.leaseTransitions;
      try {
        this.lease = await this.client.update(this.toLease(record, this.lease));
        this.setObserved(record);
        return true;
      } catch (err) {
        this.log.error(
          'leaderelection.go:429',
          `Failed to update lock optimistically: ${(err as Error).message}, falling back to slow path`,
        );
      }
    }
    // 2. get or create the lease
    let current: Lease;
    try {
      current = await this.client.get(this.cfg.namespace, this.cfg.name);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) {
        this.log.error('leaderelection.go:436', `error retrieving resource lock ${this.description}: ${(err as Error).message}`);
        return false;
      }
      try {
        this.lease = await this.client.create(this.toLease(record));
      } catch (createErr) {
        this.log.error('leaderelection.go:443', `error initially creating leader election record: ${(createErr as Error).message}`);
        return false;
      }
      this.setObserved(record);
      return true;
    }
    this.lease = current;
    // 3. the record exists: has its holder renewed within the lease duration (as observed here)?
    const old = LeaderElector.recordOf(current);
    const raw = JSON.stringify(old);
    if (raw !== this.observedRaw) this.setObserved(old, raw);
    if (old.holderIdentity !== '' && this.leaseValid(now) && !this.isLeader()) return false;
    // 4. take over or renew
    if (this.isLeader()) {
      record.acquireTime = old.acquireTime;
      record.leaseTransitions = old.leaseTransitions;
    } else {
      record.leaseTransitions = old.leaseTransitions + 1;
    }
    try {
      this.lease = await this.client.update(this.toLease(record, current));
    } catch (err) {
      this.log.error('leaderelection.go:459', `Failed to update lock: ${(err as Error).message}`);
      return false;
    }
    this.setObserved(record);
    return true;
  }
}
