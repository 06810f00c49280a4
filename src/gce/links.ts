// Resource links. GCE answers with full selfLinks (`https://www.googleapis.com/compute/v1/projects/...`;
// an emulator uses its own URL). Every link we hand out or read back is rewritten onto one base, so
// that a link from `instanceLink()` compares equal to the same resource's link in a target pool.

export const GOOGLE_LINK_BASE = 'https://www.googleapis.com/compute/v1/';

export function canonicalLink(base: string, link: string): string {
  const at = link.indexOf('projects/');
  return at < 0 ? link : base + link.slice(at);
}

/** The last path segment: a zone's or region's name from its URL, a resource name from its link. */
export function lastSegment(link: string | null | undefined): string {
  if (!link) return '';
  const parts = link.split('/');
  return parts[parts.length - 1] ?? '';
}

export function zonalPath(project: string, zone: string, collection: string, name: string): string {
  return `projects/${project}/zones/${zone}/${collection}/${name}`;
}
export function regionalPath(project: string, region: string, collection: string, name: string): string {
  return `projects/${project}/regions/${region}/${collection}/${name}`;
}
export function globalPath(project: string, collection: string, name: string): string {
  return `projects/${project}/global/${collection}/${name}`;
}
