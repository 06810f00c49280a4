// Where an IAP tunnel goes: the instance the stored world names (project, zone, name), whether
// GCE's firewall lets IAP's range (35.235.240.0/20) in on the port, and the TCP connection to
// nic0's internal IP. The firewall is checked from the stored rules on every runtime, so a missing
// rule fails the same way, and at once, whether or not the runtime has a VPC to enforce it in.
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { EmulatorContext } from '../context.ts';
import type { RuntimeInstance } from '../runtime/types.ts';
import { computeWorld, firewallsOf } from '../world.ts';
import { decidingRule } from '../vm/firewall.ts';
import { SOURCE_IPS } from '../vm/names.ts';

export function findInstance(ctx: EmulatorContext, project: string, zone: string, name: string): RuntimeInstance | undefined {
  return computeWorld(ctx).instances.find((i) => i.project === project && i.zone === zone && i.name === name);
}

/** Why IAP cannot reach `inst`:`port` (for the log), or undefined when it may try. */
export function unreachableWhy(ctx: EmulatorContext, inst: RuntimeInstance, port: number): string | undefined {
  if (inst.status !== 'RUNNING') return `instance ${inst.key} is ${inst.status}`;
  if (!inst.internalIp) return `instance ${inst.key} has no internal IP`;
  const network = computeWorld(ctx).instances.filter((i) => i.project === inst.project && i.network === inst.network);
  const rule = decidingRule(inst, firewallsOf(ctx, inst.project), network, SOURCE_IPS.iap, port);
  if (!rule) return `no firewall rule of network ${inst.network} allows tcp:${port} from IAP's range 35.235.240.0/20 into ${inst.key}`;
  if (rule.action === 'deny') return `firewall rule ${rule.name} denies tcp:${port} from ${SOURCE_IPS.iap} into ${inst.key}`;
  return undefined;
}

/** A TCP connection to the VM, resolved once it is up; rejects when refused or not up in time. */
export function connectToVm(ctx: EmulatorContext, inst: RuntimeInstance, port: number, timeoutMs: number): Promise<Socket> {
  const runtime = ctx.runtime;
  if (runtime.connectForIap) return runtime.connectForIap(inst, port, timeoutMs);
  // Only VMs on the host's loopback are dialled directly: a VPC address is never the host's to reach.
  if (!inst.internalIp.startsWith('127.')) return Promise.reject(new Error(`this runtime has no way to ${inst.internalIp}`));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: inst.internalIp, port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
