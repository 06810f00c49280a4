// Loopback IP allocation. Each emulator (state dir) has its own second octet, so several emulators
// on one machine never hand out the same address; within one emulator an IP is never reused.
import type { MetaStore } from './store/meta.ts';
import { ApiError } from './http/errors.ts';
import { subnetAddress } from './vm/names.ts';

export type IpPool = 'internal' | 'ephemeral' | 'static';
const THIRD_OCTET: Record<IpPool, number> = { internal: 1, ephemeral: 2, static: 3 };

export class IpAllocator {
  private readonly meta: MetaStore;
  constructor(meta: MetaStore) {
    this.meta = meta;
  }

  allocate(pool: IpPool): string {
    const n = this.meta.value.next[pool];
    if (n > 254) throw new ApiError(503, 'resourceExhausted', `The emulator's ${pool} IP range is exhausted`);
    this.meta.value.next[pool] = n + 1;
    this.meta.save();
    return `127.${this.meta.value.octet}.${THIRD_OCTET[pool]}.${n}`;
  }

  /**
   * nic0's address: loopback (127.B.1.N) when VMs are processes on the host, else the next free
   * address of the region's GCE subnet (the VM runtime puts it in the VPC, never on the host).
   */
  allocateInternal(region: string, addressing: 'loopback' | 'vpc'): string {
    if (addressing === 'loopback') return this.allocate('internal');
    const next = (this.meta.value.nextInRegion ??= {});
    const n = next[region] ?? 2;
    // A /20 has 4096 addresses; GCE keeps the first two and the last two.
    if (n > 4093) throw new ApiError(503, 'resourceExhausted', `The emulator's subnet of ${region} is exhausted`);
    next[region] = n + 1;
    this.meta.save();
    return subnetAddress(region, n);
  }

  /** A caller-chosen static IP is accepted only if it is in the static range and not yet handed out. */
  claimStatic(ip: string): boolean {
    const m = /^127\.(\d+)\.3\.(\d+)$/.exec(ip);
    if (!m || Number(m[1]) !== this.meta.value.octet) return false;
    const n = Number(m[2]);
    if (n < this.meta.value.next.static || n > 254) return false;
    // Skipped numbers stay unused; the counter only moves forward.
    this.meta.value.next.static = n + 1;
    this.meta.save();
    return true;
  }
}
