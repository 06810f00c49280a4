// One IAP tunnel: the TCP connection to the VM and the two byte streams, which outlive any one
// WebSocket. What the relay sends the client stays buffered until the client acknowledges it, so
// a reconnect (session id + the client's `ack`) resumes byte-exactly: the relay answers
// RECONNECT_SUCCESS_ACK with how much it has received (the client resends the rest) and resends
// what the client has not acknowledged. Without a WebSocket the session waits for a reconnect for
// `resumeWindowMs`, then closes the VM's connection.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { CLOSE, MAX_DATA_BYTES, MalformedFrame, decodeClientFrame, encodeFrame } from './frames.ts';
import { dataMessages } from './data-messages.ts';
import { Unacknowledged } from './unacknowledged.ts';

/** The relay stops reading from the VM while this much of what it sent is unacknowledged. */
export const UNACKED_WINDOW = 4 * 1024 * 1024;
/** Like gcloud, acknowledge after two frames' worth; and after a short quiet spell, for the rest. */
const ACK_EVERY = 2 * MAX_DATA_BYTES;
const ACK_DELAY_MS = 50;

export interface SessionTarget {
  project: string;
  zone: string;
  instance: string;
  port: number;
}

export interface SessionHooks {
  /** Counts fresh bytes relayed (resent ones are not). */
  relayed(direction: 'toVm' | 'toClient', bytes: number): void;
  /** True: a fault wants the live WebSocket at hand dropped now. */
  takeDrop(): boolean;
  /** The relay closed a WebSocket of this session with `code`. */
  closedWebSocket(code: number): void;
  /** The session is over: its VM connection is closed or closing, its id unknown from now on. */
  ended(session: IapSession, why: string): void;
}

/** A client's WebSocket and the TLS connection under it (DATA goes straight onto it: data-messages.ts). */
export interface ClientSocket {
  ws: WebSocket;
  wire: Pick<Duplex, 'write'>;
}

export class IapSession {
  readonly sid: string;
  readonly target: SessionTarget;
  private readonly vm: Socket;
  private readonly hooks: SessionHooks;
  private readonly resumeWindowMs: number;
  private ws: WebSocket | undefined;
  private wire: ClientSocket['wire'] | undefined;
  /** Close codes of the WebSockets the relay itself closed. */
  private readonly closedByRelay = new WeakMap<WebSocket, number>();
  /** Bytes received from the client, every one written to the VM. */
  private fromClient = 0;
  private ackSent = 0;
  /** Bytes read from the VM and sent (or to be sent) to the client, kept until it acknowledges them. */
  private readonly toClient = new Unacknowledged();
  private webSockets = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  /** The VM closed its connection: no more bytes will come from it. */
  private vmDone = false;
  /** The VM's socket buffer is full: the client's WebSocket is paused until it drains. */
  private vmBlocked = false;
  ended = false;

  constructor(sid: string, target: SessionTarget, vm: Socket, client: ClientSocket, hooks: SessionHooks, resumeWindowMs: number) {
    this.sid = sid;
    this.target = target;
    this.vm = vm;
    this.hooks = hooks;
    this.resumeWindowMs = resumeWindowMs;
    this.attach(client);
    this.send(encodeFrame({ tag: 'connectSuccessSid', sid }));
    vm.on('data', (chunk: Buffer) => this.fromVm(chunk));
    vm.resume(); // a VPC dial hands its socket over paused, the VM's first bytes still in it
    vm.on('error', () => undefined); // 'close' follows and says it all
    vm.on('close', () => {
      this.vmDone = true;
      this.finishIfDrained();
    });
  }

  /** Takes a reconnecting client's WebSocket; false when its `ack` is not a point this stream passed. */
  resume(client: ClientSocket, clientAck: number): boolean {
    if (!this.toClient.fits(clientAck)) return false;
    this.confirm(clientAck);
    clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
    // A client that reconnects while its old socket still looks open here: the old one is dead to it.
    this.ws?.terminate();
    this.attach(client);
    this.send(encodeFrame({ tag: 'reconnectSuccessAck', bytes: this.fromClient }));
    this.ackSent = this.fromClient;
    for (const piece of this.toClient) this.sendData(piece);
    this.finishIfDrained();
    return true;
  }

