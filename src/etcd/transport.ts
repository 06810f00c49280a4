// How the runner reaches a member's client port. DirectTransport dials the advertised client URL
// as it is: right for a runner inside the cluster's VPC and for the emulator, whose VMs listen on
// loopback addresses of this machine.
//
// Other transports plug in here: a port-forward through kube-apiserver (for a runner outside the
// VPC) would implement EtcdTransport by opening a local forward per member and returning
// `https://127.0.0.1:<local port>` from dialUrl. Nothing else changes: the admin verifies the
// server certificate against the host of the *advertised* URL, not of the dialled one (see
// client.ts), so a forward to 127.0.0.1 still proves it reached the right member.
import type { EtcdTransport } from './types.ts';

export class DirectTransport implements EtcdTransport {
  dialUrl(clientUrl: string): string {
    return clientUrl;
  }
}
