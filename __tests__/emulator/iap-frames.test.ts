// The IAP relay's frame codec (emulator/iap/frames.ts) against the byte layouts gcloud packs with
// struct ('>HI%ds' for CONNECT_SUCCESS_SID and DATA, '>HQ' for RECONNECT_SUCCESS_ACK and ACK), and
// what it does with messages that are not frames.
import { CLOSE, MAX_DATA_BYTES, MalformedFrame, decodeClientFrame, decodeFrame, encodeFrame } from '../../emulator/iap/frames.ts';
import type { Frame } from '../../emulator/iap/frames.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** The close code a malformed message is answered with. */
function rejection(message: Buffer, decode: (m: Buffer) => unknown = decodeFrame): number {
  try {
    decode(message);
  } catch (e) {
    if (e instanceof MalformedFrame) return e.closeCode;
    throw e;
  }
  throw new Error(`${message.toString('hex')} was accepted`);
}

test('each frame has the layout gcloud packs and unpacks', () => {
  expect(encodeFrame({ tag: 'connectSuccessSid', sid: 'abc' })).toEqual(hex('0001 00000003 616263'));
  expect(encodeFrame({ tag: 'reconnectSuccessAck', bytes: 0x0102030405 })).toEqual(hex('0002 0000000102030405'));
  expect(encodeFrame({ tag: 'data', payload: Buffer.from('hi') })).toEqual(hex('0004 00000002 6869'));
  expect(encodeFrame({ tag: 'ack', bytes: 2 ** 40 + 7 })).toEqual(hex('0007 0000010000000007'));
});

test('every frame round-trips, up to the largest DATA and byte counts beyond 32 bits', () => {
  const frames: Frame[] = [
    { tag: 'connectSuccessSid', sid: 'Zm9vYmFyLXNlc3Npb24taWQ' },
    { tag: 'reconnectSuccessAck', bytes: 0 },
    { tag: 'reconnectSuccessAck', bytes: Number.MAX_SAFE_INTEGER },
    { tag: 'data', payload: Buffer.alloc(MAX_DATA_BYTES, 0xab) },
    { tag: 'data', payload: Buffer.from([0]) },
    { tag: 'ack', bytes: 5 * 2 ** 32 + 1 },
  ];
  for (const frame of frames) expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
});

test('encoding refuses what no frame can carry', () => {
  expect(() => encodeFrame({ tag: 'data', payload: Buffer.alloc(MAX_DATA_BYTES + 1) })).toThrow(RangeError);
  expect(() => encodeFrame({ tag: 'data', payload: Buffer.alloc(0) })).toThrow(RangeError);
  expect(() => encodeFrame({ tag: 'ack', bytes: -1 })).toThrow(RangeError);
  expect(() => encodeFrame({ tag: 'ack', bytes: 1.5 })).toThrow(RangeError);
});

test('malformed messages are refused with the close code the relay answers them with', () => {
  expect(rejection(hex(''))).toBe(CLOSE.invalidTag);
  expect(rejection(hex('00'))).toBe(CLOSE.invalidTag);
  expect(rejection(hex('0003 00000000'))).toBe(CLOSE.invalidTag); // IAP's deprecated tag 3
  expect(rejection(hex('0009 00'))).toBe(CLOSE.invalidTag);
  expect(rejection(hex('0004 0000'))).toBe(CLOSE.invalidData); // no room for the length
  expect(rejection(hex('0004 00000003 6869'))).toBe(CLOSE.invalidData); // truncated
  expect(rejection(hex('0004 00000001 686970'))).toBe(CLOSE.invalidData); // trailing bytes
  expect(rejection(hex('0004 00000000'))).toBe(CLOSE.invalidData); // empty
  expect(rejection(Buffer.concat([hex('0004 00004001'), Buffer.alloc(MAX_DATA_BYTES + 1)]))).toBe(CLOSE.invalidData);
  expect(rejection(hex('0007 00000000000001'))).toBe(CLOSE.invalidAck); // 9 bytes
  expect(rejection(hex('0007 0000000000000001 00'))).toBe(CLOSE.invalidAck); // 11 bytes
  expect(rejection(hex('0007 0020000000000000'))).toBe(CLOSE.invalidAck); // beyond 2^53
});

test("a client may send DATA and ACK, not the relay's own frames", () => {
  expect(decodeClientFrame(hex('0004 00000001 41'))).toEqual({ tag: 'data', payload: Buffer.from('A') });
  expect(decodeClientFrame(hex('0007 0000000000000010'))).toEqual({ tag: 'ack', bytes: 16 });
  expect(rejection(hex('0001 00000001 41'), decodeClientFrame)).toBe(CLOSE.invalidTag);
  expect(rejection(hex('0002 0000000000000010'), decodeClientFrame)).toBe(CLOSE.invalidTag);
});
