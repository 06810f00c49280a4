// The host side of a confirmed dial into a VPC (emulator/vm/vpc-dial.ts), against stand-ins for
// the VPC gateway's dial socket: it resolves only on the gateway's CONNECTED line, hands over the
// VM's first bytes untouched, and tells a refused connection from one that never comes.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialVpcConfirmed } from '../../emulator/vm/vpc-dial.ts';

let dir: string;
const servers: Server[] = [];

/** A stand-in gateway: records the request line, then does what `answer` says. */
async function gateway(answer: (socket: Socket) => void): Promise<{ path: string; lines: string[] }> {
  const path = join(dir, `gw${servers.length}.sock`);
  const lines: string[] = [];
  const server = createServer((socket) => {
    socket.once('data', (d: Buffer) => {
      lines.push(d.toString());
      answer(socket);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, () => resolve()));
  return { path, lines };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vpc-dial-'));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

test("resolves on CONNECTED; the VM's bytes that came with it are read after, once resumed", async () => {
  const gw = await gateway((s) => s.end('CONNECTED\nSSH-2.0-banner\n'));
  const socket = await dialVpcConfirmed(gw.path, '10.132.0.2', 22, '35.235.240.1', 2000);
  expect(gw.lines).toEqual(['CONNECT 10.132.0.2:22 FROM 35.235.240.1 CONFIRM\n']);
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString()));
  socket.resume();
  await new Promise((r) => socket.on('end', r));
  expect(text).toBe('SSH-2.0-banner\n');
});

test('a connection the gateway could not make (it closes) is refused at once', async () => {
  const gw = await gateway((s) => s.destroy());
  await expect(dialVpcConfirmed(gw.path, '10.132.0.2', 2379, undefined, 2000)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  expect(gw.lines).toEqual(['CONNECT 10.132.0.2:2379 CONFIRM\n']);
});

test('no answer (a dropped SYN) times out', async () => {
  const gw = await gateway(() => undefined);
  const started = Date.now();
  await expect(dialVpcConfirmed(gw.path, '10.132.0.2', 2379, '35.235.240.1', 300)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  expect(Date.now() - started).toBeGreaterThanOrEqual(290);
});
