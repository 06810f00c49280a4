// etcd clients the emulated VMs use (the apiserver stand-in, the joining member). No retries and
// no circuit breaker: a VM's view of its etcd must follow reality at once, and every call carries
// its own deadline.
import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';

export interface EtcdClientTls {
  ca: string;
  cert: string;
  key: string;
}

/**
 * A client for one member's client URL. `serverName` is the member's VM name, which its
 * certificate carries as a DNS SAN; checking it instead of the IP keeps Node from warning about
 * IP addresses as TLS server names.
 */
export function etcdClientFor(ip: string, serverName: string, tls: EtcdClientTls): Etcd3 {
  return new Etcd3({
    hosts: `https://${ip}:2379`,
    credentials: {
      rootCertificate: Buffer.from(tls.ca),
      certChain: Buffer.from(tls.cert),
      privateKey: Buffer.from(tls.key),
    },
    grpcOptions: {
      'grpc.ssl_target_name_override': serverName,
      'grpc.default_authority': serverName,
      // grpc's default reconnect back-off grows to 2 min; a restarted etcd must be seen within a second.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1000,
    },
    faultHandling: { global: noop, host: () => noop },
  });
}

export const deadlineIn = (ms: number): { deadline: number } => ({ deadline: Date.now() + ms });
