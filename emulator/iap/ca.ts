// The relay's TLS material: a CA of its own (clients trust it through `<stateDir>/iap/ca.pem`, as
// gcloud does with core/custom_ca_certs_file) and a server certificate it signs for the relay's
// loopback address and `localhost`. Made with the openssl CLI once per state dir and reused by
// later starts, so a client configured with the CA file keeps working across restarts.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL = existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl';
const DAY_MS = 86_400_000;

export interface RelayTls {
  caFile: string;
  cert: string;
  key: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run(OPENSSL, args, { cwd: dir });
  } catch (e) {
    throw new Error(`openssl ${args[0]} for the IAP relay's certificates failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
  }
}

async function makeCa(dir: string): Promise<void> {
  // Python's ssl (gcloud) and Node both want a proper CA: critical basicConstraints and keyUsage.
  writeFileSync(join(dir, 'ca.cnf'), [
    '[req]', 'prompt=no', 'distinguished_name=dn', 'x509_extensions=v3_ca',
    '[dn]', 'O=ha-masters emulator', 'CN=IAP relay CA',
    '[v3_ca]', 'basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash',
  ].join('\n'));
  await openssl(dir, ['req', '-x509', '-config', 'ca.cnf', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-days', '3650', '-keyout', 'ca.key', '-out', 'ca.pem']);
}

async function makeServerCert(dir: string, host: string): Promise<void> {
  const sans = [...new Set(['IP:127.0.0.1', `IP:${host}`])];
  writeFileSync(join(dir, 'server.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${[...sans, 'DNS:localhost'].join(',')}`,
    'authorityKeyIdentifier=keyid',
    'subjectKeyIdentifier=hash',
  ].join('\n'));
  await openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/O=ha-masters emulator/CN=tunnel.cloudproxy.app', '-keyout', 'server.key', '-out', 'server.csr']);
  await openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-days', '825', '-extfile', 'server.ext', '-out', 'server.pem']);
  rmSync(join(dir, 'server.csr'), { force: true });
}

/** The server certificate can be reused: signed by this CA, for `host` and localhost, valid for another day. */
function serverCertFits(dir: string, host: string): boolean {
  if (!['server.pem', 'server.key'].every((f) => existsSync(join(dir, f)))) return false;
  try {
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem')));
    const cert = new X509Certificate(readFileSync(join(dir, 'server.pem')));
    return cert.verify(ca.publicKey) && cert.checkIP(host) !== undefined && cert.checkIP('127.0.0.1') !== undefined
      && cert.checkHost('localhost') !== undefined && Date.parse(cert.validTo) > Date.now() + DAY_MS;
  } catch {
    return false;
  }
}

/** The CA and server certificate under `<stateDir>/iap/`, made when missing or unfit. */
export async function relayTls(stateDir: string, host: string): Promise<RelayTls> {
  const dir = join(stateDir, 'iap');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(dir, 'ca.pem')) || !existsSync(join(dir, 'ca.key'))) await makeCa(dir);
  if (!serverCertFits(dir, host)) await makeServerCert(dir, host);
  return { caFile: join(dir, 'ca.pem'), cert: readFileSync(join(dir, 'server.pem'), 'utf8'), key: readFileSync(join(dir, 'server.key'), 'utf8') };
}
