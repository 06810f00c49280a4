// GCE's one-to-one NAT of external IPs: tcp:443 on each external IP of a RUNNING instance is
// relayed to the instance's internal IP. Stopped instances lose it at once.
import type { RuntimeInstance } from './types.ts';
import { listenTcpProxy } from './tcp-proxy.ts';
import type { ProxyTarget, VpcDialer } from './tcp-proxy.ts';
import type { Listening } from './listen.ts';

export const NAT_PORTS = [443];

interface Mapping {
  internalIp: string;
  listeners: Listening[];
}

export class ExternalNat {
  private readonly mappings = new Map<string, Mapping>();
  private readonly log: (line: string) => void;
  private readonly dial: VpcDialer | undefined;

  constructor(log: (line: string) => void, dial?: VpcDialer) {
    this.log = log;
    this.dial = dial;
  }

  async sync(instances: RuntimeInstance[]): Promise<void> {
    const wanted = new Map<string, RuntimeInstance>();
    for (const inst of instances) {
      if (inst.status !== 'RUNNING') continue;
      for (const ip of inst.externalIps) wanted.set(ip, inst);
    }
    for (const [ip, mapping] of [...this.mappings]) {
      if (wanted.get(ip)?.internalIp !== mapping.internalIp) {
        this.mappings.delete(ip);
        await Promise.all(mapping.listeners.map((l) => l.close()));
      }
    }
    for (const [ip, inst] of wanted) {
      if (this.mappings.has(ip)) continue;
      const listeners: Listening[] = [];
      for (const port of NAT_PORTS) {
        const dial = this.dial;
        const target: ProxyTarget = { host: inst.internalIp, port, ...(dial ? { connect: () => dial(inst, port) } : {}) };
        const l = await listenTcpProxy(ip, port, () => target, `external IP of ${inst.key}`, this.log);
        if (l) listeners.push(l);
      }
      // Not bound (e.g. a forwarding rule still held the address): the next apply tries again.
      if (listeners.length > 0) this.mappings.set(ip, { internalIp: inst.internalIp, listeners });
    }
  }

  async stop(): Promise<void> {
    const all = [...this.mappings.values()];
    this.mappings.clear();
    await Promise.all(all.flatMap((m) => m.listeners.map((l) => l.close())));
  }
}
