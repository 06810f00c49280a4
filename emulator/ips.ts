// Loopback IP allocation. Each emulator (state dir) has its own second octet, so several emulators
// on one machine never hand out the same address; within one emulator an IP is never reused.
import type { MetaStore } from './store/meta.ts';
import { ApiError } from './http/errors.ts';

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
