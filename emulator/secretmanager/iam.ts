// IAM on one secret, as Secret Manager keeps it: a policy of role bindings with an etag that
// setIamPolicy checks (read-modify-write), and the few roles that let a principal other than the
// project's owner act on a secret. The emulator has no project-level IAM: the runner is the owner
// of every project; any other principal gets only what a binding on the secret itself grants.
import { randomBytes } from 'node:crypto';
import { invalidArgument, RpcError } from './errors.ts';

export interface Binding {
  role: string;
  members: string[];
  condition?: Record<string, unknown>;
}

export interface Policy {
  version?: number;
  bindings?: Binding[];
  etag: string;
}

/** The etag Google gives a policy nobody has set yet. */
export const EMPTY_POLICY: Policy = { etag: 'ACAB' };

/** What each role grants on a secret, of the permissions the emulator checks for non-owners. */
const GRANTS: Record<string, string[]> = {
  'roles/secretmanager.secretAccessor': ['secretmanager.versions.access'],
  'roles/secretmanager.viewer': ['secretmanager.versions.get'],
  'roles/secretmanager.admin': ['secretmanager.versions.access', 'secretmanager.versions.get'],
  'roles/owner': ['secretmanager.versions.access', 'secretmanager.versions.get'],
};

/** Whether a binding on the policy gives `member` (e.g. `serviceAccount:x@p.iam.gserviceaccount.com`) the permission. */
export function policyGrants(policy: Policy, member: string, permission: string): boolean {
  return (policy.bindings ?? []).some((b) => b.members.includes(member) && (GRANTS[b.role] ?? []).includes(permission));
}

const MEMBER =
  /^(allUsers|allAuthenticatedUsers|(user|serviceAccount|group|domain|deleted:user|deleted:serviceAccount|deleted:group):\S+|principal(Set)?:\/\/\S+)$/;

/** setIamPolicy: checks the etag against the current policy and the new policy's shape; returns what is stored. */
export function nextPolicy(current: Policy, proposed: unknown): Policy {
  if (!proposed || typeof proposed !== 'object') throw invalidArgument('SetIamPolicyRequest.policy is required.');
  const p = proposed as { version?: unknown; bindings?: unknown; etag?: unknown };
  if (p.etag !== undefined && p.etag !== '' && p.etag !== current.etag) {
    throw new RpcError(
      'ABORTED',
      `There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff. The request's ETag '${String(p.etag)}' did not match the current policy's ETag '${current.etag}'.`,
    );
  }
  if (p.bindings !== undefined && !Array.isArray(p.bindings)) throw invalidArgument('Policy.bindings must be a list of {role, members}.');
  const bindings: Binding[] = [];
  for (const raw of (p.bindings ?? []) as Array<Record<string, unknown>>) {
    const role = raw.role;
    const members = raw.members;
    if (typeof role !== 'string' || !/^(roles|projects\/[^/]+\/roles|organizations\/[^/]+\/roles)\/[\w.]+$/.test(role)) {
      throw invalidArgument(`Invalid role ${JSON.stringify(role)}: a role is named like roles/secretmanager.secretAccessor.`);
    }
    if (!Array.isArray(members) || members.length === 0) throw invalidArgument(`The binding of ${role} has no members.`);
    for (const m of members) {
      if (typeof m !== 'string' || !MEMBER.test(m))
        throw invalidArgument(
          `Invalid member ${JSON.stringify(m)} in the binding of ${role}: members look like serviceAccount:NAME@PROJECT.iam.gserviceaccount.com or user:EMAIL.`,
        );
    }
    const same = bindings.find((b) => b.role === role && !b.condition && !raw.condition);
    if (same) same.members = [...new Set([...same.members, ...(members as string[])])];
    else
      bindings.push({
        role,
        members: [...new Set(members as string[])],
        ...(raw.condition ? { condition: raw.condition as Record<string, unknown> } : {}),
      });
  }
  const version = typeof p.version === 'number' && p.version > 0 ? p.version : 1;
  return { version, etag: randomBytes(8).toString('base64'), ...(bindings.length ? { bindings } : {}) };
}
