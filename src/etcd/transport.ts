// How the runner reaches a member's client port. DirectTransport dials the advertised client URL
// as it is: right for a runner inside the cluster's VPC and for the emulator's process runtime,
// whose VMs listen on loopback addresses of this machine.
//
// The other transport, IAP (src/iap/transport.ts), opens a local listener per member and returns
// `https://127.0.0.1:<local port>` from dialUrl. Nothing else changes: the admin verifies the
// server certificate against the host of the *advertised* URL, not of the dialled one (see
// client.ts), so a tunnel to 127.0.0.1 still proves it reached the right member.
import type { EtcdTransport } from './types.ts';

export class DirectTransport implements EtcdTransport {
  dialUrl(clientUrl: string): string {
    return clientUrl;
  }
}
