// One TCP connection to a VM's port through Google's IAP relay, as a Duplex stream. The bytes are
// whatever the caller speaks (etcd's mTLS, the apiserver's TLS): the relay only carries them.
//
// The session outlives its WebSocket: when the relay asks us to (close 4004, "reauthenticate") or
// the socket drops, we reconnect with the session id and the count of bytes we received; the relay
// answers with the count it received, and we resend the rest. So every byte we send is kept until
// the relay acknowledges it, and we acknowledge what we receive (cumulatively: see ACK_AFTER).
import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { RawData } from 'ws';
import { ackFrame, dataFrame, FrameError, MAX_DATA_BYTES, parseFrame, SUBPROTOCOL } from './frames.ts';
import { closeError, handshakeError, IapError } from './errors.ts';

export const DEFAULT_IAP_ENDPOINT = 'wss://tunnel.cloudproxy.app';

export interface IapTarget {
  project: string;
  zone: string;
  instance: string;
  port: number;
  /** The VM's network interface (default nic0, the one whose internal IP IAP connects to). */
  networkInterface?: string;
}

export interface IapTunnelOptions {
  /** The relay: `wss://tunnel.cloudproxy.app` (default), or another such as the emulator's. */
  endpoint?: string;
  /** An OAuth access token for each (re)connect. */
  token: () => Promise<string>;
  /** PEM CA(s) to trust for the relay instead of the system's (a private relay). */
  ca?: string;
  /** How long a dropped session keeps trying to resume before it fails (default 60 s). */
  resumeWindowMs?: number;
  /** Deadline for one WebSocket handshake and the relay's first frame (default 20 s). */
  handshakeTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Unacknowledged bytes we let the caller queue before its writes wait for the relay's ACKs. */
const SEND_WINDOW = 4 * 1024 * 1024;
/**
 * We acknowledge received bytes once this many are unacknowledged, and the rest after ACK_DELAY_MS.
 * gcloud acks after 2 frames, the least Google recommends ("at least 2x the frame size"); each
 * ACK is a write that wakes the relay, and a 100 MB snapshot took 3,900 of them at 32 KiB.
 */
const ACK_AFTER = 16 * MAX_DATA_BYTES;
const ACK_DELAY_MS = 10;
const CLOSE_REAUTHENTICATE = 4004;
const CLOSE_ABNORMAL = 1006;

type Phase = 'connecting' | 'open' | 'resuming' | 'ended';

export class IapTunnel extends Duplex {
  private readonly opts: Required<Pick<IapTunnelOptions, 'endpoint' | 'resumeWindowMs' | 'handshakeTimeoutMs'>> & IapTunnelOptions;
  private target: IapTarget | undefined;
  private ws: WebSocket | undefined;
  private phase: Phase = 'connecting';
  private sid: string | undefined;
  /** Bytes of DATA received from the relay, and the part of them we acknowledged. */
  private received = 0;
  private acked = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  /** Bytes we sent, the part the relay confirmed, and the payloads in between (for a resend). */
  private sent = 0;
  private confirmed = 0;
  private unconfirmed: Buffer[] = [];
  /** Write callbacks held until the tunnel is open and the send window has room. */
  private waiting: Array<() => void> = [];

  constructor(target: IapTarget | Promise<IapTarget>, opts: IapTunnelOptions) {
    // A frame is 16 KiB: a larger read buffer keeps one frame from pausing the WebSocket.
    super({ allowHalfOpen: false, readableHighWaterMark: 1024 * 1024 });
    this.opts = { endpoint: DEFAULT_IAP_ENDPOINT, resumeWindowMs: 60_000, handshakeTimeoutMs: 20_000, ...opts };
    void Promise.resolve(target)
      .then((t) => {
        this.target = t;
        return this.open(false);
      })
      .catch((err: unknown) => this.destroy(err as Error));
  }

