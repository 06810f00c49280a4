// Regional forwarding rules to target pools (GCE's network load balancer). A rule carries
// traffic only after the programming delay; connections are spread round robin over the pool's
// backends that are RUNNING and, when the pool has a health check, HEALTHY. With no such backend
// a connection is accepted and closed. A removed rule stops listening at once.
import type { Socket } from 'node:net';
import type { RuntimeForwardingRule, RuntimeInstance } from './types.ts';
import type { HealthChecker } from './health-checker.ts';
import { listenTcpProxy } from './tcp-proxy.ts';
import type { ProxyTarget, VpcDialer } from './tcp-proxy.ts';
import type { Listening } from './listen.ts';

/** More ports than this in one rule are not served (only 443 is used; ranges are for completeness). */
const MAX_PORTS_PER_RULE = 16;

export interface LoadBalancerContext {
  lbProgrammingDelayMs: number;
  log: (line: string) => void;
  health: HealthChecker;
  instance: (key: string) => RuntimeInstance | undefined;
  dial?: VpcDialer;
}

const addressOf = (r: RuntimeForwardingRule): string => `${r.ip}:${r.portLow}-${r.portHigh}`;

class ProgrammedRule {
  /** The configuration that carries traffic now (undefined before the first programming). */
  active: RuntimeForwardingRule | undefined;
  /** The newest configuration, which becomes active at changedAt + delay. */
  pending: RuntimeForwardingRule;
  private listeners: Listening[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextBackend = 0;
  private readonly ctx: LoadBalancerContext;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(rule: RuntimeForwardingRule, ctx: LoadBalancerContext) {
    this.ctx = ctx;
    this.pending = rule;
    this.schedule();
  }

  update(rule: RuntimeForwardingRule): void {
    const sameProgramming = this.active && this.active.changedAt === rule.changedAt && addressOf(this.active) === addressOf(rule);
    this.pending = rule;
    // Pool membership or health-check edits without a new changedAt take effect at once.
    if (sameProgramming && this.listeners.length > 0) this.active = rule;
    else this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    const due = this.pending.changedAt + this.ctx.lbProgrammingDelayMs - Date.now();
    this.timer = setTimeout(
      () => {
        this.chain = this.chain.then(() => this.program());
      },
      Math.max(0, due),
    );
  }

  private async program(): Promise<void> {
    if (this.closed) return;
    const next = this.pending;
    // Also retried when nothing could be bound last time (the address was still in use).
    const relisten = !this.active || addressOf(this.active) !== addressOf(next) || this.listeners.length === 0;
    this.active = next;
    if (!relisten) return;
    await this.closeListeners();
    const high = Math.min(next.portHigh, next.portLow + MAX_PORTS_PER_RULE - 1);
    if (high < next.portHigh)
      this.ctx.log(`forwarding rule ${next.key}: serving only ports ${next.portLow}-${high} of ${next.portLow}-${next.portHigh}`);
    for (let port = next.portLow; port <= high && !this.closed; port++) {
      const l = await listenTcpProxy(next.ip, port, (client) => this.pick(port, client), `forwarding rule ${next.key}`, this.ctx.log);
      if (l) this.listeners.push(l);
    }
    if (this.closed) await this.closeListeners();
  }

  /** Backends that may get traffic now, in pool order. */
  eligibleBackends(): RuntimeInstance[] {
    const rule = this.active;
    if (!rule) return [];
    const out: RuntimeInstance[] = [];
    for (const key of rule.backends) {
      const inst = this.ctx.instance(key);
      if (inst?.status !== 'RUNNING') continue;
      if (rule.healthCheck && this.ctx.health.health(key, rule.healthCheck) !== 'HEALTHY') continue;
      out.push(inst);
    }
    return out;
  }

  private pick(port: number, _client: Socket): ProxyTarget | undefined {
    const backends = this.eligibleBackends();
    if (backends.length === 0) return undefined;
    const chosen = backends[this.nextBackend++ % backends.length]!;
    const dial = this.ctx.dial;
    return { host: chosen.internalIp, port, ...(dial ? { connect: () => dial(chosen, port) } : {}) };
  }

  private async closeListeners(): Promise<void> {
    const ls = this.listeners;
    this.listeners = [];
    await Promise.all(ls.map((l) => l.close()));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.chain;
    await this.closeListeners();
  }
}

export class LoadBalancer {
  private readonly rules = new Map<string, ProgrammedRule>();
  private readonly ctx: LoadBalancerContext;

  constructor(ctx: LoadBalancerContext) {
    this.ctx = ctx;
  }

  async sync(rules: RuntimeForwardingRule[]): Promise<void> {
    const wanted = new Map(rules.map((r) => [r.key, r]));
    const gone: Promise<void>[] = [];
    for (const [key, programmed] of this.rules) {
      if (!wanted.has(key)) {
        this.rules.delete(key);
        gone.push(programmed.close());
      }
    }
    await Promise.all(gone);
    for (const rule of rules) {
      const existing = this.rules.get(rule.key);
      if (existing) existing.update(rule);
      else this.rules.set(rule.key, new ProgrammedRule(rule, this.ctx));
    }
  }

  async stop(): Promise<void> {
    const all = [...this.rules.values()];
    this.rules.clear();
    await Promise.all(all.map((r) => r.close()));
  }
}
