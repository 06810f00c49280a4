// One etcd3 client per member endpoint, made for membership administration:
// - no retries and no circuit breaker: etcd3's defaults retry with an already expired deadline and
//   then block the host for 5 s (research/etcd-membership.md, pitfall 3); the admin decides itself
//   what is safe to repeat;
// - the server certificate is verified against the CA and against the host of the member's
//   *advertised* client URL, even when a transport dials another address;
// - a 4 MiB HTTP/2 flow-control window, so that a snapshot through IAP is not bound by round trips;
// - no IP address is sent as the TLS server name: Node warns (DEP0123) and RFC 6066 forbids it.
//   gRPC always sends one, so for IP hosts it sends a placeholder name and the identity check
//   above is done against the IP instead.
import { checkServerIdentity } from 'node:tls';
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import type { TlsMaterial } from './types.ts';

/** SNI for members addressed by IP; `.invalid` is reserved, so it can never name a real host. */
const IP_HOST_SERVER_NAME = 'etcd-member.invalid';

export function createMemberClient(tls: TlsMaterial, advertisedUrl: string, dialUrl: string): Etcd3 {
  const expectedHost = new URL(advertisedUrl).hostname.replace(/^\[|\]$/g, '');
  const credentials = grpc.credentials.createSsl(Buffer.from(tls.ca), Buffer.from(tls.key), Buffer.from(tls.cert), {
    checkServerIdentity: (_serverName, cert) => checkServerIdentity(expectedHost, cert),
  });
  const serverName = isIP(expectedHost) ? IP_HOST_SERVER_NAME : expectedHost;
  return new Etcd3({
    hosts: [dialUrl],
    credentials: { rootCertificate: Buffer.from(tls.ca), certChain: Buffer.from(tls.cert), privateKey: Buffer.from(tls.key) },
    faultHandling: { global: noop, host: () => noop },
    grpcOptions: {
      // etcd3 builds each service client with these options; the factory swaps in our credentials.
      channelFactoryOverride: (address: string, _etcd3Credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) =>
        new grpc.Channel(address, credentials, {
          ...options,
          'grpc.ssl_target_name_override': serverName,
          // gRPC's default 64 KiB HTTP/2 window lets etcd send one window per round trip: through
          // IAP's longer round trip a snapshot crawled at window/RTT (bench/iap.ts).
          'grpc-node.flow_control_window': 4 * 1024 * 1024,
        }),
    },
  });
}
