// The wire shape of stored resources. Links are stored against a fixed internal base and
// rewritten to the emulator's own URL on the way out, so a restart on a new port keeps every link
// valid. Keys starting with `__` are the emulator's private bookkeeping and never leave it.
import { createHash, randomBytes } from 'node:crypto';

export const INTERNAL_BASE = 'emulator-internal:/compute/v1/';
const KNOWN_BASES = [/^https?:\/\/[^/]+\/compute\/(v1|beta|alpha)\//, /^emulator-internal:\/compute\/v1\//];

/** The stored form of a link to `path` (`projects/p/zones/z/instances/x`). */
export function link(path: string): string {
  return INTERNAL_BASE + path;
}

/** Resource path from a full URL, an internal link, or a partial path (`projects/...`, `zones/z/...`). */
export function pathOf(ref: string, project: string): string {
  let rest = ref;
  for (const base of KNOWN_BASES) rest = rest.replace(base, '');
  rest = rest.replace(/^\/+/, '');
  if (rest.startsWith('projects/')) return rest;
  return `projects/${project}/${rest}`;
}

export function lastSegment(ref: string): string {
  const parts = ref.split('/');
  return parts[parts.length - 1] ?? ref;
}

/** Deep copy for the wire: internal links -> emulator URL, private `__` keys dropped. */
export function toWire(value: unknown, baseUrl: string): unknown {
  if (typeof value === 'string') {
    return value.startsWith(INTERNAL_BASE) ? `${baseUrl}/compute/v1/${value.slice(INTERNAL_BASE.length)}` : value;
  }
  if (Array.isArray(value)) return value.map((v) => toWire(v, baseUrl));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith('__')) continue;
      out[k] = toWire(v, baseUrl);
    }
    return out;
  }
  return value;
}

/** RFC 3339 with an offset, as GCE prints it (`2026-11-24T08:07:47.123-00:00`). */
export function timestamp(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace('Z', '-00:00');
}

/** A uint64 id, sent as a decimal string like every int64 in proto3 JSON. */
export function newId(): string {
  const n = randomBytes(8).readBigUInt64BE() >> 1n;
  return (n === 0n ? 1n : n).toString();
}

/** GCE fingerprints are base64 of 8 opaque bytes; ours hash the content they protect. */
/**
 * Fingerprints are `bytes` in the API: clients may send them back in URL-safe base64 (gcloud's
 * apitools does) or without padding, and GCE compares the bytes. Compare the same way.
 */
export function sameFingerprint(sent: unknown, current: unknown): boolean {
  if (typeof sent !== 'string' || typeof current !== 'string') return sent === current;
  const bytes = (v: string) => Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('hex');
  return bytes(sent) === bytes(current);
}

export function fingerprint(content: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(content ?? null))
    .digest()
    .subarray(0, 8)
    .toString('base64');
}

/** `kind` of a resource collection member, e.g. instances -> compute#instance. */
export const KINDS: Record<string, string> = {
  instances: 'compute#instance',
  disks: 'compute#disk',
  addresses: 'compute#address',
  firewalls: 'compute#firewall',
  targetPools: 'compute#targetPool',
  httpHealthChecks: 'compute#httpHealthCheck',
  forwardingRules: 'compute#forwardingRule',
  instanceTemplates: 'compute#instanceTemplate',
  instanceGroupManagers: 'compute#instanceGroupManager',
  instanceGroups: 'compute#instanceGroup',
  autoscalers: 'compute#autoscaler',
  operations: 'compute#operation',
  zones: 'compute#zone',
  regions: 'compute#region',
  images: 'compute#image',
  machineTypes: 'compute#machineType',
  diskTypes: 'compute#diskType',
  networks: 'compute#network',
  subnetworks: 'compute#subnetwork',
};

export function listKind(collection: string): string {
  return `${KINDS[collection] ?? 'compute#resource'}List`;
}

export function aggregatedListKind(collection: string): string {
  return `${KINDS[collection] ?? 'compute#resource'}AggregatedList`;
}
