// Builds the action's ComputeApi. With `endpoint` (the `compute-endpoint` input, e.g. the emulator's
// `http://127.0.0.1:PORT`) no Google credentials are looked up or sent; without it, Application
// Default Credentials are used (google-github-actions/auth leaves GOOGLE_APPLICATION_CREDENTIALS).

import './esm-dirname.ts';
import { randomUUID } from 'node:crypto';
import { googleAuthLibrary, type ClientOptions } from 'google-gax';
import * as addresses from './addresses.ts';
import { createClients } from './clients.ts';
import type { GceContext, RestRequest } from './context.ts';
import * as firewalls from './firewalls.ts';
import * as forwardingRules from './forwarding-rules.ts';
import * as healthChecks from './health-checks.ts';
import * as instanceGroups from './instance-groups.ts';
import * as instanceTemplates from './instance-templates.ts';
import * as instances from './instances.ts';
import { GOOGLE_LINK_BASE, globalPath, regionalPath, zonalPath } from './links.ts';
import { DEFAULT_RETRY, realSleep, type RetryPolicy } from './retry.ts';
import * as targetPools from './target-pools.ts';
import type { ComputeApi } from './types.ts';
import * as zones from './zones.ts';

export interface ComputeApiOptions {
  project: string;
  /** `http(s)://host:port` of a Compute API stand-in; absent = the real API with ADC. */
  endpoint?: string;
  log?: (line: string) => void;
  retry?: Partial<RetryPolicy>;
  /** Client-side timeout of one HTTP call (default 60 s). */
  callTimeoutMs?: number;
  /** Deadline for one operation to reach DONE (default 10 min). */
  operationTimeoutMs?: number;
  /** Pause between polls when `wait` answers RUNNING at once (default 500 ms). */
  pollIntervalMs?: number;
  /** `maxResults` for list calls (default: the server's, 500 on GCE). */
  pageSize?: number;
  /** For tests: how back-off sleeps, jitter, requestIds and the clock are made. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  newRequestId?: () => string;
  now?: () => number;
}

export interface ComputeApiHandle extends ComputeApi {
  /** Releases the clients' connections. */
  close(): Promise<void>;
}

export interface EndpointParts {
  apiEndpoint: string;
  port: number;
  protocol: 'http' | 'https';
  /** `http://host:port/compute/v1/` */
  base: string;
}

/** Splits `http://127.0.0.1:8085` (optionally ending in `/compute/v1/`, as gcloud's override does). */
export function parseEndpoint(endpoint: string): EndpointParts {
  if (!/^https?:\/\//i.test(endpoint)) {
    throw new Error(`compute endpoint "${endpoint}" must start with http:// or https://`);
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`compute endpoint "${endpoint}" is not a URL: give it as http://HOST:PORT`);
  }
  if (!['', '/', '/compute/v1', '/compute/v1/'].includes(url.pathname) || url.search !== '') {
    throw new Error(`compute endpoint "${endpoint}" must be just http://HOST:PORT (the client adds /compute/v1/ itself)`);
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
  // URL keeps IPv6 hosts in brackets; the client wants the bare host.
  const apiEndpoint = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { apiEndpoint, port, protocol, base: `${protocol}://${url.host}/compute/v1/` };
}

interface RestAuth {
  request<T>(opts: {
    url: string;
    method: string;
    params?: Record<string, string>;
    data?: unknown;
    timeout?: number;
    responseType?: 'json';
    retry?: boolean;
  }): Promise<{ data: T }>;
}

