// GCE's metadata server as a VM sees it at http://169.254.169.254/computeMetadata/v1/ (one per
// VPC; the caller is told apart by its source address). What the start-up script and the guest
// agent use: instance and project attributes with `wait_for_change` / `last_etag` / `timeout_sec`,
// name, id, zone, hostname, nic0's IP and external IP, the service account and its token (issued
// for that account by the emulator's token issuer, so Secret Manager knows who calls; 404 for an
// instance without a service account, as on GCE), and guest attributes (PUT by the VM, read by the
// Compute API's getGuestAttributes). Like GCE, it refuses requests without `Metadata-Flavor: Google`
// or with `X-Forwarded-For` (403).
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessTokens } from '../iap/tokens.ts';
import { projectNumber } from '../project-number.ts';

export interface MetadataInstance {
  key: string;
  project: string;
  name: string;
  id: string;
  zone: string;
  internalIp: string;
  externalIps: string[];
  attributes: Record<string, string>;
  serviceAccountEmail?: string;
}

const PREFIX = '/computeMetadata/v1/';
/** GCE caps a hanging get; the guest agent asks for 60 s. */
const MAX_WAIT_SEC = 300;
const DEFAULT_WAIT_SEC = 60;

export const etagOf = (value: string): string => createHash('sha256').update(value).digest('hex').slice(0, 16);

export class MetadataServer {
  private readonly tokens: AccessTokens;
  private instances = new Map<string, MetadataInstance>();
  private readonly guest = new Map<string, Map<string, string>>();
  private waiters = new Set<() => void>();

  constructor(tokens: AccessTokens) {
    this.tokens = tokens;
  }

