// The action's access to the cluster's kube-system Leases, through the static IP (the load
// balancer, or the single master) as an admin: a short-lived system:masters client certificate,
// minted once per run from the cluster CA, its key masked. Nothing here fails a run: an API that
// cannot be reached is a fact for the summary, and an identity lease that cannot be deleted
// expires by itself after an hour (the other apiservers collect it).
import { issueClientCert } from '../etcd/certs.ts';
import { deleteKubeSystemLease, listKubeSystemLeases } from '../kube/lease-api.ts';
import type { ApiTarget } from '../kube/lease-api.ts';
import { controlPlaneLeases } from '../kube/control-plane-leases.ts';
import { errorMessage } from '../errors.ts';
import { APISERVER_PORT } from '../model.ts';
import type { ApiLeasesView } from '../model.ts';
import { keyMaskValues } from './secrets.ts';
import type { ClusterSecrets, KeyPair } from './secrets.ts';

const CALL_TIMEOUT_MS = 3000;
/** Long enough for the longest run; the certificate is never written anywhere. */
const ADMIN_CERT_TTL_MS = 2 * 60 * 60_000;
const ADMIN_USER = 'ha-masters-admin';

/** The address users reach the API at: the static IP (on the load balancer or the single master). */
export function apiIpOf(state: { address?: { ip: string }; forwardingRule?: { ip: string } }): string | undefined {
  return state.address?.ip ?? state.forwardingRule?.ip;
}

export class ApiLeaseAccess {
  private admin: { caCert: string; pair: KeyPair } | undefined;
  /** Identity leases this run failed to delete, with why: the planner does not ask again. */
  private readonly failedDeletes = new Map<string, string>();
  private readonly mask: (secret: string) => void;

  constructor(mask: (secret: string) => void) {
    this.mask = mask;
  }

  /** The leases as the API at `ip` shows them now, or why they could not be read. Never throws. */
  async read(ip: string | undefined, secrets: ClusterSecrets | undefined): Promise<ApiLeasesView | undefined> {
    if (!secrets || !ip) return undefined;
    try {
      const view = controlPlaneLeases(await listKubeSystemLeases(await this.target(secrets, ip), CALL_TIMEOUT_MS));
      for (const lease of view.identities) {
        const failed = this.failedDeletes.get(lease.name);
        if (failed) lease.deleteFailed = failed;
      }
      return view;
    } catch (err) {
      return { readable: false, error: errorMessage(err) };
    }
  }

  /** Deletes an identity lease; 'absent' counts as done. A failure is returned, remembered, not thrown. */
  async deleteIdentity(
    ip: string | undefined,
    secrets: ClusterSecrets | undefined,
    name: string,
  ): Promise<{ ok: true; result: 'deleted' | 'absent' } | { ok: false; error: string }> {
    try {
      if (!secrets || !ip) throw new Error('the cluster has no static IP or no certificates to reach its API with');
      return { ok: true, result: await deleteKubeSystemLease(await this.target(secrets, ip), name, CALL_TIMEOUT_MS) };
    } catch (err) {
      const error = errorMessage(err);
      this.failedDeletes.set(name, error);
      return { ok: false, error };
    }
  }

  /** Warnings for the report: the identity leases this run could not delete. */
  warnings(): string[] {
    return [...this.failedDeletes].map(
      ([name, why]) =>
        `could not delete the apiserver identity lease kube-system/${name} of a removed replica (${why}); kube-apiserver collects it an hour after its last renewal, or delete it with kubectl -n kube-system delete lease ${name}`,
    );
  }

  private async target(secrets: ClusterSecrets, ip: string): Promise<ApiTarget> {
    if (this.admin?.caCert !== secrets.apiCa.cert) {
      const pair = await issueClientCert(secrets.apiCa, ADMIN_USER, { organizations: ['system:masters'], validForMs: ADMIN_CERT_TTL_MS });
      for (const v of keyMaskValues(pair.key)) this.mask(v);
      this.admin = { caCert: secrets.apiCa.cert, pair };
    }
    const host = ip.includes(':') ? `[${ip}]` : ip;
    return {
      url: `https://${host}:${APISERVER_PORT}`,
      caPem: secrets.apiCa.cert,
      // The shared serving certificate names the service on every replica (see kubeconfig.ts).
      serverName: 'kubernetes',
      clientCert: this.admin.pair.cert,
      clientKey: this.admin.pair.key,
    };
  }
}
