// The relay's DATA frames as bytes on the wire: each a binary WebSocket message (unmasked, as a
// server sends them), all of one VM read in one buffer, written to the client's TLS socket at
// once. Through ws each message would be two writes (header, body) that TLS copies together
// again, plus a frame buffer of its own: on a 2-core machine the relay's garbage collection was
// most of its CPU.
import { MAX_DATA_BYTES, TAGS } from './frames.ts';

/**
 * At most this many payload bytes per DATA frame here (the protocol allows MAX_DATA_BYTES): with
 * the WebSocket header (4 bytes) and the frame's tag and length (6), a full frame is exactly one
 * 16 KiB TLS record, so the client's TLS reads hand its WebSocket whole messages to parse.
 */
export const RELAY_DATA_BYTES = MAX_DATA_BYTES - 4 - 6;

export interface DataMessages {
  /** The messages, back to back, ready for one write. */
  wire: Buffer;
  /** Each frame's payload (views into `wire`), what the relay keeps until the client acknowledges it. */
  pieces: Buffer[];
}

export function dataMessages(bytes: Buffer, maxPayload = RELAY_DATA_BYTES): DataMessages {
  if (maxPayload < 1 || maxPayload > MAX_DATA_BYTES) throw new RangeError(`a DATA frame carries 1 to ${MAX_DATA_BYTES} bytes`);
  const count = Math.ceil(bytes.length / maxPayload);
  const wire = Buffer.allocUnsafe(bytes.length + count * (4 + 6));
  const pieces: Buffer[] = [];
  let out = 0;
  for (let at = 0; at < bytes.length; at += maxPayload) {
    const n = Math.min(maxPayload, bytes.length - at);
    const frameLength = 6 + n;
    wire[out++] = 0x82; // FIN, binary
    // RFC 6455: the shortest length form (7 bits below 126, else 16 bits; a frame never needs 64).
    if (frameLength < 126) wire[out++] = frameLength;
    else {
      wire[out++] = 126;
      out = wire.writeUInt16BE(frameLength, out);
    }
    out = wire.writeUInt16BE(TAGS.data, out);
    out = wire.writeUInt32BE(n, out);
    bytes.copy(wire, out, at, at + n);
    pieces.push(wire.subarray(out, out + n));
    out += n;
  }
  return { wire: wire.subarray(0, out), pieces };
}
