// The IAP transport: etcd clients and /readyz probes dial a local listener (TunnelTransport), and
// each connection becomes an IapTunnel to the VM that owns the dialled internal IP. IAP addresses
// VMs by project, zone and name, so `locate` maps the IP back to its VM.
//
// A tunnel that fails only closes its connection (the etcd client sees an unreachable member,
// as it would for a VM that is down). Failures no retry can mend (credentials, permission) are
// also kept, so the engine can stop the run with their message instead of planning around them,
// and so are the ports IAP did not connect to, so that the firewall can be asked why.
import type { Duplex } from 'node:stream';
import type { EtcdTransport } from '../etcd/types.ts';
import { TunnelTransport } from '../etcd/tunnel-transport.ts';
import { IapError } from './errors.ts';
import type { IapWhere } from './errors.ts';
import { IapTunnel } from './tunnel.ts';
import type { IapTunnelOptions } from './tunnel.ts';

export interface IapTransportOptions extends IapTunnelOptions {
  project: string;
  /** The VM whose nic0 has this internal IP, if any. */
  locate: (internalIp: string) => Promise<{ zone: string; instance: string } | undefined>;
}

export class IapTransport implements EtcdTransport {
  private readonly tunnels: TunnelTransport;
  private readonly opts: IapTransportOptions;
  private fatal: IapError | undefined;
  /** `instance:port` -> where the last tunnel ended without being carried (cleared by the next that was). */
  private readonly refused = new Map<string, IapWhere>();

  constructor(opts: IapTransportOptions) {
    this.opts = opts;
    this.tunnels = new TunnelTransport((host, port) => this.dial(host, port));
  }

  dialUrl(clientUrl: string): Promise<string> {
    return this.tunnels.dialUrl(clientUrl);
  }

  /** `https://<internal IP>:443` -> the local end of a tunnel to it. */
  localUrl(remoteUrl: string): Promise<string> {
    return this.tunnels.localUrl(remoteUrl);
  }

  /** A failure that ends the run (no credentials, no permission), unless a tunnel got through since. */
  problem(): IapError | undefined {
    return this.fatal;
  }

  /** The VM ports whose latest tunnel ended before IAP carried it. */
  refusedPorts(): IapWhere[] {
    return [...this.refused.values()];
  }

  close(): Promise<void> {
    return this.tunnels.close();
  }

  private dial(host: string, port: number): Duplex {
    const { project, locate, ...tunnelOpts } = this.opts;
    const target = locate(host).then((vm) => {
      if (!vm) throw new IapError('not-found', `no VM of the cluster has the internal IP ${host}, so IAP cannot reach it`);
      return { project, zone: vm.zone, instance: vm.instance, port };
    });
    const tunnel = new IapTunnel(target, tunnelOpts);
    // A tunnel that ends before IAP carried it was refused (close 4003) or given up on by its
    // client first (IAP waits longer for a dropped SYN than etcd's dial does): both ask the firewall why.
    let carried = false;
    const key = (t: IapWhere): string => `${t.instance}:${t.port}`;
    tunnel.on('carried', (t: IapWhere) => {
      carried = true;
      this.refused.delete(key(t));
      // A permission granted since (IAM changes take a while to reach IAP) is no problem any more.
      this.fatal = undefined;
    });
    tunnel.on('close', () => {
      void target.then(
        (t) => {
          if (!carried) this.refused.set(key(t), t);
        },
        () => {},
      );
    });
    tunnel.on('error', (err: Error) => {
      if (err instanceof IapError && err.fatal) this.fatal ??= err;
      this.opts.log?.(`iap: tunnel to ${host}:${port} failed: ${err.message}`);
    });
    return tunnel;
  }
}
