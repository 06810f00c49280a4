// The wire format of Google's IAP TCP-forwarding relay (WebSocket subprotocol
// relay.tunnel.cloudproxy.app), as gcloud's iap_tunnel_websocket_utils packs it: every binary
// WebSocket message is one frame, big-endian, led by a 16-bit tag. Pure: no sockets here.
//   0x0001 CONNECT_SUCCESS_SID    u32 length, then the session id
//   0x0002 RECONNECT_SUCCESS_ACK  u64: bytes the relay has received from the client
//   0x0004 DATA                   u32 length, then at most 16384 bytes
//   0x0007 ACK                    u64: bytes received so far, in total (either side sends it)

export const SUBPROTOCOL = 'relay.tunnel.cloudproxy.app';
export const MAX_DATA_BYTES = 16384;

export const TAGS = { connectSuccessSid: 0x0001, reconnectSuccessAck: 0x0002, data: 0x0004, ack: 0x0007 } as const;

/**
 * Close codes of the relay (RFC 6455 leaves 4000-4999 to applications); the numbers are the ones
 * IAP's clients know (gcloud reconnects on 4004 and explains 4003; IAP Desktop names the rest).
 */
export const CLOSE = {
  normal: 1000,
  sidUnknown: 4001,
  failedToConnectToBackend: 4003,
  reauthenticationRequired: 4004,
  badAck: 4005,
  invalidAck: 4006,
  invalidWebsocketOpcode: 4007,
  invalidTag: 4008,
  destinationWriteFailed: 4009,
  invalidData: 4013,
  notAuthorized: 4033,
  lookupFailed: 4047,
} as const;

export type Frame =
  | { tag: 'connectSuccessSid'; sid: string }
  | { tag: 'reconnectSuccessAck'; bytes: number }
  | { tag: 'data'; payload: Buffer }
  | { tag: 'ack'; bytes: number };

/** A message that is not a frame; `closeCode` is how the relay answers it. */
export class MalformedFrame extends Error {
  readonly closeCode: number;
  constructor(closeCode: number, message: string) {
    super(message);
    this.closeCode = closeCode;
  }
}

function withLength(tag: number, body: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(6 + body.length);
  frame.writeUInt16BE(tag, 0);
  frame.writeUInt32BE(body.length, 2);
  body.copy(frame, 6);
  return frame;
}

function withCount(tag: number, bytes: number): Buffer {
  // Byte counts are JS numbers: exact up to 2^53, far beyond any tunnel's lifetime.
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`a byte count must be a whole number >= 0, not ${bytes}`);
  const frame = Buffer.allocUnsafe(10);
  frame.writeUInt16BE(tag, 0);
  frame.writeBigUInt64BE(BigInt(bytes), 2);
  return frame;
}

export function encodeFrame(frame: Frame): Buffer {
  switch (frame.tag) {
    case 'connectSuccessSid':
      return withLength(TAGS.connectSuccessSid, Buffer.from(frame.sid, 'latin1'));
    case 'reconnectSuccessAck':
      return withCount(TAGS.reconnectSuccessAck, frame.bytes);
    case 'data':
      if (frame.payload.length === 0 || frame.payload.length > MAX_DATA_BYTES) {
        throw new RangeError(`a DATA frame carries 1 to ${MAX_DATA_BYTES} bytes, not ${frame.payload.length}`);
      }
      return withLength(TAGS.data, frame.payload);
    case 'ack':
      return withCount(TAGS.ack, frame.bytes);
  }
}

/** The exact-size body after the tag, or a MalformedFrame naming what is wrong. */
function lengthPrefixedBody(message: Buffer, what: string, max: number): Buffer {
  if (message.length < 6) throw new MalformedFrame(CLOSE.invalidData, `${what} frame of ${message.length} bytes has no length`);
  const length = message.readUInt32BE(2);
  if (length > max) throw new MalformedFrame(CLOSE.invalidData, `${what} frame claims ${length} bytes (at most ${max})`);
  if (message.length !== 6 + length)
    throw new MalformedFrame(CLOSE.invalidData, `${what} frame claims ${length} bytes but carries ${message.length - 6}`);
  return message.subarray(6);
}

function countBody(message: Buffer, what: string): number {
  if (message.length !== 10) throw new MalformedFrame(CLOSE.invalidAck, `${what} frame must be 10 bytes, not ${message.length}`);
  const value = message.readBigUInt64BE(2);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedFrame(CLOSE.invalidAck, `${what} count ${value} is out of range`);
  return Number(value);
}

/** Decodes one WebSocket message; strict (no trailing bytes), so a client's framing bug shows at once. */
export function decodeFrame(message: Buffer): Frame {
  if (message.length < 2) throw new MalformedFrame(CLOSE.invalidTag, `a message of ${message.length} byte(s) has no tag`);
  const tag = message.readUInt16BE(0);
  switch (tag) {
    case TAGS.connectSuccessSid:
      return { tag: 'connectSuccessSid', sid: lengthPrefixedBody(message, 'CONNECT_SUCCESS_SID', 1024).toString('latin1') };
    case TAGS.reconnectSuccessAck:
      return { tag: 'reconnectSuccessAck', bytes: countBody(message, 'RECONNECT_SUCCESS_ACK') };
    case TAGS.data: {
      const payload = lengthPrefixedBody(message, 'DATA', MAX_DATA_BYTES);
      if (payload.length === 0) throw new MalformedFrame(CLOSE.invalidData, 'DATA frame carries no bytes');
      return { tag: 'data', payload };
    }
    case TAGS.ack:
      return { tag: 'ack', bytes: countBody(message, 'ACK') };
    default:
      throw new MalformedFrame(CLOSE.invalidTag, `unknown tag 0x${tag.toString(16).padStart(4, '0')}`);
  }
}

/** What a client may send the relay: DATA and ACK only (the other two are the relay's to send). */
export function decodeClientFrame(message: Buffer): Extract<Frame, { tag: 'data' | 'ack' }> {
  const frame = decodeFrame(message);
  if (frame.tag !== 'data' && frame.tag !== 'ack') throw new MalformedFrame(CLOSE.invalidTag, `a client may not send ${frame.tag}`);
  return frame;
}
