// kube-controller-manager and kube-scheduler of one master VM, reduced to what the cluster can see
// of them: leader election on kube-system/<component> through the VM's own apiserver, with the
// component's client certificate and the real components' defaults (15 s lease, 10 s renew
// deadline, 2 s retry) and identity `<hostname>_<uuid>`. A leader that loses its lease starts
// over as a candidate, as the real component does after systemd restarts it.
import { randomUUID } from 'node:crypto';
import { LeaseClient } from '../standins/lease-client.ts';
import { LeaderElector } from '../standins/leader-election.ts';
import { APISERVER_PORT } from './apiserver.ts';
import type { MasterSpec } from './master-spec.ts';

const LEASE_DURATION_MS = 15_000;
const RENEW_DEADLINE_MS = 10_000;
const RETRY_PERIOD_MS = 2_000;
/** The shared serving certificate names the service, not each internal IP. */
const SERVER_NAME = 'kubernetes';

type Component = 'kube-controller-manager' | 'kube-scheduler';

interface Running {
  elector: LeaderElector;
  client: LeaseClient;
  loop: Promise<void>;
}

export class ControlPlaneComponents {
  private readonly running: Running[] = [];

  constructor(spec: MasterSpec, key: string, log: (line: string) => void) {
    const credentials: [Component, { cert: string; key: string } | undefined][] = [
      ['kube-controller-manager', spec.controllerManager],
      ['kube-scheduler', spec.scheduler],
    ];
    for (const [component, cred] of credentials) {
      if (!cred) continue;
      const client = new LeaseClient(
        {
          server: `https://${spec.internalIp}:${APISERVER_PORT}`,
          ca: Buffer.from(spec.apiserverCaCert),
          cert: Buffer.from(cred.cert),
          key: Buffer.from(cred.key),
          serverName: SERVER_NAME,
          insecure: false,
        },
        `${component}/emulator leader-election`,
        RENEW_DEADLINE_MS / 2,
      );
      const prefix = `${key} ${component}`;
      const elector = new LeaderElector(client, {
        namespace: 'kube-system',
        name: component,
        identity: `${spec.vm}_${randomUUID()}`,
        leaseDurationMs: LEASE_DURATION_MS,
        renewDeadlineMs: RENEW_DEADLINE_MS,
        retryPeriodMs: RETRY_PERIOD_MS,
        log: { info: (src, msg) => log(`${prefix}: ${src}] ${msg}`), error: (src, msg) => log(`${prefix}: ${src}] ${msg}`) },
      });
      this.running.push({ elector, client, loop: Promise.resolve() });
    }
  }

  start(): void {
    for (const r of this.running) r.loop = this.lead(r.elector);
  }

  private async lead(elector: LeaderElector): Promise<void> {
    while (await elector.acquire()) await elector.renew();
  }

  async stop(): Promise<void> {
    for (const r of this.running) r.elector.stop();
    await Promise.all(this.running.map((r) => r.loop));
    for (const r of this.running) r.client.close();
  }

  /** The holder identities this VM's components write (for tests). */
  identities(): string[] {
    return this.running.map((r) => r.elector.identity);
  }
}
