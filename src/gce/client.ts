// Builds the action's ComputeApi. With `endpoint` (the `compute-endpoint` input, e.g. the emulator's
// `http://127.0.0.1:PORT`) no Google credentials are looked up or sent; without it, Application
// Default Credentials are used (google-github-actions/auth leaves GOOGLE_APPLICATION_CREDENTIALS).

import { randomUUID } from 'node:crypto';
import type { GoogleAuth } from 'google-auth-library';
import * as addresses from './addresses.ts';
import type { GceContext } from './context.ts';
import * as firewalls from './firewalls.ts';
import * as forwardingRules from './forwarding-rules.ts';
import * as healthChecks from './health-checks.ts';
import * as instanceGroups from './instance-groups.ts';
import * as instanceTemplates from './instance-templates.ts';
import * as instances from './instances.ts';
import { GOOGLE_LINK_BASE, globalPath, regionalPath, zonalPath } from './links.ts';
import { DEFAULT_RETRY, realSleep, type RetryPolicy } from './retry.ts';
import * as targetPools from './target-pools.ts';
import { createRest, type AuthHeaders } from './transport.ts';
import type { ComputeApi } from './types.ts';
import * as zones from './zones.ts';

/** Where the real API is called (selfLinks it answers with still say www.googleapis.com). */
const GOOGLE_API_BASE = 'https://compute.googleapis.com/compute/v1/';
const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

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
  /** Nothing to release today (fetch pools its own connections); kept so callers need not change. */
  close(): Promise<void>;
}

/** `http://host:port/compute/v1/` from `http://127.0.0.1:8085` (optionally ending in `/compute/v1/`, as gcloud's override does). */
export function endpointBase(endpoint: string): string {
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
  // `host` leaves out a user and password, and the port when it is the protocol's default.
  return `${url.protocol}//${url.host}/compute/v1/`;
}

/** Authorization for the real API: Application Default Credentials, one token shared by every call. */
function adcHeaders(): AuthHeaders {
  let auth: Promise<GoogleAuth> | undefined;
  return async (url) => {
    // Loaded on first use, so that a run against an emulator never loads it (see src/auth/adc.ts).
    auth ??= import(/* webpackMode: "eager" */ 'google-auth-library').then((lib) => new lib.GoogleAuth({ scopes: [CLOUD_PLATFORM] }));
    return (await auth).getRequestHeaders(url);
  };
}

/** An emulator gets no Authorization header: no Google credentials are looked up, none can leak to it. */
const noCredentials: AuthHeaders = async () => ({});

export function createComputeApi(options: ComputeApiOptions): ComputeApiHandle {
  const { project } = options;
  const emulated = options.endpoint !== undefined;
  const base = emulated ? endpointBase(options.endpoint!) : GOOGLE_API_BASE;
  // Links are compared on one base: the emulator's own, or the one GCE writes in selfLinks.
  const linkBase = emulated ? base : GOOGLE_LINK_BASE;
  const rest = createRest(base, emulated ? noCredentials : adcHeaders());

  const ctx: GceContext = {
    project,
    rest,
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
    resetInstance: (zone, name) => instances.resetInstance(ctx, zone, name),
    setInstanceMetadata: (zone, name, items, fp) => instances.setInstanceMetadata(ctx, zone, name, items, fp),
    setInstanceLabels: (zone, name, labels, fp) => instances.setInstanceLabels(ctx, zone, name, labels, fp),
    deleteAccessConfig: (zone, vm, ac) => instances.deleteAccessConfig(ctx, zone, vm, ac),
    addAccessConfig: (zone, vm, ac, natIP) => instances.addAccessConfig(ctx, zone, vm, ac, natIP),

    getAddress: (region, name) => addresses.getAddress(ctx, region, name),
    listAddresses: () => addresses.listAddresses(ctx),
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
    insertForwardingRule: (region, name, ip, target, ports, labels) =>
      forwardingRules.insertForwardingRule(ctx, region, name, ip, target, ports, labels),
    deleteForwardingRule: (region, name) => forwardingRules.deleteForwardingRule(ctx, region, name),

    listInstanceGroupManagers: (prefix) => instanceGroups.listInstanceGroupManagers(ctx, prefix),
    deleteInstanceGroupManager: (zone, name) => instanceGroups.deleteInstanceGroupManager(ctx, zone, name),
    listInstanceTemplates: (prefix) => instanceTemplates.listInstanceTemplates(ctx, prefix),
    deleteInstanceTemplate: (name) => instanceTemplates.deleteInstanceTemplate(ctx, name),

    instanceLink: (zone, name) => linkBase + zonalPath(project, zone, 'instances', name),
    httpHealthCheckLink: (name) => linkBase + globalPath(project, 'httpHealthChecks', name),
    targetPoolLink: (region, name) => linkBase + regionalPath(project, region, 'targetPools', name),

    close: async () => {},
  };
}
