// The `kubeconfig` output: an admin kubeconfig for the next workflow steps, as
// google-github-actions/get-gke-credentials gives GKE users. It points at the cluster's external
// IP, trusts only the cluster CA, and holds a client certificate of `system:masters` that expires
// after `ttlMs`, written 0600 under RUNNER_TEMP (the runner wipes it after the job).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueClientCert } from '../etcd/certs.ts';
import type { KeyPair } from '../engine/secrets.ts';

export interface KubeconfigFile {
  path: string;
  /** The private key's PEM, for masking. */
  key: string;
  expiresAt: Date;
}

/** The YAML text (kubectl's own layout, data inline as base64). */
export function renderKubeconfig(o: { name: string; server: string; caPem: string; client: KeyPair }): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${o.name}`,
    '  cluster:',
    `    server: ${o.server}`,
    `    certificate-authority-data: ${b64(o.caPem)}`,
    // The shared serving certificate names the static IP; the service name also matches every
    // replica's own certificate, so kubectl verifies the same way before and after the LB exists.
    '    tls-server-name: kubernetes',
    'users:',
    `- name: ${o.name}-admin`,
    '  user:',
    `    client-certificate-data: ${b64(o.client.cert)}`,
    `    client-key-data: ${b64(o.client.key)}`,
    'contexts:',
    `- name: ${o.name}`,
    '  context:',
    `    cluster: ${o.name}`,
    `    user: ${o.name}-admin`,
    `current-context: ${o.name}`,
    '',
  ].join('\n');
}

export async function writeAdminKubeconfig(o: {
  apiCa: KeyPair;
  master: string;
  externalIp: string;
  ttlMs: number;
  dir: string;
}): Promise<KubeconfigFile> {
  const client = await issueClientCert(o.apiCa, 'ha-masters-admin', { organizations: ['system:masters'], validForMs: o.ttlMs });
  const path = join(o.dir, `ha-masters-${o.master}-${randomBytes(4).toString('hex')}.kubeconfig`);
  writeFileSync(path, renderKubeconfig({ name: o.master, server: `https://${o.externalIp}`, caPem: o.apiCa.cert, client }), {
    mode: 0o600,
  });
  return { path, key: client.key, expiresAt: new Date(Date.now() + o.ttlMs) };
}
