// Command-line parsing as the real components do it: spf13/pflag behind cobra, with the flag set of
// the v1.34 binary (flags/<component>.txt, taken from the upstream reference pages).
//
//   --name=value   --name value   --bool   --bool=true|false   -v 2   -v=2   -v2   --   repeated flags
//
// Differences from pflag: values are kept as text (only booleans are checked), and flags.ts does not
// know defaults; callers pass them. Like the real binaries, `_` and `-` are interchangeable in names
// (cliflag.WordSepNormalizeFunc) and any positional argument is refused.
import { readFileSync } from 'node:fs';
import { kubeVersion, overrideReportedVersion } from './version.ts';

export type StandinName = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';
export const STANDIN_NAMES: readonly StandinName[] = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/** `value`: takes an argument; `bool`: pflag boolean; `optional`: `--version[=x]` (never takes the next argument). */
export type FlagKind = 'value' | 'bool' | 'optional';

export interface FlagSpec {
  component: string;
  kinds: Map<string, FlagKind>;
  /** shorthand letter -> flag name */
  shorthands: Map<string, string>;
}

/** A parse failure, with pflag's/cobra's message (printed after `Error: `). */
export class FlagError extends Error {
  /** Flag syntax errors make cobra print the usage first; argument-count errors do not. */
  readonly showUsage: boolean;
  constructor(message: string, showUsage = true) {
    super(message);
    this.showUsage = showUsage;
  }
}

export class ParsedFlags {
  /** Every occurrence, in order, under the flag's canonical name. */
  readonly values = new Map<string, string[]>();

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** The last value given (pflag's scalar flags keep the last one). */
  get(name: string): string | undefined {
    return this.values.get(name)?.at(-1);
  }

  string(name: string, fallback: string): string {
    return this.get(name) ?? fallback;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.get(name);
    return v === undefined ? fallback : parseGoBool(v) === true;
  }

  /** `strings`-typed flags: every occurrence, each split on commas (pflag's StringSlice). */
  list(name: string): string[] {
    return (this.values.get(name) ?? []).flatMap((v) => (v === '' ? [] : v.split(',')));
  }
}

const specs = new Map<string, FlagSpec>();

export function flagSpec(component: StandinName): FlagSpec {
  let spec = specs.get(component);
  if (!spec) {
    const text = readFileSync(new URL(`./flags/${component}.txt`, import.meta.url), 'utf8');
    spec = parseFlagList(component, text);
    specs.set(component, spec);
  }
  return spec;
}

/** Parses a flag list file: `--name kind [-s]` per line, `#` comments. */
export function parseFlagList(component: string, text: string): FlagSpec {
  const kinds = new Map<string, FlagKind>();
  const shorthands = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const [flag, kind, short] = line.split(/\s+/);
    if (!flag?.startsWith('--') || (kind !== 'value' && kind !== 'bool' && kind !== 'optional')) {
      throw new Error(`flags/${component}.txt: bad line: ${raw}`);
    }
    const name = flag.slice(2);
    kinds.set(name, kind);
    if (short) shorthands.set(short.replace(/^-/, ''), name);
  }
  return { component, kinds, shorthands };
}

const normalize = (name: string): string => name.replaceAll('_', '-');

/** strconv.ParseBool */
export function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

function displayName(spec: FlagSpec, name: string): string {
  for (const [short, long] of spec.shorthands) if (long === name) return `-${short}, --${name}`;
  return `--${name}`;
}

function set(spec: FlagSpec, out: ParsedFlags, name: string, value: string): void {
  if (spec.kinds.get(name) === 'bool' && parseGoBool(value) === undefined) {
    throw new FlagError(
      `invalid argument ${JSON.stringify(value)} for ${JSON.stringify(displayName(spec, name))} flag: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`,
    );
  }
  const list = out.values.get(name);
  if (list) list.push(value);
  else out.values.set(name, [value]);
}

