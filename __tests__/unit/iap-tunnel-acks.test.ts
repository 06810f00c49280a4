// How often the action's IAP client acknowledges what the relay sends: cumulatively, after many
// frames instead of every two (each ACK is a write that wakes the relay), and the tail of a
// burst after a short quiet spell, so the relay never waits on an ACK that is not coming.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { dataFrame, MAX_DATA_BYTES, parseFrame, SUBPROTOCOL } from '../../src/iap/frames.ts';
import { IapTunnel } from '../../src/iap/tunnel.ts';

let relay: WebSocketServer;
let endpoint: string;
/** The relay's side of the one tunnel a test opens, and the ACK counts the client sent on it. */
let opened: Promise<{ ws: WebSocket; acks: number[] }>;

beforeAll(async () => {
  relay = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, handleProtocols: () => SUBPROTOCOL });
  await new Promise((resolve) => relay.once('listening', resolve));
  endpoint = `ws://127.0.0.1:${(relay.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => relay.close(resolve)));

function nextTunnel(): void {
  opened = new Promise((resolve) =>
    relay.once('connection', (ws: WebSocket) => {
      const acks: number[] = [];
      ws.on('message', (m: Buffer) => {
        const frame = parseFrame(m);
        if (frame.type === 'ack') acks.push(frame.bytes);
      });
      const sid = Buffer.from('sid-1');
      const connected = Buffer.alloc(6 + sid.length);
      connected.writeUInt16BE(0x0001, 0);
      connected.writeUInt32BE(sid.length, 2);
      sid.copy(connected, 6);
      ws.send(connected);
      resolve({ ws, acks });
    }),
  );
}

test('40 full frames from the relay are acknowledged in a few cumulative ACKs, the last one for every byte', async () => {
  nextTunnel();
  const tunnel = new IapTunnel({ project: 'p', zone: 'z', instance: 'vm', port: 2379 }, { endpoint, token: async () => 'token' });
  tunnel.resume();
  const { ws, acks } = await opened;
  const total = 40 * MAX_DATA_BYTES;
  for (let i = 0; i < 40; i++) ws.send(dataFrame(Buffer.alloc(MAX_DATA_BYTES, i)));
  while (acks.at(-1) !== total) await new Promise((r) => setTimeout(r, 20));
  // gcloud's every-two-frames would be 20 ACKs here.
  expect(acks.length).toBeLessThanOrEqual(3);
  expect(acks).toEqual([...acks].sort((a, b) => a - b));
  tunnel.destroy();
});

test('a lone small frame is acknowledged too, though far below the threshold', async () => {
  nextTunnel();
  const tunnel = new IapTunnel({ project: 'p', zone: 'z', instance: 'vm', port: 2379 }, { endpoint, token: async () => 'token' });
  tunnel.resume();
  const { ws, acks } = await opened;
  ws.send(dataFrame(Buffer.from('hello')));
  while (acks.length === 0) await new Promise((r) => setTimeout(r, 20));
  expect(acks).toEqual([5]);
  tunnel.destroy();
});
