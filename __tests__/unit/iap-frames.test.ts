import { describe, expect, it } from '@jest/globals';
import { ackFrame, dataFrame, FrameError, MAX_DATA_BYTES, parseFrame } from '../../src/iap/frames.ts';

describe('IAP relay frames', () => {
  it('DATA and ACK round-trip, big-endian as gcloud packs them (>HI, >HQ)', () => {
    const payload = Buffer.from('etcd bytes');
    const data = dataFrame(payload);
    expect(data.subarray(0, 6)).toEqual(Buffer.from([0x00, 0x04, 0x00, 0x00, 0x00, payload.length]));
    expect(parseFrame(data)).toEqual({ type: 'data', bytes: payload });
    const ack = ackFrame(2 ** 40 + 5);
    expect(ack.subarray(0, 2)).toEqual(Buffer.from([0x00, 0x07]));
    expect(parseFrame(ack)).toEqual({ type: 'ack', bytes: 2 ** 40 + 5 });
  });

  it("reads the relay's session frames", () => {
    const sid = Buffer.from('session-42');
    const connected = Buffer.concat([Buffer.from([0x00, 0x01, 0, 0, 0, sid.length]), sid]);
    expect(parseFrame(connected)).toEqual({ type: 'connected', sid: 'session-42' });
    const reconnected = Buffer.alloc(10);
    reconnected.writeUInt16BE(0x0002, 0);
    reconnected.writeBigUInt64BE(65536n, 2);
    expect(parseFrame(reconnected)).toEqual({ type: 'reconnected', ack: 65536 });
  });

  it('a DATA frame carries at most 16 KiB', () => {
    expect(() => dataFrame(Buffer.alloc(MAX_DATA_BYTES))).not.toThrow();
    expect(() => dataFrame(Buffer.alloc(MAX_DATA_BYTES + 1))).toThrow(FrameError);
  });

  it('refuses truncated and unknown frames', () => {
    expect(() => parseFrame(Buffer.from([0x00]))).toThrow(/no tag/);
    expect(() => parseFrame(dataFrame(Buffer.from('abcdef')).subarray(0, 9))).toThrow(/truncated: 9 of 12 bytes/);
    expect(() => parseFrame(ackFrame(1).subarray(0, 6))).toThrow(/truncated/);
    expect(() => parseFrame(Buffer.from([0x00, 0x09, 0, 0]))).toThrow(/unknown frame tag 0x0009/);
  });
});
