// Network namespaces and links for the emulated VPC. Names are derived from the emulator's id so
// that two emulators on one machine never collide and a restarted emulator finds what a crashed
// one left. Nothing here adds an address or a route to the host's own namespace.
import { existsSync, readdirSync } from 'node:fs';
import { run, runTolerant } from './sh.ts';

const GONE = /Cannot find device|No such file|does not exist|Cannot open network namespace|not found/i;

export const nsPath = (ns: string): string => `/run/netns/${ns}`;

export async function addNamespace(ns: string): Promise<void> {
  if (existsSync(nsPath(ns))) await deleteNamespace(ns);
  await run(['ip', 'netns', 'add', ns]);
  await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
}

export async function deleteNamespace(ns: string): Promise<void> {
  await runTolerant(['ip', 'netns', 'delete', ns], GONE);
}

export function listNamespaces(prefix: string): string[] {
  if (!existsSync('/run/netns')) return [];
  return readdirSync('/run/netns').filter((n) => n.startsWith(prefix));
}

/** `ip` inside a namespace. */
export function ipIn(ns: string, ...args: string[]): Promise<string> {
  return run(['ip', '-n', ns, ...args]);
}

/**
 * Several `ip` commands inside a namespace in one process (`ip -batch`): a VM's boot waits for
 * them, and each `ip` of its own is a process start. Stops at the first failure, which it names.
 */
export function ipBatch(ns: string, commands: string[][]): Promise<string> {
  for (const arg of commands.flat())
    if (!/^[A-Za-z0-9_./:@-]+$/.test(arg)) throw new Error(`ip -batch: unsafe argument ${JSON.stringify(arg)}`);
  return run(['ip', '-n', ns, '-batch', '-'], { input: commands.map((c) => c.join(' ')).join('\n') + '\n' });
}

/**
 * A veth pair from namespace `a` (named `aName`) to namespace `b` (named `bName`), then `then`'s
 * commands in each namespace (one `ip -batch` per side). The pair is made inside `a` and one end
 * moved, so it never exists in the host namespace under a VPC address.
 */
export async function addVethPair(
  a: { ns: string; name: string },
  b: { ns: string; name: string },
  then: { inA?: string[][]; inB?: string[][] } = {},
): Promise<void> {
  // The peer needs a name unique inside `a` until it moves: derived from a's unique end.
  const tmp = `t${a.name}`.slice(0, 15);
  await ipBatch(a.ns, [
    ['link', 'add', a.name, 'type', 'veth', 'peer', 'name', tmp],
    ['link', 'set', tmp, 'netns', b.ns],
    ...(then.inA ?? []),
  ]);
  await ipBatch(b.ns, [['link', 'set', tmp, 'name', b.name], ...(then.inB ?? [])]);
}

export async function deleteLink(ns: string, name: string): Promise<void> {
  await runTolerant(['ip', '-n', ns, 'link', 'delete', name], GONE);
}
