// A VM of the process runtime downloads an object in-process, but meets what a Debian VM meets over
// HTTPS: the same call (`GET /storage/v1/b/<bucket>/o/<object>?alt=media&generation=<g>`) with a
// token for its own service account, so IAM, faults and the request log decide and record it.
import type { AccessTokens } from '../iap/tokens.ts';
import type { VmObjectRead } from '../runtime/types.ts';
import { serveStorage, type StorageDeps } from './http.ts';

export function vmObjectReader(deps: StorageDeps, tokens: AccessTokens): VmObjectRead {
  return async (bucket, object, generation, serviceAccount) => {
    const token = tokens.issueFor(serviceAccount).access_token;
    const path = `/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}`;
    const url = new URL(`${path}?alt=media&generation=${encodeURIComponent(generation)}`, 'https://storage.googleapis.com');
    const out = serveStorage(deps, 'GET', url, `Bearer ${token}`, Buffer.alloc(0));
    return out.status === 200 && Buffer.isBuffer(out.body) ? { status: 200, data: out.body } : { status: out.status };
  };
}
