// A TCP relay: each accepted connection goes to the target chosen at accept time (one-to-one NAT
// of an external IP, or a load balancer picking a backend). No target: the connection is closed.
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { listenOn } from './listen.ts';
import type { Listening } from './listen.ts';

export interface ProxyTarget {
  host: string;
  port: number;
  /** How to reach it when the host namespace has no route there (an emulated VPC). */
  connect?: () => Socket;
}

/** Reaches an internal IP: through its VPC when the runtime has one, else directly (loopback VMs). */
export type VpcDialer = (instance: { key: string; internalIp: string }, port: number) => Socket;

export async function listenTcpProxy(
  ip: string,
  port: number,
  pickTarget: (client: Socket) => ProxyTarget | undefined,
  what: string,
  log: (line: string) => void,
): Promise<Listening | undefined> {
  const server = createServer((client) => {
    const target = pickTarget(client);
    if (!target) {
      client.destroy();
      return;
    }
    relay(client, target.connect ? target.connect() : connect({ host: target.host, port: target.port }));
  });
  return listenOn(server, ip, port, what, log);
}

/** Pipes two sockets both ways; either one ending or failing ends both. */
export function relay(a: Socket, b: Socket): void {
  const drop = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', drop).on('close', drop);
  b.on('error', drop).on('close', drop);
  a.pipe(b);
  b.pipe(a);
}
