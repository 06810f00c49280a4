// One authorized HTTP exchange with a Google JSON API, as Secret Manager's and Cloud Storage's
// clients make it: a bearer token from Application Default Credentials, the status and the body as
// text. A network failure (or a timeout) becomes the client's own "unavailable" error, which its
// retry loop retries; missing credentials pass through, since no retry helps there.
import { CredentialsError, type TokenSource } from '../auth/adc.ts';

export interface Exchange {
  status: number;
  ok: boolean;
  text: string;
}

export async function exchange(
  url: string,
  init: Omit<RequestInit, 'headers'> & { headers?: Record<string, string> },
  token: TokenSource,
  unreachable: (message: string) => Error,
): Promise<Exchange> {
  try {
    const res = await fetch(url, { ...init, headers: { authorization: `Bearer ${await token()}`, ...init.headers } });
    return { status: res.status, ok: res.ok, text: await res.text() };
  } catch (e) {
    if (e instanceof CredentialsError) throw e;
    throw unreachable((e as Error).message);
  }
}
