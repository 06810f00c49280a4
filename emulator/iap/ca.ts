// The emulator's TLS material: a CA of its own (clients trust it through `<stateDir>/iap/ca.pem`, as
// gcloud does with core/custom_ca_certs_file; VMs through their CA bundle) and the server
// certificates it signs: the IAP relay's (its loopback address and `localhost`) and Google APIs'
// as VMs reach them (`secretmanager.googleapis.com`). Made with the openssl CLI once per state dir
// and reused by later starts, so a client configured with the CA file keeps working across restarts.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL = existsSync('/usr/bin/openssl') ? '/usr/bin/openssl' : 'openssl';
const DAY_MS = 86_400_000;

export interface ServerTls {
  caFile: string;
  cert: string;
  key: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run(OPENSSL, args, { cwd: dir });
  } catch (e) {
    throw new Error(
      `openssl ${args[0]} for the emulator's certificates failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`,
      { cause: e },
    );
  }
}

async function makeCa(dir: string): Promise<void> {
  // Python's ssl (gcloud) and Node both want a proper CA: critical basicConstraints and keyUsage.
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[req]',
      'prompt=no',
      'distinguished_name=dn',
      'x509_extensions=v3_ca',
      '[dn]',
      'O=ha-masters emulator',
      'CN=IAP relay CA',
      '[v3_ca]',
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier=hash',
    ].join('\n'),
  );
  await openssl(dir, [
    'req',
    '-x509',
    '-config',
    'ca.cnf',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '3650',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
}

/** Names a server certificate is for: IP and DNS subject alternative names. */
interface ServerNames {
  commonName: string;
  ips: string[];
  dnsNames: string[];
}

async function makeServerCert(dir: string, file: string, names: ServerNames): Promise<void> {
  const sans = [...new Set(names.ips)].map((ip) => `IP:${ip}`).concat(names.dnsNames.map((d) => `DNS:${d}`));
  writeFileSync(
    join(dir, `${file}.ext`),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${sans.join(',')}`,
      'authorityKeyIdentifier=keyid',
      'subjectKeyIdentifier=hash',
    ].join('\n'),
  );
  await openssl(dir, [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/O=ha-masters emulator/CN=${names.commonName}`,
    '-keyout',
    `${file}.key`,
    '-out',
    `${file}.csr`,
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${file}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '825',
    '-extfile',
    `${file}.ext`,
    '-out',
    `${file}.pem`,
  ]);
  rmSync(join(dir, `${file}.csr`), { force: true });
}

/** The server certificate can be reused: signed by this CA, for every one of `names`, valid for another day. */
function serverCertFits(dir: string, file: string, names: ServerNames): boolean {
  if (![`${file}.pem`, `${file}.key`].every((f) => existsSync(join(dir, f)))) return false;
  try {
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem')));
    const cert = new X509Certificate(readFileSync(join(dir, `${file}.pem`)));
    return (
      cert.verify(ca.publicKey) &&
      names.ips.every((ip) => cert.checkIP(ip) !== undefined) &&
      names.dnsNames.every((d) => cert.checkHost(d) !== undefined) &&
      Date.parse(cert.validTo) > Date.now() + DAY_MS
    );
  } catch {
    return false;
  }
}

/** The CA under `<stateDir>/iap/` (made when missing) and a server certificate it signs, made when missing or unfit. */
async function serverTls(stateDir: string, file: string, names: ServerNames): Promise<ServerTls> {
  const dir = join(stateDir, 'iap');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(dir, 'ca.pem')) || !existsSync(join(dir, 'ca.key'))) await makeCa(dir);
  if (!serverCertFits(dir, file, names)) await makeServerCert(dir, file, names);
  return {
    caFile: join(dir, 'ca.pem'),
    cert: readFileSync(join(dir, `${file}.pem`), 'utf8'),
    key: readFileSync(join(dir, `${file}.key`), 'utf8'),
  };
}

/** The IAP relay's certificate: for its loopback address, 127.0.0.1 and localhost. */
export const relayTls = (stateDir: string, host: string): Promise<ServerTls> =>
  serverTls(stateDir, 'server', { commonName: 'tunnel.cloudproxy.app', ips: ['127.0.0.1', host], dnsNames: ['localhost'] });

/** Google's API host names as VMs reach them inside the emulated VPCs (emulator/vm/runtime.ts). */
export const googleApisTls = (stateDir: string): Promise<ServerTls> =>
  serverTls(stateDir, 'googleapis', {
    commonName: 'secretmanager.googleapis.com',
    ips: [],
    dnsNames: ['secretmanager.googleapis.com', 'storage.googleapis.com'],
  });
