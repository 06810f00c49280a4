// The relay's DATA frames written straight onto the WebSocket's socket (emulator/iap/data-messages.ts):
// a client's ws must read them as the binary messages ws itself would have sent, each one frame.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { decodeFrame, MAX_DATA_BYTES } from '../../emulator/iap/frames.ts';
import { dataMessages, RELAY_DATA_BYTES } from '../../emulator/iap/data-messages.ts';

let server: WebSocketServer;
let url: string;

beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((resolve) => server.once('listening', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** The messages a ws client reads when the server writes `wire` onto the socket under its WebSocket. */
async function receive(wire: Buffer, count: number): Promise<Buffer[]> {
  const serverSide = new Promise<Duplex>((resolve) => server.once('connection', (_ws, req) => resolve(req.socket)));
  const client = new WebSocket(url, { perMessageDeflate: false });
  const messages: Buffer[] = [];
  const all = new Promise<void>((resolve, reject) => {
    client.on('error', reject);
    client.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) reject(new Error('a text message'));
      messages.push(data);
      if (messages.length === count) resolve();
    });
  });
  await new Promise((resolve) => client.once('open', resolve));
  (await serverSide).write(wire);
  await all;
  client.terminate();
  return messages;
}

test('one VM read of 64 KiB: four frames of one TLS record each (16 KiB on the wire) and the rest, in one buffer', async () => {
  const bytes = randomBytes(65536);
  const { wire, pieces } = dataMessages(bytes);
  const messages = await receive(wire, 5);
  expect(messages.map((m) => m.length)).toEqual([16380, 16380, 16380, 16380, 6 + 65536 - 4 * RELAY_DATA_BYTES]);
  expect(wire.length).toBe(4 * 16384 + 2 + 6 + 40);
  const payloads = messages.map((m) => {
    const frame = decodeFrame(m);
    if (frame.tag !== 'data') throw new Error(`not DATA: ${frame.tag}`);
    return frame.payload;
  });
  expect(Buffer.concat(payloads).equals(bytes)).toBe(true);
  expect(pieces.map((p) => p.length)).toEqual(payloads.map((p) => p.length));
  expect(Buffer.concat(pieces).equals(bytes)).toBe(true);
});

test('the shortest WebSocket length form for a small frame, and full 16 KiB payloads when asked', async () => {
  const small = dataMessages(Buffer.from('ok'));
  expect(small.wire.subarray(0, 2)).toEqual(Buffer.from([0x82, 8]));
  expect((await receive(small.wire, 1)).map((m) => decodeFrame(m))).toEqual([{ tag: 'data', payload: Buffer.from('ok') }]);
  const full = dataMessages(randomBytes(2 * MAX_DATA_BYTES), MAX_DATA_BYTES);
  expect((await receive(full.wire, 2)).map((m) => m.length)).toEqual([6 + MAX_DATA_BYTES, 6 + MAX_DATA_BYTES]);
  expect(() => dataMessages(Buffer.from('x'), MAX_DATA_BYTES + 1)).toThrow(RangeError);
});
