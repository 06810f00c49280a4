// GCE list filters. Two dialects are in use:
//  - the current one: `name = "x"`, `name != x`, `labels.env = prod`, `name = web-*`, `status : RUN*`,
//    expressions joined by whitespace or AND (and OR), grouped with parentheses;
//  - the legacy one gcloud still rewrites to: `name eq REGEX` / `name ne REGEX` (RE2, full match),
//    e.g. `(name eq ".*\bweb\b.*")`.
import { invalid } from './errors.ts';
import { lastSegment } from './wire.ts';

type Node = { op: 'and' | 'or'; terms: Node[] } | { op: 'not'; term: Node } | { op: 'cmp'; field: string; cmp: string; value: string };

type Token = { t: 'word' | 'str' | 'op' | '(' | ')'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      out.push({ t: c, v: c });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          // Keep regex escapes (\b, \.) intact; only unescape the quote and the backslash itself.
          const n = src[j + 1] as string;
          s += n === c || n === '\\' ? n : `\\${n}`;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw invalid(`Invalid list filter expression: unterminated string in '${src}'`);
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '!=' || two === '>=' || two === '<=') {
      out.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    if (c === '=' || c === ':' || c === '>' || c === '<') {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    let j = i;
    while (j < src.length && !/[\s()=:<>!]/.test(src[j] as string)) j++;
    if (j === i) throw invalid(`Invalid list filter expression: unexpected '${c}' in '${src}'`);
    out.push({ t: 'word', v: src.slice(i, j) });
    i = j;
  }
  return out;
}

function parse(src: string): Node {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const fail = (): never => {
    throw invalid(`Invalid list filter expression: '${src}'`);
  };

  function orExpr(): Node {
    const terms = [andExpr()];
    while (peek()?.t === 'word' && peek()?.v === 'OR') {
      pos++;
      terms.push(andExpr());
    }
    return terms.length === 1 ? (terms[0] as Node) : { op: 'or', terms };
  }
  function andExpr(): Node {
    const terms = [unary()];
    for (;;) {
      const t = peek();
      if (!t || t.t === ')' || (t.t === 'word' && t.v === 'OR')) break;
      if (t.t === 'word' && t.v === 'AND') pos++;
      terms.push(unary());
    }
    return terms.length === 1 ? (terms[0] as Node) : { op: 'and', terms };
  }
  function unary(): Node {
    const t = peek();
    if (t?.t === 'word' && (t.v === 'NOT' || t.v === '-')) {
      pos++;
      return { op: 'not', term: unary() };
    }
    return primary();
  }
  function primary(): Node {
    const t = peek() ?? fail();
    if (t.t === '(') {
      pos++;
      const inner = orExpr();
      if (peek()?.t !== ')') fail();
      pos++;
      return inner;
    }
    if (t.t !== 'word') fail();
    pos++;
    const opTok = peek() ?? fail();
    let cmp: string;
    if (opTok.t === 'op') cmp = opTok.v;
    else if (opTok.t === 'word' && (opTok.v === 'eq' || opTok.v === 'ne')) cmp = opTok.v;
    else return fail();
    pos++;
    const valueTok = peek() ?? fail();
    if (valueTok.t !== 'word' && valueTok.t !== 'str') fail();
    pos++;
    return { op: 'cmp', field: t.v, cmp, value: valueTok.v };
  }

  const node = orExpr();
  if (pos !== tokens.length) fail();
  return node;
}

function valuesAt(resource: unknown, path: string[]): unknown[] {
  if (path.length === 0) return [resource];
  if (Array.isArray(resource)) return resource.flatMap((r) => valuesAt(r, path));
  if (resource && typeof resource === 'object') {
    const [head, ...rest] = path;
    return valuesAt((resource as Record<string, unknown>)[head as string], rest);
  }
  return [];
}

function wildcard(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

function matches(node: Node, resource: unknown): boolean {
  switch (node.op) {
    case 'and':
      return node.terms.every((t) => matches(t, resource));
    case 'or':
      return node.terms.some((t) => matches(t, resource));
    case 'not':
      return !matches(node.term, resource);
    case 'cmp': {
      const found = valuesAt(resource, node.field.split('.')).filter((v) => v !== undefined && v !== null);
      const strings = found.flatMap((v) => {
        const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
        return s.includes('/') ? [s, lastSegment(s)] : [s];
      });
      if (node.cmp === 'eq' || node.cmp === 'ne') {
        let re: RegExp;
        try {
          re = new RegExp(`^(?:${node.value})$`);
        } catch {
          throw invalid(`Invalid regular expression in list filter: '${node.value}'`);
        }
        const hit = strings.some((s) => re.test(s));
        return node.cmp === 'eq' ? hit : !hit;
      }
      if (node.cmp === ':' && node.value === '*') return found.length > 0;
      const re = wildcard(node.value);
      const hit = strings.some((s) => re.test(s));
      if (node.cmp === '=' || node.cmp === ':') return hit;
      if (node.cmp === '!=') return !hit;
      const num = Number(node.value);
      return strings.some((s) => {
        const a = Number.isNaN(Number(s)) || Number.isNaN(num) ? s.localeCompare(node.value) : Number(s) - num;
        return node.cmp === '>' ? a > 0 : node.cmp === '<' ? a < 0 : node.cmp === '>=' ? a >= 0 : a <= 0;
      });
    }
  }
}

/** A predicate for `filter`; throws a 400 for an expression GCE would refuse. */
export function compileFilter(filter: string | undefined): (resource: unknown) => boolean {
  if (!filter || !filter.trim()) return () => true;
  const node = parse(filter);
  return (r) => matches(node, r);
}
