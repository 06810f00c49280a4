// A TCP relay: each accepted connection goes to the target chosen at accept time (one-to-one NAT
// of an external IP, or a load balancer picking a backend). No target: the connection is closed.
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { listenOn } from './listen.ts';
import type { Listening } from './listen.ts';

export interface ProxyTarget {
  host: string;
  port: number;
}

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
    const upstream = connect({ host: target.host, port: target.port });
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return listenOn(server, ip, port, what, log);
}
