// The emulator's IAP TCP-forwarding relay: wss only (the `ws` package on node:https, loopback),
// speaking relay.tunnel.cloudproxy.app as gcloud does. `/v4/connect` checks the bearer token,
// finds the instance in the store, checks the firewall for IAP's range and connects to nic0's
// internal IP (through the VPC on the Debian runtime); `/v4/reconnect` resumes a session by id.
// As IAP answers: HTTP 401 for a missing or unknown token, 403 (missing IAP permission: only by a
// fault here, the emulator has no IAM), 404 for an instance that does not exist, all before the
// upgrade; close 4003 "failed to connect to backend" when the VM's port cannot be reached.
import { createServer, type Server } from 'node:https';
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EmulatorContext } from '../context.ts';
import type { RuntimeInstance } from '../runtime/types.ts';
import { CLOSE, SUBPROTOCOL } from './frames.ts';
import { relayTls } from './ca.ts';
import { IapSession, type ClientSocket, type SessionHooks } from './session.ts';
import { bearerToken, type AccessTokens } from './tokens.ts';
import type { IapFaults } from './faults.ts';
import { connectToVm, findInstance, unreachableWhy } from './target.ts';

export interface IapRelayOptions {
  ctx: EmulatorContext;
  tokens: AccessTokens;
  faults: IapFaults;
  /** Loopback address to listen on; the server certificate names it, 127.0.0.1 and localhost. */
  host: string;
  /** `<stateDir>/iap/` keeps the CA (ca.pem), the server certificate and the token secret. */
  stateDir: string;
  /** A dropped SYN never answers: give up on the VM's port after this long (close 4003). */
  connectTimeoutMs?: number;
  /** How long a session without a WebSocket waits for a reconnect. */
  resumeWindowMs?: number;
}

export interface IapRelay {
  /** `wss://HOST:PORT`: gcloud's --iap-tunnel-url-override. */
  readonly url: string;
  readonly port: number;
  /** The CA that signed the relay's certificate (gcloud's core/custom_ca_certs_file). */
  readonly caFile: string;
  stats(): object;
  /** Stops listening and cuts every tunnel (their VM connections too). */
  close(): Promise<void>;
}

const FAILED_TO_CONNECT = 'failed to connect to backend';

const count = (tally: Record<string, number>, key: number | string): void => {
  tally[key] = (tally[key] ?? 0) + 1;
};

