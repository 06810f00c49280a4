// A reader for the plain block-style YAML that kubeconfigs are written in (kubectl's and the
// start-up script's): nested mappings and sequences, plain words, single-quoted and escape-free
// double-quoted strings, true/false, null, whole-line comments. Loading the full `yaml` package
// costs a control-plane stand-in ~3.4 MB of memory; this covers the usual file, and anything else
// (flow style, anchors, tags, block scalars, numbers, escapes, several documents, tabs, duplicate
// keys) is left to `yaml` by returning undefined, so the outcome is the same as yaml.parse's.

class Unsupported extends Error {}

interface Line {
  indent: number;
  text: string;
}

const NULL = /^(?:~|null|Null|NULL)$/;
const TRUE = /^(?:true|True|TRUE)$/;
const FALSE = /^(?:false|False|FALSE)$/;
const KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
/** A plain scalar this reader knows to be a string: no indicator first, no number, no ": " or " #". */
const PLAIN_STRING = /^[A-Za-z_/][^\t]*$/;

/** yaml.parse's value for `text` when it is block-style YAML of the covered kind, else undefined. */
export function parseBlockYaml(text: string): unknown {
  try {
    const lines = toLines(text);
    if (lines.length === 0 || lines[0]!.indent !== 0) return undefined;
    const [value, next] = block(lines, 0, 0);
    if (next !== lines.length) return undefined;
    return value;
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

function toLines(text: string): Line[] {
  const lines: Line[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.includes('\t')) throw new Unsupported();
    const text = raw.trimEnd();
    const body = text.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    if (body.startsWith('---') || body.startsWith('...') || body.startsWith('%')) throw new Unsupported();
    lines.push({ indent: text.length - body.length, text: body });
  }
  return lines;
}

const isItem = (line: Line | undefined): boolean => line !== undefined && (line.text === '-' || line.text.startsWith('- '));

function block(lines: Line[], i: number, indent: number): [unknown, number] {
  return isItem(lines[i]) ? sequence(lines, i, indent) : mapping(lines, i, indent);
}

function mapping(lines: Line[], i: number, indent: number): [Record<string, unknown>, number] {
  const out: Record<string, unknown> = {};
  while (i < lines.length && lines[i]!.indent === indent && !isItem(lines[i])) {
    const { text } = lines[i]!;
    const colon = text.indexOf(':');
    const key = colon > 0 ? text.slice(0, colon) : '';
    if (!KEY.test(key) || NULL.test(key) || TRUE.test(key) || FALSE.test(key) || key === '__proto__' || key in out) throw new Unsupported();
    const rest = text.slice(colon + 1);
    if (rest !== '' && !rest.startsWith(' ')) throw new Unsupported();
    i++;
    if (rest.trim() !== '') {
      out[key] = scalar(rest.trim());
      continue;
    }
    const next = lines[i];
    if (next && (next.indent > indent || (next.indent === indent && isItem(next)))) {
      [out[key], i] = block(lines, i, next.indent);
    } else {
      out[key] = null;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent) throw new Unsupported();
  return [out, i];
}

function sequence(lines: Line[], i: number, indent: number): [unknown[], number] {
  const out: unknown[] = [];
  while (i < lines.length && lines[i]!.indent === indent && isItem(lines[i])) {
    const content = lines[i]!.text.slice(1).trimStart();
    if (content === '') {
      const next = lines[i + 1];
      if (next && next.indent > indent) {
        let value: unknown;
        [value, i] = block(lines, i + 1, next.indent);
        out.push(value);
      } else {
        out.push(null);
        i++;
      }
    } else if (/^[^'"\s][^:]*:(?: |$)/.test(content)) {
      // `- key: value`: a mapping whose first entry sits on the dash's line, the rest below it.
      const column = lines[i]!.indent + (lines[i]!.text.length - content.length);
      const rewritten = [...lines];
      rewritten[i] = { indent: column, text: content };
      let value: unknown;
      [value, i] = mapping(rewritten, i, column);
      out.push(value);
    } else {
      out.push(scalar(content));
      i++;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent) throw new Unsupported();
  return [out, i];
}

function scalar(text: string): unknown {
  if (NULL.test(text)) return null;
  if (TRUE.test(text)) return true;
  if (FALSE.test(text)) return false;
  if (text.length >= 2 && text.startsWith("'") && text.endsWith("'")) {
    const inner = text.slice(1, -1);
    if (inner.replaceAll("''", '').includes("'")) throw new Unsupported();
    return inner.replaceAll("''", "'");
  }
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    const inner = text.slice(1, -1);
    if (inner.includes('"') || inner.includes('\\')) throw new Unsupported();
    return inner;
  }
  if (!PLAIN_STRING.test(text) || text.includes(': ') || text.includes(' #') || text.endsWith(':')) throw new Unsupported();
  return text;
}
