// The `filter` of secrets.list (https://cloud.google.com/secret-manager/docs/filtering), the part
// the emulator serves: terms `labels.KEY=VALUE`, `labels.KEY:*` (has the label), `labels.KEY:VALUE`,
// `name:TEXT` (the id contains it), `name=ID`, each optionally negated with `NOT ` or `-`, joined
// by spaces or `AND`; `OR` binds tighter than AND, as in Google's filter language. Anything else
// is refused with a message that says what is understood.
import { invalidArgument } from './errors.ts';
import type { StoredSecret } from './store.ts';

type Test = (s: StoredSecret) => boolean;

const TERM = /^(-|NOT\s+)?(labels\.[\w-]+|name)\s*(=|!=|:)\s*("([^"]*)"|[^\s"]+)$/;

function words(filter: string): string[] {
  return filter.match(/(?:NOT\s+)?[^\s"]+(?:"[^"]*")?|"[^"]*"/g) ?? [];
}

function termTest(raw: string): Test {
  const m = TERM.exec(raw);
  if (!m)
    throw invalidArgument(
      `Invalid filter term '${raw}': the emulator understands labels.KEY=VALUE, labels.KEY:*, name:TEXT and name=ID, joined by AND / OR, negated by NOT or -.`,
    );
  const negate = !!m[1];
  const field = m[2] as string;
  const op = m[3] as string;
  const value = m[5] ?? (m[4] as string);
  const read = (s: StoredSecret): string | undefined => (field === 'name' ? s.id : s.labels[field.slice('labels.'.length)]);
  const test: Test = (s) => {
    const actual = read(s);
    if (op === ':') return actual !== undefined && (value === '*' || actual.includes(value));
    const equal = actual === value;
    return op === '=' ? equal : !equal;
  };
  return negate ? (s) => !test(s) : test;
}

/** A predicate over secrets for the filter; everything passes an empty one. */
export function secretFilter(filter: string | null): Test {
  if (!filter || !filter.trim()) return () => true;
  // Glue `KEY OP VALUE` written with spaces back into one term before splitting on whitespace.
  const tokens = words(filter.replace(/\s*(!=|=|:)\s*/g, '$1'));
  const terms: Test[] = [];
  let orNext = false;
  for (const token of tokens) {
    if (token === 'AND') continue;
    if (token === 'OR') {
      orNext = true;
      continue;
    }
    const test = termTest(token);
    const previous = orNext ? terms.pop() : undefined;
    terms.push(previous ? (s) => previous(s) || test(s) : test);
    orNext = false;
  }
  return (s) => terms.every((t) => t(s));
}
