// Legacy HTTP health checks of target-pool backends, as GCE runs them: GET
// http://<instance IP>:<port><requestPath> every checkIntervalSec; 200 within timeoutSec is a
// success; healthyThreshold successes in a row make a backend HEALTHY, unhealthyThreshold
// failures in a row make it UNHEALTHY. A new backend starts UNHEALTHY; a backend whose instance
// is not RUNNING is UNHEALTHY at once.
import { request } from 'node:http';
import type { RuntimeHealthCheck, RuntimeInstance } from './types.ts';
import type { VpcDialer } from './tcp-proxy.ts';

export type Health = 'HEALTHY' | 'UNHEALTHY';

export function probeKey(instanceKey: string, check: RuntimeHealthCheck): string {
  return `${instanceKey}|${check.port}|${check.requestPath}|${check.checkIntervalSec}|${check.timeoutSec}|${check.healthyThreshold}|${check.unhealthyThreshold}`;
}

function probeOnce(instance: RuntimeInstance, check: RuntimeHealthCheck, dial: VpcDialer | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    // Node uses createConnection only without an agent (`agent: false` makes a fresh one, which
    // would dial the internal IP from the host itself).
    const connection = dial ? { createConnection: () => dial(instance, check.port) } : { agent: false as const };
    const req = request(
      {
        host: instance.internalIp,
        port: check.port,
        path: check.requestPath,
        method: 'GET',
        timeout: check.timeoutSec * 1000,
        ...connection,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

class Prober {
  health: Health = 'UNHEALTHY';
  private streak = 0;
  private lastOk: boolean | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private readonly check: RuntimeHealthCheck;
  instance: RuntimeInstance | undefined;
  private readonly dial: VpcDialer | undefined;

  constructor(check: RuntimeHealthCheck, instance: RuntimeInstance | undefined, dial: VpcDialer | undefined) {
    this.check = check;
    this.instance = instance;
    this.dial = dial;
    this.timer = setInterval(() => void this.tick(), Math.max(check.checkIntervalSec, 0.1) * 1000);
    void this.tick();
  }

  setInstance(instance: RuntimeInstance | undefined): void {
    this.instance = instance;
    if (instance?.status !== 'RUNNING') this.record(false, true);
  }

  private async tick(): Promise<void> {
    if (this.inFlight || !this.timer) return;
    const instance = this.instance;
    if (instance?.status !== 'RUNNING') return this.record(false, true);
    this.inFlight = true;
    const ok = await probeOnce(instance, this.check, this.dial);
    this.inFlight = false;
    if (this.timer) this.record(ok, false);
  }

  private record(ok: boolean, immediate: boolean): void {
    this.streak = ok === this.lastOk ? this.streak + 1 : 1;
    this.lastOk = ok;
    if (immediate) this.health = 'UNHEALTHY';
    else if (ok && this.streak >= this.check.healthyThreshold) this.health = 'HEALTHY';
    else if (!ok && this.streak >= this.check.unhealthyThreshold) this.health = 'UNHEALTHY';
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

export class HealthChecker {
  private readonly probers = new Map<string, Prober>();
  private readonly dial: VpcDialer | undefined;

  constructor(dial?: VpcDialer) {
    this.dial = dial;
  }

  /** Probes exactly these (backend, check) pairs from now on. */
  sync(wanted: { instanceKey: string; check: RuntimeHealthCheck }[], instances: Map<string, RuntimeInstance>): void {
    const keep = new Set<string>();
    for (const { instanceKey, check } of wanted) {
      const key = probeKey(instanceKey, check);
      keep.add(key);
      const existing = this.probers.get(key);
      if (existing) existing.setInstance(instances.get(instanceKey));
      else this.probers.set(key, new Prober(check, instances.get(instanceKey), this.dial));
    }
    for (const [key, prober] of this.probers) {
      if (!keep.has(key)) {
        prober.stop();
        this.probers.delete(key);
      }
    }
  }

  health(instanceKey: string, check: RuntimeHealthCheck): Health {
    return this.probers.get(probeKey(instanceKey, check))?.health ?? 'UNHEALTHY';
  }

  stop(): void {
    for (const prober of this.probers.values()) prober.stop();
    this.probers.clear();
  }
}
