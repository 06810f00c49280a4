// The VPC gateway: one process per emulated VPC network, started inside that network's namespace
// (`ip netns exec`). It is the only way between the host and the VPC, in both directions:
//   --forward IP:PORT=SOCKET  listens on IP:PORT inside the VPC and hands each connection to the
//                             emulator's unix socket, first sending a PROXY protocol v1 line with the
//                             client's address (the metadata server tells VMs apart by source IP).
//   --forward-any PORT=SOCKET listens on PORT of every address of the VPC's namespace and hands the
//                             connection over the same way (with the address it was made to): how
//                             a process inside the VPC reaches the external IPs, which live on the
//                             host's loopback (GCE routes external IPs from inside the VPC too).
//   --dial SOCKET             the emulator connects here and writes `CONNECT <ip>:<port>\n` (or
//                             `CONNECT <ip>:<port> FROM <source ip>\n`, for the firewall to see); the
//                             gateway connects to that VPC address and relays. A failed connect
//                             closes the socket (the caller sees a reset, as from a closed port).
//                             With ` CONFIRM` at the end of the line, the gateway first answers
//                             `CONNECTED\n` once the connection is up, so a caller can tell a
//                             dropped SYN (no answer) from a slow server (the IAP relay needs to).
// It exits when its standard input closes, so it never outlives the emulator that started it.
import { connect, createServer } from 'node:net';
import { relay } from '../runtime/tcp-proxy.ts';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { dial: { type: 'string' }, forward: { type: 'string', multiple: true }, 'forward-any': { type: 'string', multiple: true } },
});

const listening: Promise<void>[] = [];
for (const spec of values.forward ?? []) {
  const m = /^([\d.]+):(\d+)=(.+)$/.exec(spec);
  if (!m) throw new Error(`bad --forward ${spec} (want IP:PORT=SOCKET)`);
  const [, ip, port, socketPath] = m as unknown as [string, string, string, string];
  forward(ip, Number(port), socketPath);
}
for (const spec of values['forward-any'] ?? []) {
  const m = /^(\d+)=(.+)$/.exec(spec);
  if (!m) throw new Error(`bad --forward-any ${spec} (want PORT=SOCKET)`);
  forward('0.0.0.0', Number(m[1]), m[2] as string);
}

function forward(ip: string, port: number, socketPath: string): void {
  const server = createServer((client) => {
    const upstream = connect(socketPath);
    upstream.write(`PROXY TCP4 ${client.remoteAddress} ${client.localAddress} ${client.remotePort} ${port}\r\n`);
    relay(client, upstream);
  });
  listening.push(new Promise((resolve, reject) => server.once('error', reject).listen(port, ip, () => resolve())));
}

if (values.dial) {
  const dialPath = values.dial;
  rmSync(dialPath, { force: true });
  const server = createServer((host) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 256) host.destroy();
        return;
      }
      host.off('data', onData);
      const m = /^CONNECT ([\d.]+):(\d+)(?: FROM ([\d.]+))?( CONFIRM)?$/.exec(head.subarray(0, nl).toString().trim());
      if (!m) return void host.destroy();
      const upstream = connect({ host: m[1], port: Number(m[2]), ...(m[3] ? { localAddress: m[3] } : {}) });
      // Written before relay() pipes anything: nothing arrives from upstream before 'connect'.
      if (m[4]) upstream.once('connect', () => host.write('CONNECTED\n'));
      const rest = head.subarray(nl + 1);
      if (rest.length > 0) upstream.write(rest);
      relay(host, upstream);
    };
    host.on('data', onData);
    host.on('error', () => host.destroy());
  });
  listening.push(new Promise((resolve, reject) => server.once('error', reject).listen(dialPath, () => resolve())));
}

try {
  await Promise.all(listening);
  process.stdout.write('gateway ready\n');
} catch (e) {
  process.stderr.write(`gateway: ${(e as Error).message}\n`);
  process.exit(1);
}
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
