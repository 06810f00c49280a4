// A VM of the process runtime reads a secret version in-process, but meets what a Debian VM meets
// over HTTPS: the same call (`GET /v1/<version>:access`) with a token for its own service account,
// so IAM, faults and the request log decide and record it exactly as for a VM's curl.
import type { AccessTokens } from '../iap/tokens.ts';
import type { VmSecretRead } from '../runtime/types.ts';
import { serveSecretManager, type SecretManagerDeps } from './http.ts';

export function vmSecretReader(deps: SecretManagerDeps, tokens: AccessTokens): VmSecretRead {
  return async (version, serviceAccount) => {
    const token = tokens.issueFor(serviceAccount).access_token;
    const url = new URL(`/v1/${version}:access`, 'https://secretmanager.googleapis.com');
    const out = await serveSecretManager(deps, 'GET', url, `Bearer ${token}`, '');
    if (out.status !== 200) return { status: out.status };
    return { status: 200, data: Buffer.from((out.body as { payload: { data: string } }).payload.data, 'base64').toString('utf8') };
  };
}
