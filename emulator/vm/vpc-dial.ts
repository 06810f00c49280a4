// Host side of the gateway's dial socket: a TCP connection to an address inside an emulated VPC.
// The returned socket is usable at once (bytes written before the gateway has connected are
// relayed after), so it can stand in for net.connect, e.g. as an http `createConnection`.
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** `from`: the source address inside the VPC (none: the one the kernel picks, the subnet's gateway). */
export function dialVpc(dialSocket: string, host: string, port: number, from?: string): Socket {
  const socket = connect(dialSocket);
  socket.write(`CONNECT ${host}:${port}${from ? ` FROM ${from}` : ''}\n`);
  return socket;
}

/**
 * Reads a PROXY protocol v1 line from the start of a connection the gateway forwarded and returns
 * the client's address; the rest of the data stays in the socket for the real protocol handler.
 */
export function readProxyHeader(socket: Socket): Promise<{ sourceIp: string; destinationIp: string } | undefined> {
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n');
      if (end < 0) {
        if (head.length > 108) finish(undefined); // v1 lines are at most 107 bytes
        return;
      }
      const m = /^PROXY TCP4 ([\d.]+) ([\d.]+) /.exec(head.subarray(0, end).toString());
      // Stop listening before giving the rest back: unshift on a flowing stream emits at once.
      stopReading();
      socket.unshift(head.subarray(end + 2));
      resolve(m ? { sourceIp: m[1] as string, destinationIp: m[2] as string } : undefined);
    };
    const stopReading = (): void => {
      socket.off('data', onData);
      socket.pause();
    };
    const finish = (v: { sourceIp: string; destinationIp: string } | undefined): void => {
      stopReading();
      resolve(v);
    };
    socket.on('data', onData);
  });
}
