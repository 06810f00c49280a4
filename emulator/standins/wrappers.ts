// The stand-in "binaries" for a kubernetes-server tarball: tiny sh scripts at the upstream paths
// kubernetes/server/bin/{kube-apiserver,kube-controller-manager,kube-scheduler} that exec Node on
// this repository's emulator/standins/<name>.ts with the arguments they were given.
//
// Memory (a master VM must fit etcd, systemd and these in 120 MB): the scripts cap V8's heap and
// point Node's compile cache at a writable directory so the TypeScript stripper is loaded only once
// per machine (see node-cache.ts). `NODE_COMPILE_CACHE` from the environment wins.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StandinName } from './flags.ts';
import { STANDIN_NAMES } from './flags.ts';

export interface StandinPaths {
  /** Node (24+) as the machine sees it, e.g. /opt/ha-emulator/node */
  nodePath: string;
  /** This repository as the machine sees it (emulator/ and node_modules/), e.g. /opt/ha-emulator/repo */
  repoPath: string;
  /** Where Node keeps its compile cache on the machine (default /var/cache/ha-emulator/node-compile-cache). */
  compileCacheDir?: string;
}

export const DEFAULT_COMPILE_CACHE_DIR = '/var/cache/ha-emulator/node-compile-cache';

/**
 * V8's JavaScript compilers above the interpreter stay off: the stand-ins handle a few requests a
 * second, and without Sparkplug, Maglev and TurboFan each process maps ~8 MB less of Node's binary
 * and ~1.3 MB less anonymous memory (WebAssembly, which a cold compile cache needs, still runs).
 */
const INTERPRETER_ONLY = ['--no-sparkplug', '--no-maglev', '--no-opt'];

/** V8 heap limits (MiB): measured with room to spare under load (see emulator/standins/README.md). */
const NODE_OPTIONS: Record<StandinName, string[]> = {
  'kube-apiserver': ['--max-old-space-size=24', '--max-semi-space-size=1', ...INTERPRETER_ONLY],
  'kube-controller-manager': ['--max-old-space-size=16', '--max-semi-space-size=1', ...INTERPRETER_ONLY],
  'kube-scheduler': ['--max-old-space-size=16', '--max-semi-space-size=1', ...INTERPRETER_ONLY],
};

const shQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

export function standinScript(name: StandinName, paths: StandinPaths): string {
  const entry = `${paths.repoPath.replace(/\/+$/, '')}/emulator/standins/${name}.ts`;
  const cache = paths.compileCacheDir ?? DEFAULT_COMPILE_CACHE_DIR;
  if (!/^[A-Za-z0-9_./@+-]+$/.test(cache)) throw new Error(`compile cache directory must be a plain path: ${cache}`);
  return [
    '#!/bin/sh',
    `# ${name} stand-in (ha-masters emulator): the v1.34 command line, served by emulator/standins/${name}.ts.`,
    `NODE_COMPILE_CACHE="\${NODE_COMPILE_CACHE:-${cache}}"`,
    'export NODE_COMPILE_CACHE',
    `exec ${shQuote(paths.nodePath)} ${NODE_OPTIONS[name].join(' ')} ${shQuote(entry)} "$@"`,
    '',
  ].join('\n');
}

/** Writes dir/kubernetes/server/bin/<name> (mode 0755) for the three stand-ins; returns their paths. */
export function writeStandinBinaries(dir: string, paths: StandinPaths): Record<StandinName, string> {
  const bin = join(dir, 'kubernetes', 'server', 'bin');
  mkdirSync(bin, { recursive: true });
  const written = {} as Record<StandinName, string>;
  for (const name of STANDIN_NAMES) {
    const file = join(bin, name);
    writeFileSync(file, standinScript(name, paths), { mode: 0o755 });
    chmodSync(file, 0o755);
    written[name] = file;
  }
  return written;
}
