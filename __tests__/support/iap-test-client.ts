// A minimal IAP tunnel client for tests of the emulator's relay (not the action's client): one
// tunnel over `ws`, speaking relay.tunnel.cloudproxy.app the way gcloud does. It keeps what it
// sent until the relay acknowledges it, and on a 4004 close (or a WebSocket it drops itself)
// reconnects with the session id and its byte count, then resends what the relay did not get.
import { WebSocket } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { MAX_DATA_BYTES, SUBPROTOCOL, decodeFrame, encodeFrame } from '../../emulator/iap/frames.ts';
import { Unacknowledged } from '../../emulator/iap/unacknowledged.ts';

export interface TunnelTarget {
  relayUrl: string;
  /** PEM of the relay's CA. */
  ca: string;
  token?: string;
  project: string;
  zone: string;
  instance: string;
  port: number;
}

/** How a handshake or a tunnel ended: an HTTP status before the upgrade, or a close code after it. */
export type Refusal = { status: number; body: string } | { closeCode: number; reason: string };

export class TunnelRefused extends Error {
  readonly refusal: Refusal;
  constructor(refusal: Refusal) {
    super(`IAP relay refused: ${JSON.stringify(refusal)}`);
    this.refusal = refusal;
  }
}

export class TestTunnel {
  private readonly target: TunnelTarget;
  private ws!: WebSocket;
  private sid = '';
  /** Bytes received from the relay, and the last count acknowledged to it. */
  private received = 0;
  private acked = 0;
  /** Bytes sent, kept until the relay acknowledges them. */
  private readonly unconfirmed = new Unacknowledged();
  private readonly chunks: Buffer[] = [];
  private waiters: Array<() => void> = [];
  private ended: Refusal | undefined;
  /** Where bytes from the VM go once piped (else they are kept for read()), and who hears the end. */
  private onData: ((chunk: Buffer) => void) | undefined;
  private onEnd: (() => void) | undefined;
  /** The current WebSocket is past CONNECT_SUCCESS_SID / RECONNECT_SUCCESS_ACK: DATA may go out. */
  private live = false;
  /** WebSockets the tunnel used (1 + reconnects), and the close codes that ended them. */
  webSockets = 0;
  readonly closeCodes: number[] = [];
  /** The largest DATA payload the relay sent. */
  largestData = 0;

  private constructor(target: TunnelTarget) {
    this.target = target;
  }

  static async open(target: TunnelTarget): Promise<TestTunnel> {
    const tunnel = new TestTunnel(target);
    const q = new URLSearchParams({
      project: target.project,
      port: String(target.port),
      newWebsocket: 'True',
      zone: target.zone,
      instance: target.instance,
      interface: 'nic0',
    });
    await tunnel.connect(`${target.relayUrl}/v4/connect?${q}`);
    return tunnel;
  }

  /** Opens a WebSocket and resolves once the relay said CONNECT_SUCCESS_SID / RECONNECT_SUCCESS_ACK. */
  private connect(url: string): Promise<void> {
    const headers: Record<string, string> = this.target.token ? { Authorization: `Bearer ${this.target.token}` } : {};
    const ws = new WebSocket(url, [SUBPROTOCOL], { ca: this.target.ca, origin: 'bot:iap-tunneler', headers });
    this.ws = ws;
    this.live = false;
    this.webSockets++;
    return new Promise((resolve, reject) => {
      let up = false;
      ws.on('unexpected-response', (_req, res: IncomingMessage) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(new TunnelRefused({ status: res.statusCode ?? 0, body: body.trim() })));
      });
      ws.on('error', (e) => {
        if (!up) reject(e);
      });
      ws.on('message', (data: Buffer) => {
        const frame = decodeFrame(data);
        if (frame.tag === 'connectSuccessSid') this.sid = frame.sid;
        // After a reconnect: forget what the relay has, then send again what it has not.
        if (frame.tag === 'reconnectSuccessAck') this.unconfirmed.confirm(frame.bytes);
        if (frame.tag === 'connectSuccessSid' || frame.tag === 'reconnectSuccessAck') {
          up = true;
          this.live = true;
          for (const piece of this.unconfirmed) ws.send(encodeFrame({ tag: 'data', payload: piece }));
          return resolve();
        }
        if (frame.tag === 'ack') return this.unconfirmed.confirm(frame.bytes);
        this.largestData = Math.max(this.largestData, frame.payload.length);
        if (this.onData) this.onData(frame.payload);
        else this.chunks.push(frame.payload);
        this.received += frame.payload.length;
        if (this.received - this.acked >= 2 * MAX_DATA_BYTES) this.ack();
        this.wake();
      });
      ws.on('close', (code: number, reason: Buffer) => {
        if (ws !== this.ws) return;
        this.live = false;
        this.closeCodes.push(code);
        if (!up) return reject(new TunnelRefused({ closeCode: code, reason: reason.toString() }));
        if (code === 4004 || code === 1006)
          return void this.reconnect().catch((e: Error) => this.finish({ closeCode: -1, reason: e.message }));
        this.finish({ closeCode: code, reason: reason.toString() });
      });
    });
  }

  private reconnect(): Promise<void> {
    const q = new URLSearchParams({ sid: this.sid, ack: String(this.received), newWebsocket: 'True', zone: this.target.zone });
    this.acked = this.received;
    return this.connect(`${this.target.relayUrl}/v4/reconnect?${q}`);
  }

  private finish(how: Refusal): void {
    this.ended = how;
    this.onEnd?.();
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private ack(): void {
    if (!this.live) return;
    this.ws.send(encodeFrame({ tag: 'ack', bytes: this.received }));
    this.acked = this.received;
  }

  /** Sends bytes to the VM (kept until acknowledged; sent again after a reconnect if need be). */
  write(bytes: Buffer): void {
    for (let at = 0; at < bytes.length; at += MAX_DATA_BYTES) {
      const piece = bytes.subarray(at, at + MAX_DATA_BYTES);
      this.unconfirmed.push(piece);
      if (this.live) this.ws.send(encodeFrame({ tag: 'data', payload: piece }));
    }
  }

  /** Waits until `n` bytes from the VM have arrived (in total), and returns them all. */
  async read(n: number, timeoutMs = 30_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.received < n) {
      if (this.ended) throw new TunnelRefused(this.ended);
      if (Date.now() > deadline) throw new Error(`read ${this.received} of ${n} bytes in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return Buffer.concat(this.chunks);
  }

  /** Waits for the relay to end the tunnel; how it ended. */
  async closed(timeoutMs = 10_000): Promise<Refusal> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (!this.ended) throw new Error('the tunnel did not end');
    return this.ended;
  }

  /** Cuts the WebSocket (once it is up) without a close frame, as a broken network would; the tunnel reconnects. */
  async dropWebSocket(): Promise<void> {
    while (!this.live) await new Promise((r) => setTimeout(r, 20));
    this.ws.terminate();
  }

  /** Carries a local connection through the tunnel, both ways, as gcloud's listener does. */
  pipe(local: Socket): void {
    local.on('data', (chunk: Buffer) => this.write(chunk));
    local.on('close', () => this.close());
    local.on('error', () => local.destroy());
    this.onData = (chunk) => local.write(chunk);
    for (const chunk of this.chunks) local.write(chunk);
    this.chunks.length = 0;
    this.onEnd = () => local.destroy();
  }

  /** Ends the tunnel the way gcloud does when its local client is done (close 1000). */
  close(): void {
    this.ended ??= { closeCode: 1000, reason: 'closed by the test' };
    this.ws.close(1000);
  }
}