  /** Replaces the view of the world and wakes every hanging get, which re-checks its value. */
  sync(instances: MetadataInstance[]): void {
    this.instances = new Map(instances.map((i) => [i.key, i]));
    for (const key of [...this.guest.keys()]) if (!this.instances.has(key)) this.guest.delete(key);
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  guestAttributes(instanceKey: string): Map<string, string> {
    return this.guest.get(instanceKey) ?? new Map();
  }

  /** Drops guest attributes (a VM that powers off keeps them on GCE; a deleted one does not). */
  forget(instanceKey: string): void {
    this.guest.delete(instanceKey);
  }

  stop(): void {
    this.sync([]);
  }

  async handle(req: IncomingMessage, res: ServerResponse, instanceKey: string | undefined): Promise<void> {
    const send = (status: number, body: string, type = 'application/text', etag?: string): void => {
      res.writeHead(status, {
        'Content-Type': type,
        'Metadata-Flavor': 'Google',
        Server: 'Metadata Server for VM',
        ...(etag ? { ETag: etag } : {}),
      });
      res.end(body);
    };
    if (req.headers['metadata-flavor'] !== 'Google' || req.headers['x-forwarded-for']) {
      return send(
        403,
        'Your client does not have permission to get URL from this server. Missing Metadata-Flavor:Google header.\n',
        'text/html',
      );
    }
    const vm = instanceKey ? this.instances.get(instanceKey) : undefined;
    if (!vm) return send(404, 'no instance has this address\n');
    const url = new URL(req.url ?? '/', 'http://metadata.google.internal');
    if (!url.pathname.startsWith(PREFIX)) return send(404, 'Not Found\n', 'text/html');
    const path = url.pathname.slice(PREFIX.length);

    if (path.startsWith('instance/guest-attributes/'))
      return this.guestAttribute(req, vm, path.slice('instance/guest-attributes/'.length), send);
    if (req.method !== 'GET') return send(405, 'Method not allowed\n');

    const read = (): string | undefined => this.valueOf(vm.key, path, url.searchParams.get('recursive') === 'true');
    let value = read();
    if (url.searchParams.get('wait_for_change') === 'true' && value !== undefined) {
      const lastEtag = url.searchParams.get('last_etag') ?? etagOf(value);
      const timeoutSec = Math.min(Number(url.searchParams.get('timeout_sec') ?? DEFAULT_WAIT_SEC) || DEFAULT_WAIT_SEC, MAX_WAIT_SEC);
      const deadline = Date.now() + timeoutSec * 1000;
      while (value !== undefined && etagOf(value) === lastEtag && Date.now() < deadline && !res.destroyed) {
        await this.nextChange(deadline - Date.now());
        value = read();
      }
    }
    if (value === undefined) return send(404, 'Not Found\n', 'text/html');
    const json = url.searchParams.get('recursive') === 'true' || url.searchParams.get('alt') === 'json' || path.endsWith('/token');
    send(200, value, json ? 'application/json' : 'application/text', etagOf(value));
  }

  private nextChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.waiters.delete(wake);
          resolve();
        },
        Math.max(ms, 0),
      );
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.add(wake);
    });
  }

  /** The value at a metadata path for the current world, or undefined for "no such key". */
  private valueOf(instanceKey: string, path: string, recursive: boolean): string | undefined {
    const vm = this.instances.get(instanceKey);
    if (!vm) return undefined;
    const attrs = vm.attributes;
    if (path === 'instance/attributes/' || path === 'instance/attributes') {
      return recursive
        ? JSON.stringify(attrs)
        : Object.keys(attrs)
            .sort()
            .map((k) => `${k}\n`)
            .join('');
    }
    if (path.startsWith('instance/attributes/')) return attrs[path.slice('instance/attributes/'.length)];
    const sa = vm.serviceAccountEmail;
    // The account answers under its e-mail as well as under `default`.
    if (sa && path.startsWith(`instance/service-accounts/${sa}/`))
      path = `instance/service-accounts/default/${path.slice(`instance/service-accounts/${sa}/`.length)}`;
    if (path === 'instance/service-accounts/default/token') return sa ? JSON.stringify(this.tokens.issueFor(sa)) : undefined;
    const fixed: Record<string, string | undefined> = {
      'instance/name': vm.name,
      'instance/id': vm.id,
      'instance/zone': `projects/${vm.project}/zones/${vm.zone}`,
      'instance/hostname': `${vm.name}.${vm.zone}.c.${vm.project}.internal`,
      'instance/network-interfaces/0/ip': vm.internalIp,
      'instance/network-interfaces/0/access-configs/0/external-ip': vm.externalIps[0],
      'project/project-id': vm.project,
      'project/numeric-project-id': projectNumber(vm.project),
      'instance/service-accounts/': sa ? 'default/\n' + `${sa}/\n` : undefined,
      'instance/service-accounts/default/email': sa,
      'instance/service-accounts/default/aliases': sa ? 'default\n' : undefined,
    };
    // Project attributes are not modelled: every key reads as missing, as in a project with none.
    return path in fixed ? fixed[path] : undefined;
  }

  private async guestAttribute(
    req: IncomingMessage,
    vm: MetadataInstance,
    rest: string,
    send: (status: number, body: string) => void,
  ): Promise<void> {
    if (vm.attributes['enable-guest-attributes']?.toUpperCase() !== 'TRUE')
      return send(403, 'Guest attributes endpoint access is disabled.\n');
    const [namespace, key, ...extra] = rest.split('/');
    const attrs = this.guest.get(vm.key) ?? new Map<string, string>();
    if (req.method === 'PUT') {
      if (!namespace || !key || extra.length > 0) return send(400, 'a guest attribute is written at guest-attributes/<namespace>/<key>\n');
      let body = '';
      for await (const chunk of req) body += chunk;
      attrs.set(`${namespace}/${key}`, body);
      this.guest.set(vm.key, attrs);
      return send(200, '');
    }
    if (req.method === 'GET') {
      const value = attrs.get(`${namespace}/${key}`);
      return value === undefined ? send(404, 'Not Found\n') : send(200, value);
    }
    if (req.method === 'DELETE') {
      attrs.delete(`${namespace}/${key}`);
      return send(200, '');
    }
    send(405, 'Method not allowed\n');
  }
}
