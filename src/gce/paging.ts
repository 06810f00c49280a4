// List calls: every page, following `nextPageToken` until the server gives none. A failed page fails
// the whole listing (calls.ts then restarts it): a partial result would look like missing resources.

import type { GceContext } from './context.ts';
import type { AggregatedPage, ListPage } from './resources.ts';

export interface ListQuery {
  filter?: string;
}

async function allPages<P extends { nextPageToken?: string }>(ctx: GceContext, path: string, query: ListQuery): Promise<P[]> {
  const pages: P[] = [];
  let pageToken: string | undefined;
  do {
    const page = await ctx.rest<P>({
      method: 'GET',
      path,
      query: { ...query, maxResults: ctx.pageSize, pageToken },
      timeoutMs: ctx.callTimeoutMs,
    });
    pages.push(page);
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
  return pages;
}

/** Every item of a `list` call, e.g. `projects/p/zones`. */
export async function listAll<T>(ctx: GceContext, path: string, query: ListQuery = {}): Promise<T[]> {
  return (await allPages<ListPage<T>>(ctx, path, query)).flatMap((page) => page.items ?? []);
}

/** Every item of an `aggregatedList` call (`projects/p/aggregated/<kind>`), from every scope. */
export async function aggregatedListAll<K extends string, T>(ctx: GceContext, path: string, key: K, query: ListQuery = {}): Promise<T[]> {
  const pages = await allPages<AggregatedPage<K, T>>(ctx, path, query);
  // Scopes with nothing in them carry only a `warning`.
  return pages.flatMap((page) => Object.values(page.items ?? {}).flatMap((scoped) => scoped[key] ?? []));
}
