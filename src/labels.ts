// The labels that say whose a cluster is and when it may go: one home for their names and values.
// GCE (and Secret Manager) label keys and values are [a-z0-9_-], at most 63 characters.

/** Every resource of a cluster: its `<prefix>-master` name. The janitor finds clusters by it. */
export const CLUSTER_LABEL = 'ha-masters-cluster';
/** The pull request whose run made (or last updated) the cluster. */
export const PR_LABEL = 'ha-masters-pr';
/** That pull request's repository, as a label value (sanitizedRepository). */
export const REPO_LABEL = 'ha-masters-repo';
/** When the janitor may tear the cluster down: unix seconds, moved by every up, replace and repair. */
export const EXPIRES_LABEL = 'ha-masters-expires-at';
/** A cluster with this label (any value) is never torn down by the janitor (input `keep-label`). */
export const DEFAULT_KEEP_LABEL = 'ha-masters-keep';

/** Who a cluster belongs to, when a pull request's run made it. */
export interface ClusterOwner {
  pr: number;
  /** `owner/name`, as GITHUB_REPOSITORY says it. */
  repository: string;
}

/** `owner/name` as a label value: lowercase, anything else than [a-z0-9_-] becomes `-`, at most 63 characters. */
export function sanitizedRepository(repository: string): string {
  return repository
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .slice(0, 63);
}

/** A label key as GCE takes it: a lowercase letter first, then [a-z0-9_-], at most 63 characters. */
export function isLabelKey(key: string): boolean {
  return /^[a-z][a-z0-9_-]{0,62}$/.test(key);
}

/**
 * The ownership labels a cluster's resources carry: the pull request and its repository (when a
 * pull request's run asks), the expiry (when `expiresAt`, epoch ms, is set).
 */
export function ownerLabels(owner: ClusterOwner | undefined, expiresAt: number | undefined): Record<string, string> {
  return {
    ...(owner ? { [PR_LABEL]: String(owner.pr), [REPO_LABEL]: sanitizedRepository(owner.repository) } : {}),
    ...(expiresAt !== undefined ? { [EXPIRES_LABEL]: String(Math.floor(expiresAt / 1000)) } : {}),
  };
}

/** The expiry a label holds, in epoch ms; undefined when there is none (or it is not a number). */
export function expiryOf(labels: Record<string, string>): number | undefined {
  const v = labels[EXPIRES_LABEL];
  return v && /^\d{1,12}$/.test(v) ? Number(v) * 1000 : undefined;
}