  /** Ends the tunnel: the VM's connection is ended gracefully (or cut, with `hard`). */
  end(why: string, hard = false): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.ackTimer);
    clearTimeout(this.resumeTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (hard) {
      ws?.terminate();
      this.vm.destroy();
    } else {
      if (ws && ws.readyState === ws.OPEN) ws.close(CLOSE.normal, 'tunnel closed');
      this.vm.end(() => this.vm.destroy());
    }
    this.hooks.ended(this, why);
  }

  describe(): object {
    const { project, zone, instance, port } = this.target;
    return {
      sid: this.sid,
      instance: `${project}/${zone}/${instance}`,
      port,
      connected: this.ws !== undefined,
      webSockets: this.webSockets,
      bytesFromClient: this.fromClient,
      bytesToClient: this.toClient.sent,
      bytesAckedByClient: this.toClient.acked,
      vmClosed: this.vmDone,
    };
  }

  private attach({ ws, wire }: ClientSocket): void {
    this.ws = ws;
    this.wire = wire;
    this.webSockets++;
    if (this.vmBlocked) ws.pause();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // Once the relay has closed a WebSocket, what still comes on it is dropped: the client sends
      // it again after its reconnect (RECONNECT_SUCCESS_ACK says how much arrived).
      if (ws === this.ws && !this.closedByRelay.has(ws)) this.fromClientMessage(data, isBinary);
    });
    ws.on('error', () => undefined); // 'close' follows
    ws.on('close', (code: number) => {
      if (ws !== this.ws || this.ended) return;
      this.ws = undefined;
      const byRelay = this.closedByRelay.get(ws);
      if (byRelay === CLOSE.reauthenticationRequired) return this.awaitResume();
      if (byRelay !== undefined) return this.end(`the relay closed it with ${byRelay}`, byRelay !== CLOSE.normal);
      // A client that is done closes normally; anything else (1006: the connection broke) may resume.
      if (code === CLOSE.normal) return this.end('the client closed the tunnel');
      this.awaitResume();
    });
  }

  private awaitResume(): void {
    this.resumeTimer = setTimeout(() => this.end(`no reconnect within ${this.resumeWindowMs / 1000} s`, true), this.resumeWindowMs);
    this.resumeTimer.unref();
  }

  private send(frame: Buffer): void {
    const ws = this.ws;
    if (ws && ws.readyState === ws.OPEN) ws.send(frame);
  }

  private closeWebSocket(code: number, reason: string): void {
    const ws = this.ws;
    if (!ws || this.closedByRelay.has(ws)) return;
    this.closedByRelay.set(ws, code);
    this.hooks.closedWebSocket(code);
    // Close reasons are at most 123 bytes.
    ws.close(code, reason.slice(0, 120));
  }

  /**
   * DATA frames for `bytes`, in one write straight onto the WebSocket's socket (between whole
   * messages of ws's own, which writes synchronously without compression); nothing once closing.
   */
  private sendData(bytes: Buffer): Buffer[] {
    const { wire, pieces } = dataMessages(bytes);
    const ws = this.ws;
    if (ws && ws.readyState === ws.OPEN) this.wire?.write(wire);
    return pieces;
  }

  private fromVm(chunk: Buffer): void {
    for (const piece of this.sendData(chunk)) this.toClient.push(piece);
    if (this.toClient.held >= UNACKED_WINDOW) this.vm.pause();
    this.hooks.relayed('toClient', chunk.length);
    this.maybeDrop();
  }

  /** A due drop fault takes a live WebSocket only (one already closing would swallow it). */
  private maybeDrop(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== ws.OPEN || this.closedByRelay.has(ws)) return;
    if (this.hooks.takeDrop()) this.closeWebSocket(CLOSE.reauthenticationRequired, 'reauthentication required');
  }

  private fromClientMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) return this.closeWebSocket(CLOSE.invalidWebsocketOpcode, 'frames are binary messages');
    let frame;
    try {
      frame = decodeClientFrame(data);
    } catch (e) {
      if (e instanceof MalformedFrame) return this.closeWebSocket(e.closeCode, e.message);
      throw e;
    }
    if (frame.tag === 'ack') {
      if (frame.bytes < this.toClient.acked)
        return this.closeWebSocket(CLOSE.badAck, `ACK ${frame.bytes} goes back (was ${this.toClient.acked})`);
      if (frame.bytes > this.toClient.sent)
        return this.closeWebSocket(CLOSE.invalidAck, `ACK ${frame.bytes} is more than the ${this.toClient.sent} bytes sent`);
      return this.confirm(frame.bytes);
    }
    if (this.vmDone) return; // the VM is gone; the WebSocket closes once the last bytes are out
    this.fromClient += frame.payload.length;
    if (!this.vm.write(frame.payload) && !this.vmBlocked) {
      this.vmBlocked = true;
      this.ws?.pause();
      this.vm.once('drain', () => {
        this.vmBlocked = false;
        this.ws?.resume();
      });
    }
    this.acknowledge();
    this.hooks.relayed('toVm', frame.payload.length);
    this.maybeDrop();
  }

  /** Tells the client what arrived: at once after two frames' worth, else after a short delay. */
  private acknowledge(): void {
    const send = (): void => {
      clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
      if (this.fromClient <= this.ackSent || !this.ws) return;
      this.send(encodeFrame({ tag: 'ack', bytes: this.fromClient }));
      this.ackSent = this.fromClient;
    };
    if (this.fromClient - this.ackSent >= ACK_EVERY) send();
    else this.ackTimer ??= setTimeout(send, ACK_DELAY_MS);
  }

  /** The client has everything up to `bytes`: forget it, and read from the VM again if it was held. */
  private confirm(bytes: number): void {
    this.toClient.confirm(bytes);
    if (!this.vmDone && this.toClient.held < UNACKED_WINDOW) this.vm.resume();
  }

  /** Once the VM has closed and a WebSocket has carried the last bytes out, the tunnel is done. */
  private finishIfDrained(): void {
    if (this.vmDone && this.ws && !this.ended) this.closeWebSocket(CLOSE.normal, 'connection closed by the backend');
  }
}