/** pflag's FlagSet.Parse followed by cobra's "takes no arguments" check. Throws FlagError. */
export function parseFlags(spec: FlagSpec, argv: readonly string[]): ParsedFlags {
  const out = new ParsedFlags();
  const positional: string[] = [];
  let args = [...argv];
  while (args.length > 0) {
    const s = args.shift()!;
    if (s.length < 2 || s[0] !== '-') {
      positional.push(s);
      continue;
    }
    if (s[1] === '-') {
      if (s.length === 2) {
        positional.push(...args);
        break;
      }
      args = parseLong(spec, out, s, args);
    } else {
      args = parseShort(spec, out, s, args);
    }
  }
  if (positional.some((a) => a.length > 0)) {
    const got = '[' + positional.map((a) => JSON.stringify(a)).join(' ') + ']';
    throw new FlagError(`${JSON.stringify(spec.component)} does not take any arguments, got ${got}`, false);
  }
  return out;
}

function parseLong(spec: FlagSpec, out: ParsedFlags, s: string, args: string[]): string[] {
  const body = s.slice(2);
  if (body.length === 0 || body[0] === '-' || body[0] === '=') throw new FlagError(`bad flag syntax: ${s}`);
  const eq = body.indexOf('=');
  const given = eq < 0 ? body : body.slice(0, eq);
  const name = normalize(given);
  const kind = spec.kinds.get(name);
  if (!kind) throw new FlagError(`unknown flag: --${given}`);
  let value: string;
  if (eq >= 0) value = body.slice(eq + 1);
  else if (kind === 'bool' || kind === 'optional') value = 'true';
  else if (args.length > 0) value = args.shift()!;
  else throw new FlagError(`flag needs an argument: ${s}`);
  set(spec, out, name, value);
  return args;
}

function parseShort(spec: FlagSpec, out: ParsedFlags, s: string, args: string[]): string[] {
  let shorthands = s.slice(1);
  while (shorthands.length > 0) {
    const c = shorthands[0]!;
    const name = spec.shorthands.get(c);
    if (!name) throw new FlagError(`unknown shorthand flag: '${c}' in -${shorthands}`);
    const kind = spec.kinds.get(name)!;
    let value: string;
    let rest = shorthands.slice(1);
    if (shorthands.length > 2 && shorthands[1] === '=') {
      value = shorthands.slice(2);
      rest = '';
    } else if (kind === 'bool' || kind === 'optional') {
      value = 'true';
    } else if (shorthands.length > 1) {
      value = shorthands.slice(1);
      rest = '';
    } else if (args.length > 0) {
      value = args.shift()!;
    } else {
      throw new FlagError(`flag needs an argument: '${c}' in -${shorthands}`);
    }
    set(spec, out, name, value);
    shorthands = rest;
  }
  return args;
}

export function usage(spec: FlagSpec): string {
  const lines = [...spec.kinds].map(([name, kind]) => {
    const short = [...spec.shorthands].find(([, long]) => long === name)?.[0];
    const head = short ? `  -${short}, --${name}` : `      --${name}`;
    return kind === 'value' ? `${head} value` : head;
  });
  return `Usage:\n  ${spec.component} [flags]\n\nFlags:\n${lines.join('\n')}\n`;
}

/**
 * What the real binaries do before running: parse (on error print the usage and `Error: ...`, exit
 * 1), `-h/--help` (usage on stdout, exit 0), `--version` (`Kubernetes vX.Y.Z`, exit 0;
 * `--version=raw` prints the whole version info; `--version=vX.Y.Z` changes the reported version).
 */
export function parseCommandLine(component: StandinName, argv: readonly string[]): ParsedFlags {
  const spec = flagSpec(component);
  let flags: ParsedFlags;
  try {
    flags = parseFlags(spec, argv);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    if (err.showUsage) process.stderr.write(usage(spec) + '\n');
    process.stderr.write(`Error: ${err.message}\n`);
    process.exit(1);
  }
  if (flags.bool('help', false)) {
    process.stdout.write(usage(spec));
    process.exit(0);
  }
  const version = flags.get('version');
  if (version !== undefined && parseGoBool(version) !== false) {
    if (parseGoBool(version) === true) {
      process.stdout.write(`Kubernetes ${kubeVersion().gitVersion}\n`);
      process.exit(0);
    }
    if (version === 'raw') {
      process.stdout.write(JSON.stringify(kubeVersion(), null, 2) + '\n');
      process.exit(0);
    }
    overrideReportedVersion(version);
  }
  return flags;
}
