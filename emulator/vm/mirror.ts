// The emulator's release mirror: the artifacts a master's start-up script downloads, in upstream's
// archive layouts and with their true digests, plus a release manifest in the action's JSON format.
//   etcd-<v>-linux-amd64.tar.gz           Debian's etcd and etcdctl (the real binaries)
//   kubernetes-server-linux-amd64.tar.gz  kubernetes/server/bin/kube-{apiserver,controller-manager,
//                                         scheduler}: wrappers that run emulator/standins in the VM
// The runner reads the manifest at http://127.0.0.1:PORT/release/manifest.json; the artifact URLs in
// it point at the mirror's address inside the VPCs, which is where VMs download from.
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, rmSync, statSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { MIRROR_IP } from './names.ts';
import { writeStandinBinaries } from '../standins/wrappers.ts';
import { STANDIN_GIT_VERSION } from '../standins/version.ts';

/** Where the VM finds the stand-ins' Node and code (bound read-only by the Debian runtime). */
export const GUEST_NODE = '/opt/ha-emulator/node';
export const GUEST_REPO = '/opt/ha-emulator/repo';

export interface ReleaseMirror {
  /** The manifest as the runner reaches it (input `release-manifest`). */
  manifestUrl: string;
  manifest: {
    kubernetesVersion: string;
    etcdVersion: string;
    artifacts: Record<string, { url: string; sha256?: string; sha512?: string }>;
  };
  /** Serves the same paths to the VPCs (the Debian runtime's `mirror` hook). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Makes the next downloads of an artifact differ from its digest (a tampered mirror). */
  tamper(artifact: 'etcd' | 'kubernetes-server', tampered: boolean): void;
  close(): Promise<void>;
}

const digestOf = (file: string, algorithm: 'sha256' | 'sha512'): string => createHash(algorithm).update(readFileSync(file)).digest('hex');

function etcdVersionOf(etcdBinary: string): string {
  const out = execFileSync(etcdBinary, ['--version']).toString();
  const m = /etcd Version: (\d+\.\d+\.\d+)/.exec(out);
  if (!m) throw new Error(`cannot read the version of ${etcdBinary}: ${out.trim()}`);
  return `v${m[1]}`;
}

/** A gzipped tar of `rootDir`'s `entry`, owned by root and dated 0, so its digest is stable. */
function tarball(out: string, rootDir: string, entry: string): void {
  execFileSync('tar', [
    '--create',
    '--gzip',
    '--file',
    out,
    '--directory',
    rootDir,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '--sort=name',
    entry,
  ]);
}

export async function startReleaseMirror(options: {
  dir: string;
  etcdBinary: string;
  etcdctlBinary: string;
  log: (line: string) => void;
}): Promise<ReleaseMirror> {
  const { dir, log } = options;
  rmSync(dir, { recursive: true, force: true });
  const build = join(dir, 'build');
  const files = join(dir, 'files');
  mkdirSync(files, { recursive: true });

  const etcdVersion = etcdVersionOf(options.etcdBinary);
  const etcdDir = `etcd-${etcdVersion}-linux-amd64`;
  mkdirSync(join(build, etcdDir), { recursive: true });
  copyFileSync(options.etcdBinary, join(build, etcdDir, 'etcd'));
  copyFileSync(options.etcdctlBinary, join(build, etcdDir, 'etcdctl'));
  const etcdFile = `${etcdDir}.tar.gz`;
  tarball(join(files, etcdFile), build, etcdDir);

  writeStandinBinaries(build, { nodePath: GUEST_NODE, repoPath: GUEST_REPO });
  const kubeFile = 'kubernetes-server-linux-amd64.tar.gz';
  tarball(join(files, kubeFile), build, 'kubernetes');

  const vpcUrl = (file: string): string => `http://${MIRROR_IP}/release/${file}`;
  const manifest = {
    kubernetesVersion: STANDIN_GIT_VERSION,
    etcdVersion,
    artifacts: {
      'kubernetes-server': { url: vpcUrl(kubeFile), sha512: digestOf(join(files, kubeFile), 'sha512') },
      etcd: { url: vpcUrl(etcdFile), sha256: digestOf(join(files, etcdFile), 'sha256') },
    },
  };
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  const tampered = new Set<string>();
  const fileOf: Record<string, string> = { 'kubernetes-server': kubeFile, etcd: etcdFile };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://mirror').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
    if (path === '/release/manifest.json') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(manifestText);
    }
    const name = path.startsWith('/release/') ? path.slice('/release/'.length) : '';
    if (![kubeFile, etcdFile].includes(name)) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    const file = join(files, name);
    const corrupt = [...tampered].some((a) => fileOf[a] === name);
    res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': String(statSync(file).size) });
    if (req.method === 'HEAD') return void res.end();
    if (!corrupt) return void createReadStream(file).pipe(res);
    // Same size, one byte flipped in the middle: only the digest can tell.
    const bytes = readFileSync(file);
    const mid = Math.floor(bytes.length / 2);
    bytes[mid] = (bytes[mid] ?? 0) ^ 0xff;
    res.end(bytes);
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const manifestUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/release/manifest.json`;
  log(`release manifest at ${manifestUrl} (etcd ${etcdVersion}, Kubernetes stand-ins ${STANDIN_GIT_VERSION})`);
  return {
    manifestUrl,
    manifest,
    handle,
    tamper(artifact, on) {
      if (on) tampered.add(artifact);
      else tampered.delete(artifact);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
