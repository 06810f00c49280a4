// Helpers for tests of the emulator's Debian VM runtime: whether this host can run it (root,
// namespaces, a cached image), an emulator on it, instance bodies, and "what is left on the host".
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';
import { DEFAULT_IMAGE_CACHE } from '../../emulator/vm/image.ts';
import { debianRuntimeSupport } from '../../emulator/vm/support.ts';

export const debianSupport = debianRuntimeSupport(DEFAULT_IMAGE_CACHE);

/** `test` where the Debian runtime can run, else a loud skip (not a silent pass). */
export const debianTest: jest.It = debianSupport.ok
  ? test
  : (((name: string) => {
      test.skip(`${name} [skipped: ${debianSupport.ok ? '' : debianSupport.why}]`, () => undefined);
      console.warn(`SKIPPED on this host (Debian VM runtime unavailable: ${debianSupport.ok ? '' : debianSupport.why}): ${name}`);
    }) as unknown as jest.It);

export async function startDebianEmulator(lines: string[] = []): Promise<RunningEmulator> {
  const stateDir = mkdtempSync(join(tmpdir(), 'ha-debian-'));
  return startEmulator({ port: 0, stateDir, vmRuntime: 'debian', log: (l) => lines.push(l) });
}

export function debianInstanceBody(name: string, zone: string, metadata: Record<string, string>, over: Record<string, unknown> = {}) {
  return {
    name,
    machineType: `zones/${zone}/machineTypes/e2-standard-2`,
    disks: [
      { boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12' } },
      { autoDelete: true, deviceName: `${name}-pd`, initializeParams: { diskName: `${name}-pd`, diskSizeGb: '1' } },
    ],
    networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ type: 'ONE_TO_ONE_NAT', name: 'external-nat' }] }],
    metadata: { items: Object.entries(metadata).map(([key, value]) => ({ key, value })) },
    ...over,
  };
}

/** What one emulator (by its namespace prefix and state dir) still holds on the host. */
export function hostLeftovers(namespacePrefix: string, stateDir: string): string[] {
  const out: string[] = [];
  if (existsSync('/run/netns'))
    out.push(
      ...readdirSync('/run/netns')
        .filter((n) => n.startsWith(namespacePrefix))
        .map((n) => `netns ${n}`),
    );
  const loops = execFileSync('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE']).toString();
  out.push(
    ...loops
      .split('\n')
      .filter((l) => l.includes(stateDir))
      .map((l) => `loop ${l.trim()}`),
  );
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes(`/run/ha-masters-emulator/${namespacePrefix.slice(2, 8)}`));
  out.push(...mounts.map((m) => `mount ${m.split(' ')[1]}`));
  return out;
}

export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
