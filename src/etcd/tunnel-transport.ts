// Reaching members through a tunnel: for each (host, port) the runner needs, one listener on
// 127.0.0.1 whose every connection is carried by `dial` to that address (an IAP session, or a
// self-hosted runner's path into the VPC). etcd clients and the /readyz probe then dial the local
// address; TLS is still end to end, checked against the member's advertised name (client.ts), so a
// tunnel sees only ciphertext and cannot impersonate a member.
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { EtcdTransport } from './types.ts';

/** Opens a byte stream to host:port on the far side. Errors surface as a closed connection. */
export type TunnelDial = (host: string, port: number) => Duplex;

export class TunnelTransport implements EtcdTransport {
  private readonly dial: TunnelDial;
  private readonly listeners = new Map<string, Promise<{ server: Server; port: number }>>();
  private readonly open = new Set<Duplex>();

  constructor(dial: TunnelDial) {
    this.dial = dial;
  }

  /** `https://10.1.2.3:2379` -> `https://127.0.0.1:<local port>`, opening the local end once. */
  async dialUrl(clientUrl: string): Promise<string> {
    return this.localUrl(clientUrl);
  }

  /** The same mapping for any URL with a host and port (the apiserver's `https://<ip>:443`). */
  async localUrl(remoteUrl: string): Promise<string> {
    const url = new URL(remoteUrl);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const local = await this.listenerFor(url.hostname, port);
    // Only the authority changes; the rest of the URL is kept as it was written.
    return remoteUrl.replace(/^([a-z]+:\/\/)[^/?#]+/i, `$1127.0.0.1:${local}`);
  }

  private async listenerFor(host: string, port: number): Promise<number> {
    const key = `${host}:${port}`;
    let entry = this.listeners.get(key);
    if (!entry) {
      entry = new Promise((resolve, reject) => {
        // No Nagle on either end: etcd's small RPCs would each wait for a delayed ACK.
        const server = createServer({ noDelay: true }, (local) => {
          let remote: Duplex;
          try {
            remote = this.dial(host, port);
          } catch {
            // A tunnel that cannot even start looks like a refused connection to the client.
            local.destroy();
            return;
          }
          this.open.add(local).add(remote);
          const cut = (): void => {
            local.destroy();
            remote.destroy();
          };
          // A side that ended cleanly has had pipe() end the other, which still delivers what it
          // holds (the last bytes of a response); a side that was cut cuts the other too.
          const closed = (side: Duplex, other: Duplex) => (): void => {
            this.open.delete(side);
            if (!side.readableEnded) other.destroy();
          };
          local.on('error', cut).on('close', closed(local, remote));
          remote.on('error', cut).on('close', closed(remote, local));
          local.pipe(remote);
          remote.pipe(local);
        });
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
      });
      this.listeners.set(key, entry);
    }
    return (await entry).port;
  }

  /** Stops listening and ends every tunnel still open (a client that was not closed would hold it forever). */
  async close(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    for (const stream of this.open) stream.destroy();
    this.open.clear();
    await Promise.all(
      all.map(async (p) => {
        const { server } = await p;
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }),
    );
  }
}
