// Can this host run the Debian VM runtime? It needs root (namespaces, mounts, loop devices), the
// host tools it calls, overlayfs, and either a cached image or debootstrap to build one. The
// answer carries the reason, which the emulator prints at start.
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { imageAt, imageReady } from './image.ts';

const onPath = (tool: string): boolean =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

export function debianRuntimeSupport(imageCache: string): { ok: true } | { ok: false; why: string } {
  if (process.platform !== 'linux') return { ok: false, why: `it needs Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'it needs root (network namespaces, overlay mounts, loop devices)' };
  const missing = ['ip', 'nsenter', 'losetup', 'mount', 'umount', 'nft'].filter((t) => !onPath(t));
  if (missing.length > 0) return { ok: false, why: `missing host tools: ${missing.join(', ')} (iproute2, util-linux, nftables)` };
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) return { ok: false, why: 'the kernel has no overlayfs' };
  if (!imageReady(imageAt(imageCache)) && !onPath('debootstrap')) {
    return { ok: false, why: `no cached image in ${imageCache} and no debootstrap to build one (apt-get install debootstrap)` };
  }
  return { ok: true };
}
