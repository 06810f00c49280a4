// How kube-apiserver (APIServerIdentity, v1.26+) names and labels its identity Lease, so that both
// stand-ins publish what a real control plane publishes: kube-system/apiserver-<hash>, where the
// hash comes from the OS hostname (the same name across restarts of one host), held by
// `<lease name>_<uuid>` (a new holder per process), labelled with the component and the hostname,
// valid for an hour. Stale leases are garbage-collected by the other apiservers an hour after
// their last renewal.
import { createHash, randomUUID } from 'node:crypto';

export const IDENTITY_LABEL = 'apiserver.kubernetes.io/identity';
export const IDENTITY_COMPONENT = 'kube-apiserver';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const IDENTITY_LEASE_SECONDS = 3600;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32 without padding, lower case. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Each part prefixed by its 16-bit big-endian length (cryptobyte's AddUint16LengthPrefixed). */
function lengthPrefixed(...parts: string[]): Buffer {
  return Buffer.concat(
    parts.flatMap((p) => {
      const bytes = Buffer.from(p, 'utf8');
      const len = Buffer.alloc(2);
      len.writeUInt16BE(bytes.length);
      return [len, bytes];
    }),
  );
}

/** The identity lease name kube-apiserver derives from its hostname. */
export function identityLeaseName(hostname: string): string {
  const hash = createHash('sha256').update(lengthPrefixed(hostname, IDENTITY_COMPONENT)).digest();
  return `apiserver-${base32(hash.subarray(0, 16))}`;
}

/** The holder identity one apiserver process writes into its lease. */
export function newIdentityHolder(leaseName: string): string {
  return `${leaseName}_${randomUUID()}`;
}

export function identityLabels(hostname: string): Record<string, string> {
  return { [IDENTITY_LABEL]: IDENTITY_COMPONENT, [HOSTNAME_LABEL]: hostname };
}
