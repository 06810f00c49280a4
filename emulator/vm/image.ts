// The cached Debian 12 image for emulated VMs. Built once per recipe (image/build.sh and the guest
// files it installs); a changed recipe gets a new directory, so a stale image is never booted.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DEFAULT_IMAGE_CACHE = process.env.HA_EMULATOR_IMAGE_CACHE ?? '/var/cache/ha-masters-emulator';
const recipeDir = fileURLToPath(new URL('./image/', import.meta.url));

export interface VmImage {
  dir: string;
  rootfs: string;
  /** systemd-nspawn unpacked from the image's own release, and the library directory it needs. */
  nspawn: string;
  nspawnLibDir: string;
}

export function recipeHash(): string {
  const hash = createHash('sha256');
  const files = [
    'build.sh',
    ...readdirSync(join(recipeDir, 'files'))
      .sort()
      .map((f) => join('files', f)),
  ];
  for (const f of files)
    hash
      .update(f)
      .update('\0')
      .update(readFileSync(join(recipeDir, f)))
      .update('\0');
  return hash.digest('hex').slice(0, 12);
}

export function imageAt(cacheDir: string): VmImage {
  const dir = join(cacheDir, `debian-12-${recipeHash()}`);
  return {
    dir,
    rootfs: join(dir, 'rootfs'),
    nspawn: join(dir, 'nspawn/usr/bin/systemd-nspawn'),
    nspawnLibDir: join(dir, 'rootfs/usr/lib/x86_64-linux-gnu/systemd'),
  };
}

export const imageReady = (image: VmImage): boolean => existsSync(join(image.dir, 'READY'));

/**
 * Node's compile cache for the Kubernetes stand-ins, shared by every VM (bound read-write at the
 * wrappers' cache path), and for the VPC gateways: without it each new VM compiled the stand-ins'
 * TypeScript again, ~0.5 s of CPU per process while etcd boots beside them. Beside the image, not
 * in it: it follows the code, not the recipe; Node keys each entry by file and content and writes
 * it by rename, so VMs and emulators may share it.
 */
export const standinCompileCacheDir = (image: VmImage): string => join(dirname(image.dir), 'node-compile-cache');

/** Builds the image unless the cache has it; about a minute and 220 MB from Debian's mirror. */
export async function ensureImage(cacheDir: string, log: (line: string) => void): Promise<VmImage> {
  const image = imageAt(cacheDir);
  if (imageReady(image)) return image;
  log(`building the Debian 12 VM image into ${image.dir} (once per recipe, about a minute)`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [join(recipeDir, 'build.sh'), image.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.on('data', (d: Buffer) =>
      d
        .toString()
        .split('\n')
        .filter(Boolean)
        .forEach((l) => log(l)),
    );
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`building the VM image failed (exit ${code}): ${stderr.trim().slice(-2000)}`)),
    );
  });
  return image;
}
