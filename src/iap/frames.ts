// The IAP relay's framing (subprotocol relay.tunnel.cloudproxy.app), as gcloud speaks it: every
// WebSocket message is one frame, big-endian, starting with a 16-bit tag. Pure encode/decode.
//   CONNECT_SUCCESS_SID    0x0001  u32 length + session id (ASCII)
//   RECONNECT_SUCCESS_ACK  0x0002  u64 bytes the relay had received from us
//   DATA                   0x0004  u32 length + at most 16 KiB of payload
//   ACK                    0x0007  u64 bytes received so far, in total

export const SUBPROTOCOL = 'relay.tunnel.cloudproxy.app';
export const MAX_DATA_BYTES = 16384;

export const TAG = { connectSuccessSid: 0x0001, reconnectSuccessAck: 0x0002, data: 0x0004, ack: 0x0007 } as const;

export type Frame =
  | { type: 'connected'; sid: string }
  | { type: 'reconnected'; ack: number }
  | { type: 'data'; bytes: Buffer }
  | { type: 'ack'; bytes: number };

export class FrameError extends Error {}

export function dataFrame(payload: Buffer): Buffer {
  if (payload.length > MAX_DATA_BYTES) throw new FrameError(`a DATA frame carries at most ${MAX_DATA_BYTES} bytes, not ${payload.length}`);
  const frame = Buffer.allocUnsafe(6 + payload.length);
  frame.writeUInt16BE(TAG.data, 0);
  frame.writeUInt32BE(payload.length, 2);
  payload.copy(frame, 6);
  return frame;
}

export function ackFrame(totalBytes: number): Buffer {
  const frame = Buffer.allocUnsafe(10);
  frame.writeUInt16BE(TAG.ack, 0);
  frame.writeBigUInt64BE(BigInt(totalBytes), 2);
  return frame;
}

/** Parses one relay message; throws FrameError on a truncated or unknown frame. */
export function parseFrame(message: Buffer): Frame {
  if (message.length < 2) throw new FrameError(`a frame of ${message.length} byte(s) has no tag`);
  const tag = message.readUInt16BE(0);
  const need = (n: number): void => {
    if (message.length < n)
      throw new FrameError(`frame 0x${tag.toString(16).padStart(4, '0')} is truncated: ${message.length} of ${n} bytes`);
  };
  switch (tag) {
    case TAG.connectSuccessSid:
    case TAG.data: {
      need(6);
      const length = message.readUInt32BE(2);
      need(6 + length);
      const body = message.subarray(6, 6 + length);
      return tag === TAG.data ? { type: 'data', bytes: body } : { type: 'connected', sid: body.toString('latin1') };
    }
    case TAG.reconnectSuccessAck:
    case TAG.ack: {
      need(10);
      const bytes = Number(message.readBigUInt64BE(2));
      return tag === TAG.ack ? { type: 'ack', bytes } : { type: 'reconnected', ack: bytes };
    }
    default:
      throw new FrameError(`unknown frame tag 0x${tag.toString(16).padStart(4, '0')}`);
  }
}