  /** The relay's URL for a new session or for resuming this one. */
  private url(resume: boolean): string {
    const base = new URL(this.opts.endpoint);
    const root = base.pathname && base.pathname !== '/' ? base.pathname.replace(/\/$/, '') : '/v4';
    const t = this.target!;
    const query: Record<string, string> = resume
      ? { sid: this.sid!, ack: String(this.received), newWebsocket: 'True', zone: t.zone }
      : {
          project: t.project,
          port: String(t.port),
          newWebsocket: 'True',
          zone: t.zone,
          instance: t.instance,
          interface: t.networkInterface ?? 'nic0',
        };
    return `${base.protocol}//${base.host}${root}/${resume ? 'reconnect' : 'connect'}?${new URLSearchParams(query)}`;
  }

  /** One WebSocket: resolves when the relay's first frame says the session is (again) carried. */
  private async open(resume: boolean): Promise<void> {
    const token = await this.opts.token();
    if (this.destroyed) return;
    const where = this.target!;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const ws = new WebSocket(this.url(resume), SUBPROTOCOL, {
        headers: { authorization: `Bearer ${token}` },
        origin: 'bot:iap-tunneler',
        perMessageDeflate: false,
        ...(this.opts.ca ? { ca: this.opts.ca } : {}),
      });
      this.ws = ws;
      // Set once the relay's first frame arrived: from then on a close is the session's business.
      let carried = false;
      const timer = setTimeout(() => {
        ws.terminate();
        settle(
          new IapError(
            'relay',
            `the IAP relay at ${this.opts.endpoint} did not open a tunnel to ${where.instance} port ${where.port} within ${this.opts.handshakeTimeoutMs} ms`,
          ),
        );
      }, this.opts.handshakeTimeoutMs);
      ws.on('unexpected-response', (req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < 300) body += c;
        });
        res.on('end', () => settle(handshakeError(res.statusCode ?? 0, where, body.trim().slice(0, 300))));
        res.on('error', () => settle(handshakeError(res.statusCode ?? 0, where, '')));
        req.on('error', () => undefined);
        setTimeout(() => req.destroy(), 1000).unref();
      });
      ws.on('error', (err) => settle(new IapError('relay', `could not reach the IAP relay at ${this.opts.endpoint}: ${err.message}`)));
      ws.on('message', (data: RawData) => {
        if (ws !== this.ws) return;
        try {
          const frame = parseFrame(toBuffer(data));
          if (frame.type === 'connected' || frame.type === 'reconnected') {
            if (frame.type === 'connected') this.sid = frame.sid;
            else {
              this.dropConfirmed(frame.ack);
              // The reconnect's URL told the relay how much we had received.
              this.acked = this.received;
            }
            if (this.destroyed) return;
            if (frame.type === 'connected') this.emit('carried', where);
            carried = true;
            this.phase = 'open';
            this.resend();
            settle();
            this.release();
            return;
          }
          if (frame.type === 'ack') {
            this.dropConfirmed(frame.bytes);
            this.release();
            return;
          }
          this.received += frame.bytes.length;
          if (!this.push(frame.bytes)) ws.pause();
          if (this.received - this.acked >= ACK_AFTER) this.sendAck();
          else this.ackTimer ??= setTimeout(() => this.sendAck(), ACK_DELAY_MS);
        } catch (err) {
          const why =
            err instanceof FrameError ? `the IAP relay sent a frame this client cannot read: ${err.message}` : (err as Error).message;
          this.destroy(new IapError('relay', why));
        }
      });
      ws.on('close', (code, reasonBuf) => {
        const reason = reasonBuf.toString();
        if (!carried) return settle(closeError(code, reason, where));
        if (ws === this.ws) this.onClosed(code, reason);
      });
    });
  }

  /** The carrying socket closed after the session started: resume, end, or fail. */
  private onClosed(code: number, reason: string): void {
    if (this.phase === 'ended' || this.destroyed) return;
    this.ws = undefined;
    if (code === CLOSE_REAUTHENTICATE || code === CLOSE_ABNORMAL) {
      this.phase = 'resuming';
      void this.resumeSession(code);
      return;
    }
    this.phase = 'ended';
    if (code === 1000) {
      // The VM closed its end: what was received is still to be read; the stream ends after it.
      this.push(null);
    } else {
      this.destroy(closeError(code, reason, this.target!));
    }
  }

  /** Reconnects with back-off until the relay takes the session up again or the window closes. */
  private async resumeSession(code: number): Promise<void> {
    const t = this.target!;
    this.opts.log?.(
      `iap: tunnel to ${t.instance}:${t.port} dropped (close ${code}); resuming session after ${this.received} bytes received, ${this.confirmed} confirmed`,
    );
    const deadline = Date.now() + this.opts.resumeWindowMs;
    let delay = 100;
    for (;;) {
      if (this.destroyed) return;
      try {
        await this.open(true);
        this.opts.log?.(`iap: tunnel to ${t.instance}:${t.port} resumed`);
        return;
      } catch (err) {
        const fatal = err instanceof IapError && err.fatal;
        if (fatal || Date.now() + delay > deadline) {
          this.destroy(
            fatal
              ? err
              : new IapError(
                  'relay',
                  `the IAP tunnel to ${t.instance} port ${t.port} dropped and could not be resumed within ${this.opts.resumeWindowMs} ms: ${(err as Error).message}`,
                ),
          );
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  /** Forgets what the relay has confirmed (it counts bytes of DATA payload since the start). */
  private dropConfirmed(upTo: number): void {
    if (upTo > this.sent || upTo < this.confirmed) {
      this.destroy(new IapError('relay', `the IAP relay confirmed ${upTo} bytes, but ${this.confirmed}..${this.sent} were outstanding`));
      return;
    }
    let drop = upTo - this.confirmed;
    while (drop > 0) {
      const head = this.unconfirmed[0]!;
      if (head.length <= drop) {
        this.unconfirmed.shift();
        drop -= head.length;
      } else {
        this.unconfirmed[0] = head.subarray(drop);
        drop = 0;
      }
    }
    this.confirmed = upTo;
  }

  /** Sends every unconfirmed byte again (after a resume; on a new session there are none). */
  private resend(): void {
    for (const chunk of this.unconfirmed) this.ws!.send(dataFrame(chunk));
  }

  private sendAck(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.phase !== 'open' || !this.ws || this.received === this.acked) return;
    this.acked = this.received;
    this.ws.send(ackFrame(this.received));
  }

  /** Lets held writes go on while the tunnel is open and the window has room. */
  private release(): void {
    while (this.waiting.length > 0 && this.phase === 'open' && this.sent - this.confirmed <= SEND_WINDOW) this.waiting.shift()!();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    for (let at = 0; at < chunk.length; at += MAX_DATA_BYTES) {
      const piece = chunk.subarray(at, at + MAX_DATA_BYTES);
      this.unconfirmed.push(piece);
      this.sent += piece.length;
      // While connecting or resuming, the piece waits in `unconfirmed` and goes out with resend().
      if (this.phase === 'open') this.ws!.send(dataFrame(piece));
    }
    this.waiting.push(() => done());
    this.release();
  }

  override _read(): void {
    this.ws?.resume();
  }

  override _final(done: (err?: Error | null) => void): void {
    // No half-close in this protocol: the caller is done, so the session is (once what it wrote is out).
    const finish = (): void => {
      this.phase = 'ended';
      this.ws?.close(1000);
      this.push(null);
      done();
    };
    if (this.phase === 'ended') done();
    else if (this.phase === 'open') finish();
    else this.waiting.push(finish);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.phase = 'ended';
    clearTimeout(this.ackTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState !== WebSocket.CLOSED) ws.terminate();
    for (const w of this.waiting.splice(0)) w();
    done(err);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
