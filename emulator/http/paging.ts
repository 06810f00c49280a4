// List paging as GCE does it: `maxResults` (default and cap 500), an opaque `pageToken`, and
// `nextPageToken` only when more remain; `orderBy` supports `name` and `creationTimestamp desc`.
import { invalid } from './errors.ts';

export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

export function parseMaxResults(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 500;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw invalid(`Invalid value for field 'maxResults': '${raw}'. Must be a non-negative integer.`);
  return n === 0 || n > 500 ? 500 : n;
}

export function sortBy<T extends Record<string, unknown>>(items: T[], orderBy: string | undefined): T[] {
  if (!orderBy) return items;
  const m = /^\s*(\w+)(?:\s+(asc|desc))?\s*$/.exec(orderBy);
  if (!m || (m[1] !== 'name' && m[1] !== 'creationTimestamp')) {
    throw invalid(`Invalid value for field 'orderBy': '${orderBy}'. Sorting by ${orderBy} is not supported.`);
  }
  const key = m[1] as string;
  const dir = m[2] === 'desc' ? -1 : 1;
  return [...items].sort((a, b) => (String(a[key]) < String(b[key]) ? -dir : String(a[key]) > String(b[key]) ? dir : 0));
}

export function page<T>(items: T[], maxResultsRaw: string | undefined, pageToken: string | undefined): Page<T> {
  const max = parseMaxResults(maxResultsRaw);
  let offset = 0;
  if (pageToken) {
    const decoded = Number(Buffer.from(pageToken, 'base64url').toString('utf8').replace(/^o:/, ''));
    if (!Number.isInteger(decoded) || decoded < 0) throw invalid(`Invalid value for field 'pageToken': '${pageToken}'.`);
    offset = decoded;
  }
  const slice = items.slice(offset, offset + max);
  const next = offset + max < items.length ? Buffer.from(`o:${offset + max}`).toString('base64url') : undefined;
  return next ? { items: slice, nextPageToken: next } : { items: slice };
}
