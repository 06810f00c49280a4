// Files a VM needs so that it reaches Google's APIs as on GCE, with nothing changed in what it runs:
//  - /etc/hosts names each API host (`secretmanager.googleapis.com`, ...) at the emulator's in-VPC API
//    address, as GCE's DNS resolves it (the emulated VPC has no DNS server). Written into the boot
//    disk's upper layer at every boot, keeping whatever else the VM put there, the way GCE's guest
//    agent keeps its own lines in that file.
//  - the CA bundle Debian's curl and OpenSSL read (/etc/ssl/certs/ca-certificates.crt) holds the
//    emulator's CA after Debian's own, bound read-only over the image's bundle.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where Debian's curl, wget and OpenSSL look for trusted CAs. */
export const GUEST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** Google API host names served inside every VPC (TLS, at API_IP:443). */
export const API_HOST_NAMES = ['secretmanager.googleapis.com', 'storage.googleapis.com'];

/** Adds `ip names...` to the VM's /etc/hosts (in its boot disk's upper layer), replacing older lines for those names. */
export function writeHostsEntries(rootfs: string, upper: string, ip: string, names: string[]): void {
  const mine = join(upper, 'etc/hosts');
  const current = existsSync(mine) ? readFileSync(mine, 'utf8') : readFileSync(join(rootfs, 'etc/hosts'), 'utf8');
  const kept = current.split('\n').filter((line) => line.trim() !== '' && !names.some((n) => line.split(/\s+/).slice(1).includes(n)));
  writeFileSync(mine, [...kept, `${ip}\t${names.join(' ')}`, ''].join('\n'));
}

/** Writes Debian's CA bundle from the image plus the emulator's CA to `out`, for a read-only bind into every VM. */
export function writeCaBundle(rootfs: string, emulatorCaFile: string, out: string): void {
  const debian = readFileSync(join(rootfs, GUEST_CA_BUNDLE.slice(1)), 'utf8');
  writeFileSync(out, `${debian.trimEnd()}\n${readFileSync(emulatorCaFile, 'utf8').trimEnd()}\n`, { mode: 0o644 });
}
