// Identity leases read with the official Kubernetes client (@kubernetes/client-node), TLS verified
// against the cluster CA: the tests use it to show the stand-ins serve what real clients expect.
// (The action itself reads leases with src/kube/lease-api.ts, which has a deadline per call.)
import { isIP } from 'node:net';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { describeError } from '../../src/kube/apiserver.ts';
import type { ApiserverTlsOptions } from '../../src/kube/apiserver.ts';

export interface IdentityLease {
  name: string;
  holderIdentity?: string;
  /** ISO time of the last renewal. */
  renewTime?: string;
}

/** The APIServerIdentity leases, as the apiserver at `url` lists them. Throws on failure. */
export async function listIdentityLeases(url: string, caPem: string, tls: ApiserverTlsOptions = {}): Promise<IdentityLease[]> {
  const kc = new KubeConfig();
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  // No IP as the TLS server name (RFC 6066; Node warns DEP0123).
  const serverName = tls.serverName ?? (isIP(host) ? undefined : host);
  kc.loadFromOptions({
    clusters: [
      {
        name: 'cluster',
        server: url,
        caData: Buffer.from(caPem).toString('base64'),
        skipTLSVerify: false,
        ...(serverName ? { tlsServerName: serverName } : {}),
      },
    ],
    users: [
      {
        name: 'action',
        ...(tls.clientCert && tls.clientKey
          ? { certData: Buffer.from(tls.clientCert).toString('base64'), keyData: Buffer.from(tls.clientKey).toString('base64') }
          : {}),
        ...(tls.token ? { token: tls.token } : {}),
      },
    ],
    contexts: [{ name: 'ctx', cluster: 'cluster', user: 'action' }],
    currentContext: 'ctx',
  });
  const api = kc.makeApiClient(CoordinationV1Api);
  let list;
  try {
    list = await api.listNamespacedLease({ namespace: 'kube-system', labelSelector: 'apiserver.kubernetes.io/identity=kube-apiserver' });
  } catch (err) {
    throw new Error(`listing apiserver identity leases at ${url} failed: ${describeError(err)}`, { cause: err });
  }
  return list.items.map((lease) => {
    const out: IdentityLease = { name: lease.metadata?.name ?? '' };
    if (lease.spec?.holderIdentity !== undefined) out.holderIdentity = lease.spec.holderIdentity;
    // MicroTime arrives as a string or a Date depending on the client version: normalise to ISO.
    const renewTime = isoTime(lease.spec?.renewTime);
    if (renewTime) out.renewTime = renewTime;
    return out;
  });
}

function isoTime(value: unknown): string | undefined {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}
