// The bearer token IAP asks for, from Application Default Credentials: what
// google-github-actions/auth leaves on a hosted runner, or the metadata server of a runner that
// is itself a GCE VM (GCE_METADATA_HOST points the library at another one, such as the emulator's).
import { googleAuthLibrary } from 'google-gax';
import { AUTHENTICATE_FIX, IapError } from './errors.ts';

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

/** A token source; each token is handed to `mask` before anything could print it. */
export function adcTokenSource(mask: (secret: string) => void): () => Promise<string> {
  // One GoogleAuth per run: it caches the token and refreshes it before it expires.
  const auth = new googleAuthLibrary.GoogleAuth({ scopes: [CLOUD_PLATFORM] });
  return async () => {
    let token: string | null | undefined;
    try {
      token = await auth.getAccessToken();
    } catch (err) {
      throw new IapError('credentials', `no access token for IAP from Application Default Credentials: ${(err as Error).message}`, AUTHENTICATE_FIX);
    }
    if (!token) throw new IapError('credentials', 'Application Default Credentials gave an empty access token for IAP', AUTHENTICATE_FIX);
    mask(token);
    return token;
  };
}
