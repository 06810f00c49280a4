// Binding and closing the VMs' sockets. A closed server also drops its open connections at once:
// a VM losing power does not finish its requests.
import type { Server } from 'node:net';
import type { Socket } from 'node:net';

export interface Listening {
  close(): Promise<void>;
}

/** Listens on ip:port; resolves undefined (after logging why) when the address cannot be bound. */
export async function listenOn(
  server: Server,
  ip: string,
  port: number,
  what: string,
  log: (line: string) => void,
): Promise<Listening | undefined> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // TLS servers hand the raw socket to 'connection' too, so this also covers https.
  const bound = await new Promise<Error | undefined>((resolve) => {
    const onError = (err: Error): void => resolve(err);
    server.once('error', onError);
    server.listen({ host: ip, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve(undefined);
    });
  });
  if (bound) {
    const code = (bound as NodeJS.ErrnoException).code;
    if (code === 'EACCES')
      log(`cannot bind ${what} on ${ip}:${port}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)`);
    else log(`cannot bind ${what} on ${ip}:${port}: ${bound.message}`);
    return undefined;
  }
  server.on('error', (err) => log(`${what} on ${ip}:${port}: ${err.message}`));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
