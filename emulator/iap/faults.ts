// Faults of the IAP relay, armed through the admin API (`POST iap-fault`):
//  - dropAfterBytes: once N more payload bytes have been relayed (either direction, any tunnel),
//    the WebSocket that carries the next of them is closed with 4004 "reauthentication required",
//    which tells a client to reconnect with its session id and resume; `times` drops in a row,
//    each after another N bytes relayed since the one before. (Bytes relayed while no WebSocket
//    is up count too; the drop then waits for the next live one.)
//  - refuse: the next handshake(s) are answered with that HTTP status (401, 403, 404, ...), or
//    accepted and closed at once with that close code (4000-4999, e.g. 4033 "not authorized");
//    `times` handshakes (default 1), or every one while `persistent`.

export interface IapFaultRule {
  dropAfterBytes?: number;
  refuse?: number;
  times?: number;
  persistent?: boolean;
}

const wholeNumber = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

export class IapFaults {
  private drop: { afterBytes: number; relayed: number; left: number; due: boolean } | undefined;
  private refusal: { status: number; left: number; persistent: boolean } | undefined;

  /** Arms one rule; throws with the reason when the body does not describe one. */
  add(rule: IapFaultRule): void {
    const times = rule.times ?? 1;
    if (!wholeNumber(times, 1)) throw new Error('times must be a whole number >= 1');
    if ((rule.dropAfterBytes === undefined) === (rule.refuse === undefined))
      throw new Error('give exactly one of dropAfterBytes or refuse');
    if (rule.dropAfterBytes !== undefined) {
      if (!wholeNumber(rule.dropAfterBytes, 0)) throw new Error('dropAfterBytes must be a whole number >= 0');
      this.drop = { afterBytes: rule.dropAfterBytes, relayed: 0, left: times, due: false };
      return;
    }
    const status = rule.refuse;
    const isHttp = wholeNumber(status, 400) && status <= 599;
    const isClose = wholeNumber(status, 4000) && status <= 4999;
    if (!isHttp && !isClose) throw new Error('refuse must be an HTTP error status (400-599) or a close code (4000-4999)');
    this.refusal = { status: status as number, left: times, persistent: rule.persistent === true };
  }

  /** The status or close code this handshake is refused with, if a rule says so (counts it). */
  takeRefusal(): number | undefined {
    const r = this.refusal;
    if (!r) return undefined;
    if (!r.persistent && --r.left <= 0) this.refusal = undefined;
    return r.status;
  }

  /** Counts `bytes` relayed (fresh ones, in either direction). */
  relayed(bytes: number): void {
    const d = this.drop;
    if (!d || d.due || bytes <= 0) return;
    d.relayed += bytes;
    d.due = d.relayed >= d.afterBytes;
  }

  /** True when the WebSocket at hand is to be dropped now; the next N bytes count from here. */
  takeDrop(): boolean {
    const d = this.drop;
    if (!d?.due) return false;
    d.due = false;
    d.relayed = 0;
    if (--d.left <= 0) this.drop = undefined;
    return true;
  }

  describe(): object {
    return { drop: this.drop ?? null, refusal: this.refusal ?? null };
  }

  clear(): void {
    this.drop = undefined;
    this.refusal = undefined;
  }
}