export function createComputeApi(options: ComputeApiOptions): ComputeApiHandle {
  const { project } = options;
  let clientOptions: ClientOptions;
  let restAuth: RestAuth;
  let linkBase: string;
  if (options.endpoint !== undefined) {
    const parts = parseEndpoint(options.endpoint);
    // Always an auth client: with none the library would look for (and send) real Google credentials.
    const authClient = new googleAuthLibrary.PassThroughClient();
    clientOptions = { apiEndpoint: parts.apiEndpoint, port: parts.port, protocol: parts.protocol, authClient };
    restAuth = authClient;
    linkBase = parts.base;
  } else {
    // One GoogleAuth for every client, so that they share one token.
    const auth = new googleAuthLibrary.GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
    clientOptions = { auth };
    restAuth = auth;
    linkBase = GOOGLE_LINK_BASE;
  }
  const restBase = options.endpoint !== undefined ? linkBase : 'https://compute.googleapis.com/compute/v1/';
  const clients = createClients(clientOptions);

  const ctx: GceContext = {
    project,
    clients,
    linkBase,
    policy: { ...DEFAULT_RETRY, ...options.retry },
    hooks: { sleep: options.sleep ?? realSleep, random: options.random ?? Math.random, log: options.log },
    callTimeoutMs: options.callTimeoutMs ?? 60_000,
    operationTimeoutMs: options.operationTimeoutMs ?? 600_000,
    pollIntervalMs: options.pollIntervalMs ?? 500,
    pageSize: options.pageSize,
    newRequestId: options.newRequestId ?? randomUUID,
    now: options.now ?? Date.now,
    log: options.log,
    rest: async (req: RestRequest) => {
      const res = await restAuth.request<unknown>({
        url: restBase + req.path,
        method: req.method,
        params: req.params,
        data: req.body,
        timeout: req.timeoutMs,
        responseType: 'json',
        retry: false,
      });
      return res.data;
    },
  };

  return {
    project,
    listZones: () => zones.listZones(ctx),
    getDefaultServiceAccount: () => zones.getDefaultServiceAccount(ctx),
    listInstances: (prefix) => instances.listInstances(ctx, prefix),
    getInstance: (zone, name) => instances.getInstance(ctx, zone, name),
    getGuestAttribute: (zone, name, key) => instances.getGuestAttribute(ctx, zone, name, key),
    insertInstance: (spec) => instances.insertInstance(ctx, spec),
    deleteInstance: (zone, name) => instances.deleteInstance(ctx, zone, name),
    setInstanceMetadata: (zone, name, items, fp) => instances.setInstanceMetadata(ctx, zone, name, items, fp),
    setInstanceLabels: (zone, name, labels, fp) => instances.setInstanceLabels(ctx, zone, name, labels, fp),
    deleteAccessConfig: (zone, vm, ac) => instances.deleteAccessConfig(ctx, zone, vm, ac),
    addAccessConfig: (zone, vm, ac, natIP) => instances.addAccessConfig(ctx, zone, vm, ac, natIP),

    getAddress: (region, name) => addresses.getAddress(ctx, region, name),
    insertAddress: (region, name, labels) => addresses.insertAddress(ctx, region, name, labels),
    setAddressLabels: (region, name, labels, fp) => addresses.setAddressLabels(ctx, region, name, labels, fp),
    deleteAddress: (region, name) => addresses.deleteAddress(ctx, region, name),

    getFirewall: (name) => firewalls.getFirewall(ctx, name),
    insertFirewall: (spec) => firewalls.insertFirewall(ctx, spec),
    deleteFirewall: (name) => firewalls.deleteFirewall(ctx, name),
    listFirewalls: (network) => firewalls.listFirewalls(ctx, network),

    getHttpHealthCheck: (name) => healthChecks.getHttpHealthCheck(ctx, name),
    insertHttpHealthCheck: (spec) => healthChecks.insertHttpHealthCheck(ctx, spec),
    deleteHttpHealthCheck: (name) => healthChecks.deleteHttpHealthCheck(ctx, name),

    getTargetPool: (region, name) => targetPools.getTargetPool(ctx, region, name),
    insertTargetPool: (region, name, vms, hcs) => targetPools.insertTargetPool(ctx, region, name, vms, hcs),
    addTargetPoolInstance: (region, name, link) => targetPools.addTargetPoolInstance(ctx, region, name, link),
    removeTargetPoolInstance: (region, name, link) => targetPools.removeTargetPoolInstance(ctx, region, name, link),
    deleteTargetPool: (region, name) => targetPools.deleteTargetPool(ctx, region, name),

    getForwardingRule: (region, name) => forwardingRules.getForwardingRule(ctx, region, name),
    insertForwardingRule: (region, name, ip, target, ports) => forwardingRules.insertForwardingRule(ctx, region, name, ip, target, ports),
    deleteForwardingRule: (region, name) => forwardingRules.deleteForwardingRule(ctx, region, name),

    listInstanceGroupManagers: (prefix) => instanceGroups.listInstanceGroupManagers(ctx, prefix),
    deleteInstanceGroupManager: (zone, name) => instanceGroups.deleteInstanceGroupManager(ctx, zone, name),
    listInstanceTemplates: (prefix) => instanceTemplates.listInstanceTemplates(ctx, prefix),
    deleteInstanceTemplate: (name) => instanceTemplates.deleteInstanceTemplate(ctx, name),

    instanceLink: (zone, name) => linkBase + zonalPath(project, zone, 'instances', name),
    httpHealthCheckLink: (name) => linkBase + globalPath(project, 'httpHealthChecks', name),
    targetPoolLink: (region, name) => linkBase + regionalPath(project, region, 'targetPools', name),

    close: () => clients.close(),
  };
}
