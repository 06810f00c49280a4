// TunnelTransport: one local listener per far (host, port), bytes carried by the dial function
// both ways, URLs rewritten only in their authority, and a dial that cannot start is a closed
// connection, not a crash.
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { TunnelTransport } from '../../src/etcd/tunnel-transport.ts';

let echo: Server;
let echoPort = 0;
const dialed: string[] = [];

beforeAll(async () => {
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
});

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length) s.end();
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.write(text);
  });
}

test('maps a far URL to one local listener and carries bytes both ways through the dial', async () => {
  // The far side here is a local echo server; the dial records which far address it was asked for.
  const t = new TunnelTransport((host, port) => {
    dialed.push(`${host}:${port}`);
    return connect(echoPort, '127.0.0.1');
  });
  try {
    const a = await t.dialUrl('https://10.132.0.2:2379');
    const b = await t.localUrl('https://10.132.0.2:2379');
    expect(a).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(b).toBe(a);
    expect(await t.localUrl('https://10.132.0.2:443/readyz')).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/readyz$/);
    expect(await roundTrip(Number(new URL(a).port), 'hello through the tunnel')).toBe('hello through the tunnel');
    expect(dialed).toEqual(['10.132.0.2:2379']);
  } finally {
    await t.close();
  }
});

test('a dial that throws closes the local connection and keeps serving', async () => {
  const t = new TunnelTransport(() => {
    throw new Error('no route');
  });
  try {
    const port = Number(new URL(await t.dialUrl('https://10.132.0.9:2379')).port);
    expect(await roundTrip(port, 'x')).toBe('');
    expect(await roundTrip(port, 'y')).toBe('');
  } finally {
    await t.close();
  }
});

test('close ends the tunnels still open (a client left open would otherwise keep close waiting forever)', async () => {
  const t = new TunnelTransport(() => connect(echoPort, '127.0.0.1'));
  const port = Number(new URL(await t.dialUrl('https://10.132.0.2:2379')).port);
  const client = connect(port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', () => r()));
  client.write('ping');
  await new Promise<void>((r) => client.once('data', () => r()));
  const closedByTunnel = new Promise<void>((r) => client.once('close', () => r()));
  // The client never ends its side: only close() can end the connection.
  await t.close();
  await closedByTunnel;
  expect(client.destroyed).toBe(true);
});
