// Reads a kubeconfig (the YAML `kubectl` uses) the way client-go's clientcmd does for the parts a
// control-plane component needs: the current context's server, CA and client certificate/key
// (files or inline *-data, files relative to the kubeconfig), tls-server-name,
// insecure-skip-tls-verify and a bearer token.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseBlockYaml } from './block-yaml.ts';

/** The full YAML parser, loaded only for a kubeconfig block-yaml.ts does not cover (it costs ~3.4 MB). */
const parseAnyYaml = (text: string): unknown => (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);

export interface RestConfig {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  serverName?: string;
  insecure: boolean;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

type Dict = Record<string, unknown>;

export function loadKubeconfig(path: string, masterOverride?: string): RestConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(e.code === 'ENOENT' ? `stat ${path}: no such file or directory` : `open ${path}: ${e.message}`, { cause: err });
  }
  const doc = (parseBlockYaml(text) ?? parseAnyYaml(text) ?? {}) as Dict;
  const base = dirname(resolve(path));
  const file = (p: unknown): Buffer | undefined =>
    typeof p === 'string' && p ? readFileSync(isAbsolute(p) ? p : resolve(base, p)) : undefined;
  const data = (d: unknown): Buffer | undefined => (typeof d === 'string' && d ? Buffer.from(d, 'base64') : undefined);
  const contexts = (doc.contexts ?? []) as Named<Dict>[];
  const current = typeof doc['current-context'] === 'string' ? doc['current-context'] : contexts[0]?.name;
  const context = (contexts.find((c) => c.name === current)?.context ?? {}) as Dict;
  if (current === undefined || contexts.length === 0) {
    if (!masterOverride) throw new Error('invalid configuration: no configuration has been provided');
  }
  const cluster = (((doc.clusters ?? []) as Named<Dict>[]).find((c) => c.name === context.cluster)?.cluster ?? {}) as Dict;
  const user = (((doc.users ?? []) as Named<Dict>[]).find((u) => u.name === context.user)?.user ?? {}) as Dict;
  const server = masterOverride || (typeof cluster.server === 'string' ? cluster.server : '');
  if (!server) throw new Error('invalid configuration: no server found for cluster ' + JSON.stringify(context.cluster ?? ''));
  const cfg: RestConfig = { server, insecure: cluster['insecure-skip-tls-verify'] === true };
  const ca = data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']);
  const cert = data(user['client-certificate-data']) ?? file(user['client-certificate']);
  const key = data(user['client-key-data']) ?? file(user['client-key']);
  if (ca) cfg.ca = ca;
  if (cert) cfg.cert = cert;
  if (key) cfg.key = key;
  if (typeof user.token === 'string') cfg.token = user.token;
  else if (typeof user.tokenFile === 'string') cfg.token = readFileSync(user.tokenFile, 'utf8').trim();
  if (typeof cluster['tls-server-name'] === 'string') cfg.serverName = cluster['tls-server-name'];
  return cfg;
}
