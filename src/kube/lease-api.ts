// The two Lease calls the action makes on the cluster's API (coordination.k8s.io/v1, kube-system):
// list them all, delete one, through apiCall (one deadline per call, the server verified against
// the cluster CA), the caller a client certificate.
import { apiCall, describeError } from './apiserver.ts';
import type { HttpsAnswer } from './apiserver.ts';

export interface ApiTarget {
  /** https://<host>[:port] */
  url: string;
  caPem: string;
  /** Name the serving certificate is checked against instead of the URL's host. */
  serverName: string;
  clientCert: string;
  clientKey: string;
}

/** The parts of a Lease the action reads. */
export interface RawLease {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
}

const LEASES_PATH = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases';
const MAX_BODY_CHARS = 4 * 1024 * 1024;

async function call(target: ApiTarget, method: 'GET' | 'DELETE', path: string, timeoutMs: number): Promise<HttpsAnswer> {
  const url = new URL(path, target.url);
  try {
    return await apiCall(
      url,
      method,
      target.caPem,
      timeoutMs,
      { serverName: target.serverName, clientCert: target.clientCert, clientKey: target.clientKey },
      MAX_BODY_CHARS,
    );
  } catch (err) {
    throw new Error(`${method} ${url.href}: ${describeError(err)}`, { cause: err });
  }
}

/** The apiserver's own words for a failed call: its Status message, else the HTTP status. */
function refusal(what: string, a: HttpsAnswer): Error {
  let message: string;
  try {
    message = (JSON.parse(a.body) as { message?: string }).message ?? '';
  } catch {
    message = '';
  }
  return new Error(`${what}: HTTP ${a.status}${message ? ` (${message})` : ''}`);
}

/** Every Lease in kube-system. Throws with the reason when the API does not answer 200. */
export async function listKubeSystemLeases(target: ApiTarget, timeoutMs: number): Promise<RawLease[]> {
  const a = await call(target, 'GET', LEASES_PATH, timeoutMs);
  if (a.status !== 200) throw refusal(`listing leases in kube-system at ${target.url}`, a);
  try {
    return (JSON.parse(a.body) as { items?: RawLease[] }).items ?? [];
  } catch (err) {
    throw new Error(`listing leases in kube-system at ${target.url}: the answer is not JSON (${describeError(err)})`, { cause: err });
  }
}

/** Deletes kube-system/<name>; 'absent' when it was already gone (404). Throws on any other answer. */
export async function deleteKubeSystemLease(target: ApiTarget, name: string, timeoutMs: number): Promise<'deleted' | 'absent'> {
  const a = await call(target, 'DELETE', `${LEASES_PATH}/${encodeURIComponent(name)}`, timeoutMs);
  if (a.status === 200 || a.status === 202) return 'deleted';
  if (a.status === 404) return 'absent';
  throw refusal(`deleting lease kube-system/${name} at ${target.url}`, a);
}
