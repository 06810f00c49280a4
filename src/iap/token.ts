// IAP's bearer token: Application Default Credentials, with a failure worded as IAP's own
// (a credentials problem ends the run, see IapError.fatal).
import { AUTHENTICATE_FIX, CredentialsError } from '../auth/adc.ts';
import type { TokenSource } from '../auth/adc.ts';
import { IapError } from './errors.ts';

export function iapTokenSource(tokens: TokenSource): TokenSource {
  return async () => {
    try {
      return await tokens();
    } catch (err) {
      if (err instanceof CredentialsError)
        throw new IapError('credentials', err.problem.replace('no access token', 'no access token for IAP'), AUTHENTICATE_FIX);
      throw err;
    }
  };
}
