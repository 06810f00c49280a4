// What one end of an IAP tunnel has sent and the other has not acknowledged yet, in the pieces it
// went out in (each fits a DATA frame). Kept to be sent again after a reconnect; forgotten as ACKs
// (or a RECONNECT_SUCCESS_ACK) say how far the other end has got. Offsets count from the start of
// the stream, as the protocol's byte counts do.
export class Unacknowledged {
  private pieces: Buffer[] = [];
  /** Bytes sent, in total. */
  sent = 0;
  /** Bytes the other end has confirmed, in total; pieces hold sent - acked bytes. */
  acked = 0;

  push(piece: Buffer): void {
    this.pieces.push(piece);
    this.sent += piece.length;
  }

  /** Whether `total` is a count the other end may confirm: not behind the last one, not beyond what was sent. */
  fits(total: number): boolean {
    return total >= this.acked && total <= this.sent;
  }

  /** The other end has the stream up to `total`: forget it. */
  confirm(total: number): void {
    if (!this.fits(total)) throw new RangeError(`cannot confirm ${total} bytes: ${this.acked} confirmed, ${this.sent} sent`);
    let drop = total - this.acked;
    while (drop > 0) {
      const head = this.pieces[0] as Buffer;
      if (head.length > drop) {
        this.pieces[0] = head.subarray(drop);
        break;
      }
      this.pieces.shift();
      drop -= head.length;
    }
    this.acked = total;
  }

  /** Bytes held, waiting for confirmation. */
  get held(): number {
    return this.sent - this.acked;
  }

  /** The pieces still held, oldest first (what a resend sends). */
  [Symbol.iterator](): Iterator<Buffer> {
    return this.pieces[Symbol.iterator]();
  }
}
