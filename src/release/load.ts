// Reads the user's release manifest (input `release-manifest`): a local file or an http(s) URL.
// Reading and fetching are parameters, so tests use a real file and a real local server.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { errorMessage } from '../errors.ts';
import { redactUrl } from '../url-credentials.ts';
import { parseReleaseManifest, type ReleaseManifest } from './manifest.ts';

export type ReadTextFile = (path: string) => Promise<string>;
/** GET a URL: the status and body of whatever answered; throws only when nothing did. */
export type FetchText = (url: string) => Promise<{ status: number; body: string }>;

export const readTextFile: ReadTextFile = (path) => readFile(path, 'utf8');

// A manifest is a few hundred bytes: a server that takes longer than this is not going to answer.
const FETCH_TIMEOUT_MS = 30_000;

export const fetchText: FetchText = async (url) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  return { status: res.status, body: await res.text() };
};

/** The manifest at `ref` (a path, relative to the working directory, or an http(s) URL), validated. */
export async function loadReleaseManifest(
  ref: string,
  read: ReadTextFile = readTextFile,
  fetchUrl: FetchText = fetchText,
): Promise<ReleaseManifest> {
  const trimmed = ref.trim();
  if (!trimmed) throw new Error('release-manifest is empty. Fix: give a local path or an http(s) URL of the manifest JSON.');

  // A signed URL carries its token in the query: messages name the URL without it.
  if (/^https?:\/\//i.test(trimmed)) return parseReleaseManifest(await get(trimmed, fetchUrl), redactUrl(trimmed));

  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed)?.[1];
  if (scheme) {
    throw new Error(
      `release-manifest ${redactUrl(trimmed)}: ${scheme}:// is not supported, only local paths and http(s) URLs. ` +
        'Fix: give its https URL (a Cloud Storage object is https://storage.googleapis.com/<bucket>/<object>), or copy it into the workspace and give its path.',
    );
  }

  const path = resolve(trimmed);
  let text: string;
  try {
    text = await read(path);
  } catch (err) {
    throw new Error(
      `release-manifest: tried the local file ${path}${path === trimmed ? '' : ` (${trimmed})`} and could not read it (${messageOf(err)}). ` +
        `Fix: check the path (relative paths start at ${process.cwd()}; check out the repository first), or give an http(s) URL.`,
      { cause: err },
    );
  }
  return parseReleaseManifest(text, path);
}

async function get(url: string, fetchUrl: FetchText): Promise<string> {
  const shown = redactUrl(url);
  let answer: { status: number; body: string };
  try {
    answer = await fetchUrl(url);
  } catch (err) {
    // eslint-disable-next-line preserve-caught-error -- the cause names the URL with its query (a signed URL's token); this message shows it redacted
    throw new Error(
      `release-manifest: GET ${shown} got no answer (${withCause(err).split(url).join(shown)}). Fix: check the host name and that the runner can reach it.`,
    );
  }
  if (answer.status < 200 || answer.status > 299) {
    throw new Error(
      `release-manifest: GET ${shown} answered HTTP ${answer.status}. Fix: check the URL; \`curl -fsSL '<the URL>'\` should print the manifest JSON.`,
    );
  }
  return answer.body;
}

/** fetch() fails with a bare "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, timeout) is the cause. */
function withCause(err: unknown): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  if (cause === undefined) return messageOf(err);
  return `${messageOf(err)}: ${messageOf(cause) || String((cause as { code?: unknown }).code)}`;
}

/** Like errorMessage, for errors made in another realm too (node's own errors under jest fail instanceof Error). */
function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : errorMessage(err);
}
