// The parts of a URL input that may be a credential: `user:password@`, the query and the fragment
// (signed URLs and tokens travel there). Messages show a URL only with those parts hidden, and the
// runner is told to mask them in case a library prints the URL anyway.

const HIDDEN = '***';

/** `text` with its credential parts replaced by ***, whether or not it parses as a URL. */
export function redactUrl(text: string): string {
  // By hand rather than through URL: a value that does not parse must not leak either.
  return text.replace(/^([^:/?#\s]*:\/\/)[^/?#]*@/, `$1${HIDDEN}@`).replace(/([?#]).*$/s, `$1${HIDDEN}`);
}

/** The secret parts of `text` (password, user, query values, fragment), for the runner to mask. */
export function urlSecrets(text: string): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Unparseable: the part between `//` and `@`, when there is one, is all that looks like a credential.
    const userinfo = /^[^:/?#\s]*:\/\/([^/?#]*)@/.exec(text)?.[1];
    return userinfo ? [userinfo, ...userinfo.split(':')].filter((s) => s.length >= 4) : [];
  }
  const secrets = [url.password, url.username, url.hash.slice(1), ...[...url.searchParams.values()]];
  for (const encoded of [url.password, url.username]) secrets.push(decoded(encoded));
  // One- to three-character values (`?v=1`) would mask common text all over the log.
  return [...new Set(secrets)].filter((s) => s.length >= 4);
}

/** `user:pass@` comes percent-encoded; a log may print it either way. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
