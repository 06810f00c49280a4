// Access tokens from Application Default Credentials, for the calls the action makes by plain HTTP
// (IAP's relay, Secret Manager): what google-github-actions/auth leaves on a hosted runner, or the
// metadata server of a runner that is itself a GCE VM (GCE_METADATA_HOST points the library at
// another one, such as the emulator's).
import type { GoogleAuth } from 'google-auth-library';

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

export const AUTHENTICATE_FIX =
  'Authenticate the job to Google Cloud before this step (google-github-actions/auth), so that Application Default Credentials are found';

/** No token could be had: the job is not authenticated. */
export class CredentialsError extends Error {
  readonly problem: string;
  readonly fix = AUTHENTICATE_FIX;

  constructor(problem: string) {
    super(`${problem}. ${AUTHENTICATE_FIX}`);
    this.name = 'CredentialsError';
    this.problem = problem;
  }
}

export type TokenSource = () => Promise<string>;

/** A token source; each token is handed to `mask` before anything could print it. */
export function adcTokenSource(mask: (secret: string) => void): TokenSource {
  // One GoogleAuth per run: it caches the token and refreshes it before it expires. The library is
  // loaded on first use, so that a run's start (its first Compute calls) does not wait for it;
  // `eager` keeps it in dist/index.js rather than a chunk of its own (see scripts/bundle.sh).
  let auth: Promise<GoogleAuth> | undefined;
  return async () => {
    let token: string | null | undefined;
    try {
      auth ??= import(/* webpackMode: "eager" */ 'google-auth-library').then((lib) => new lib.GoogleAuth({ scopes: [CLOUD_PLATFORM] }));
      token = await (await auth).getAccessToken();
    } catch (err) {
      throw new CredentialsError(`no access token from Application Default Credentials: ${(err as Error).message}`);
    }
    if (!token) throw new CredentialsError('Application Default Credentials gave an empty access token');
    mask(token);
    return token;
  };
}

/** The runner's identity for one run: one token source (one cached token for every API) and the log's masking. */
export interface RunnerAuth {
  token: TokenSource;
  mask: (secret: string) => void;
}