export async function startIapRelay(options: IapRelayOptions): Promise<IapRelay> {
  const { ctx, tokens, faults } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const resumeWindowMs = options.resumeWindowMs ?? 60_000;
  const tls = await relayTls(options.stateDir, options.host);
  const sessions = new Map<string, IapSession>();
  // Every VM connection until it is closed: an ended session's may still be flushing when the emulator stops.
  const vmSockets = new Set<Socket>();
  const tally = {
    connects: 0,
    reconnects: 0,
    sessionsOpened: 0,
    bytesToVm: 0,
    bytesToClient: 0,
    refused: {} as Record<string, number>,
    closed: {} as Record<string, number>,
  };
  let stopping = false;

  const hooks: SessionHooks = {
    relayed(direction, bytes) {
      if (direction === 'toVm') tally.bytesToVm += bytes;
      else tally.bytesToClient += bytes;
      faults.relayed(bytes);
    },
    takeDrop: () => faults.takeDrop(),
    closedWebSocket: (code) => count(tally.closed, code),
    ended(session, why) {
      sessions.delete(session.sid);
      ctx.log(`IAP tunnel ${session.sid} ended: ${why}`);
    },
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
    res
      .writeHead(400, { 'content-type': 'text/plain' })
      .end('the IAP relay takes WebSocket connections at /v4/connect and /v4/reconnect\n');
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: 1 << 20,
    handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });

  /** Answers a handshake with an HTTP error instead of switching protocols. */
  function refuse(socket: Duplex, status: number, message: string): void {
    count(tally.refused, status);
    const body = `${message}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  function closeWith(ws: WebSocket, code: number, reason: string, detail?: string): void {
    count(tally.closed, code);
    if (detail) ctx.log(`IAP relay: close ${code} (${reason}): ${detail}`);
    ws.close(code, reason);
  }

  async function openTunnel(client: ClientSocket, inst: RuntimeInstance, port: number): Promise<void> {
    const { ws } = client;
    tally.connects++;
    const why = unreachableWhy(ctx, inst, port);
    if (why) return closeWith(ws, CLOSE.failedToConnectToBackend, FAILED_TO_CONNECT, why);
    let vm: Socket;
    try {
      vm = await connectToVm(ctx, inst, port, connectTimeoutMs);
    } catch (e) {
      return closeWith(ws, CLOSE.failedToConnectToBackend, FAILED_TO_CONNECT, `${inst.key}:${port}: ${(e as Error).message}`);
    }
    if (stopping || ws.readyState !== ws.OPEN) return void vm.destroy();
    vmSockets.add(vm);
    vm.once('close', () => vmSockets.delete(vm));
    const sid = randomBytes(18).toString('base64url');
    sessions.set(
      sid,
      new IapSession(sid, { project: inst.project, zone: inst.zone, instance: inst.name, port }, vm, client, hooks, resumeWindowMs),
    );
    tally.sessionsOpened++;
    ctx.log(`IAP tunnel ${sid} to ${inst.project}/${inst.key}:${port} opened`);
  }

  function resumeTunnel(client: ClientSocket, sid: string, ack: number, zone: string | null): void {
    const { ws } = client;
    tally.reconnects++;
    const session = sessions.get(sid);
    if (!session || session.ended || (zone && zone !== session.target.zone))
      return closeWith(ws, CLOSE.sidUnknown, 'sid unknown', `no live session ${sid}`);
    if (!session.resume(client, ack))
      closeWith(ws, CLOSE.invalidAck, 'invalid ack', `session ${sid}: ack ${ack} is not a point of its stream`);
  }

  /** Everything checked before the upgrade; returns what to do with the WebSocket, or refuses. */
  function admit(req: IncomingMessage, socket: Duplex): ((client: ClientSocket) => void) | undefined {
    const url = new URL(req.url ?? '/', 'https://relay.invalid');
    const endpoint = url.pathname.replace(/\/+$/, '');
    if (endpoint !== '/v4/connect' && endpoint !== '/v4/reconnect') return void refuse(socket, 404, `no IAP endpoint at ${url.pathname}`);
    const token = bearerToken(req.headers.authorization);
    const check = tokens.check(token);
    if (check !== 'valid') {
      return void refuse(
        socket,
        401,
        !token
          ? 'Request is missing required authentication credential (Authorization: Bearer <access token>)'
          : check === 'expired'
            ? 'the access token has expired'
            : 'the access token is not valid',
      );
    }
    const injected = faults.takeRefusal();
    if (injected !== undefined && injected < 1000) {
      return void refuse(
        socket,
        injected,
        injected === 403
          ? 'permission iap.tunnelInstances.accessViaIAP denied (an injected fault)'
          : `refused by an injected fault (${injected})`,
      );
    }
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(SUBPROTOCOL)) return void refuse(socket, 400, `the WebSocket subprotocol ${SUBPROTOCOL} is required`);
    const q = url.searchParams;
    let open: (client: ClientSocket) => void;
    if (endpoint === '/v4/connect') {
      const [project, zone, instance] = [q.get('project'), q.get('zone'), q.get('instance')];
      const port = Number(q.get('port'));
      if (!project || !zone || !instance) return void refuse(socket, 400, 'project, zone and instance are required');
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        return void refuse(socket, 400, `port must be 1-65535, not ${q.get('port')}`);
      const nic = q.get('interface') ?? 'nic0';
      if (nic !== 'nic0') return void refuse(socket, 400, `interface ${nic}: the emulator's instances have nic0 only`);
      const inst = findInstance(ctx, project, zone, instance);
      if (!inst) return void refuse(socket, 404, `instance projects/${project}/zones/${zone}/instances/${instance} not found`);
      open = (client) => void openTunnel(client, inst, port);
    } else {
      const sid = q.get('sid');
      const ack = Number(q.get('ack'));
      if (!sid || !Number.isSafeInteger(ack) || ack < 0) return void refuse(socket, 400, 'sid and ack (a byte count) are required');
      open = (client) => resumeTunnel(client, sid, ack, q.get('zone'));
    }
    // A close code as the fault: the upgrade succeeds and the relay closes at once, as IAP does for 4033.
    if (injected !== undefined)
      return ({ ws }) =>
        closeWith(ws, injected, injected === CLOSE.notAuthorized ? 'not authorized' : 'refused by an injected fault', 'injected fault');
    return open;
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (stopping) return void socket.destroy();
    const open = admit(req, socket);
    // The session keeps the TLS socket beside its WebSocket, to send a VM read's frames in one write.
    if (open) wss.handleUpgrade(req, socket, head, (ws) => open({ ws, wire: socket }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `wss://${options.host}:${port}`;

  return {
    url,
    port,
    caFile: tls.caFile,
    stats: () => ({
      url,
      caFile: tls.caFile,
      tokensIssued: tokens.issued,
      handshakes: { connect: tally.connects, reconnect: tally.reconnects },
      refused: tally.refused,
      closed: tally.closed,
      sessions: { opened: tally.sessionsOpened, open: sessions.size },
      bytes: { toVm: tally.bytesToVm, toClient: tally.bytesToClient },
      tunnels: [...sessions.values()].map((s) => s.describe()),
      faults: faults.describe(),
    }),
    async close() {
      stopping = true;
      for (const session of [...sessions.values()]) session.end('the emulator stops', true);
      for (const vm of vmSockets) vm.destroy();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
