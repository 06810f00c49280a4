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
 * Reads the first line (up to `terminator`) of a connection and leaves the rest in the socket,
 * paused, for whoever reads it next; undefined when none comes within `maxBytes` or the socket ends.
 */
function readFirstLine(socket: Socket, terminator: string, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(terminator);
      if (end < 0) {
        if (head.length > maxBytes) finish(undefined);
        return;
      }
      finish(head.subarray(0, end).toString());
      // After pausing: unshift on a flowing stream emits at once.
      socket.unshift(head.subarray(end + terminator.length));
    };
    const onEnd = (): void => finish(undefined);
    const finish = (line: string | undefined): void => {
      socket.off('data', onData).off('end', onEnd).off('close', onEnd);
      socket.pause();
      resolve(line);
    };
    socket.on('data', onData).once('end', onEnd).once('close', onEnd);
  });
}

/**
 * Reads a PROXY protocol v1 line from the start of a connection the gateway forwarded and returns
 * the client's address; the rest of the data stays in the socket for the real protocol handler.
 */
export async function readProxyHeader(socket: Socket): Promise<{ sourceIp: string; destinationIp: string } | undefined> {
  // v1 lines are at most 107 bytes.
  const line = await readFirstLine(socket, '\r\n', 108);
  const m = line === undefined ? null : /^PROXY TCP4 ([\d.]+) ([\d.]+) /.exec(line);
  return m ? { sourceIp: m[1] as string, destinationIp: m[2] as string } : undefined;
}

/**
 * Like dialVpc, but resolves only once the gateway has connected (its `CONNECTED` line), and
 * rejects when the connection is refused or not up within `timeoutMs` (a firewall drops the SYN
 * silently, so only a deadline tells). The socket resolved is paused and carries nothing but the
 * VM's bytes: a reader resumes it once it listens.
 */
export async function dialVpcConfirmed(
  dialSocket: string,
  host: string,
  port: number,
  from: string | undefined,
  timeoutMs: number,
): Promise<Socket> {
  const socket = connect(dialSocket);
  socket.write(`CONNECT ${host}:${port}${from ? ` FROM ${from}` : ''} CONFIRM\n`);
  // Until it is handed over, a failure is this function's to report, not an unhandled 'error'.
  const quiet = (): void => undefined;
  socket.on('error', quiet);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    socket.destroy();
  }, timeoutMs);
  const line = await readFirstLine(socket, '\n', 64);
  clearTimeout(timer);
  if (line === 'CONNECTED') return socket.off('error', quiet);
  socket.destroy();
  throw Object.assign(
    new Error(
      timedOut
        ? `no connection to ${host}:${port} within ${timeoutMs} ms (dropped by a firewall, or no such host)`
        : `connection to ${host}:${port} refused`,
    ),
    { code: timedOut ? 'ETIMEDOUT' : 'ECONNREFUSED' },
  );
}
