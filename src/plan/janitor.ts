// The janitor's decisions, pure: which ha-masters clusters the project holds (from the labels of
// its addresses and VMs), and for each whether to tear it down and why. A cluster half torn down
// is still found while its address is left (a teardown deletes it last), so a janitor killed
// half-way is finished by the next one.
import { CLUSTER_LABEL, PR_LABEL, REPO_LABEL, expiryOf } from '../labels.ts';
import { regionOfZone } from '../model.ts';

/** What the janitor reads of a labelled resource. */
export interface LabelledResource {
  /** Region of an address, zone of a VM. */
  region?: string;
  zone?: string;
  labels: Record<string, string>;
}

export interface FoundCluster {
  /** `<prefix>-master`. */
  master: string;
  prefix: string;
  /** Where it lives (its address's region, else its VMs'). */
  region?: string;
  /** The earliest expiry of its address and VMs, epoch ms. */
  expiresAt?: number;
  pr?: number;
  /** The sanitized repository its pull request belongs to. */
  repo?: string;
  /** Its address or a VM carries the keep label. */
  keep: boolean;
}

/** Clusters by their `ha-masters-cluster` label, address first (it holds the expiry every run moves). */
export function findClusters(addresses: LabelledResource[], vms: LabelledResource[], keepLabel: string): FoundCluster[] {
  const byMaster = new Map<string, { address?: LabelledResource; vms: LabelledResource[] }>();
  const entry = (master: string) => byMaster.get(master) ?? byMaster.set(master, { vms: [] }).get(master)!;
  for (const a of addresses) if (isMasterName(a.labels[CLUSTER_LABEL])) entry(a.labels[CLUSTER_LABEL]!).address ??= a;
  for (const vm of vms) if (isMasterName(vm.labels[CLUSTER_LABEL])) entry(vm.labels[CLUSTER_LABEL]!).vms.push(vm);
  return [...byMaster.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([master, { address, vms: its }]) => {
      const all = [...(address ? [address] : []), ...its];
      // The address's expiry is the one every run moves; VMs speak only for a cluster without one.
      const expiries = (address && expiryOf(address.labels) !== undefined ? [address] : all)
        .map((r) => expiryOf(r.labels))
        .filter((e): e is number => e !== undefined);
      const first = (key: string) => all.map((r) => r.labels[key]).find((v) => v !== undefined && v !== '');
      const pr = first(PR_LABEL);
      const region = address?.region ?? (its[0]?.zone ? regionOfZone(its[0].zone) : undefined);
      return {
        master,
        prefix: master.slice(0, -'-master'.length),
        ...(region ? { region } : {}),
        ...(expiries.length ? { expiresAt: Math.min(...expiries) } : {}),
        ...(pr && /^\d+$/.test(pr) ? { pr: Number(pr) } : {}),
        ...(first(REPO_LABEL) ? { repo: first(REPO_LABEL)! } : {}),
        keep: all.some((r) => keepLabel in r.labels),
      };
    });
}

function isMasterName(v: string | undefined): v is string {
  return v !== undefined && /^[a-z](?:[-a-z0-9]*[a-z0-9])?-master$/.test(v);
}

/** What GitHub says of a cluster's pull request. */
export type PullRequestState = { state: 'open' | 'closed'; merged?: boolean } | { state: 'unknown'; why: string };

export interface Verdict {
  delete: boolean;
  why: string;
}

/** Keep label first (it always wins), then expiry, then the pull request's state. */
export function judgeCluster(cluster: FoundCluster, nowMs: number, pr: PullRequestState | undefined, keepLabel: string): Verdict {
  const expiry = cluster.expiresAt !== undefined ? new Date(cluster.expiresAt).toISOString() : undefined;
  if (cluster.keep) return { delete: false, why: `it carries the keep label ${keepLabel}` };
  if (cluster.expiresAt !== undefined && cluster.expiresAt <= nowMs) return { delete: true, why: `it expired at ${expiry}` };
  if (pr?.state === 'closed') return { delete: true, why: `its pull request #${cluster.pr} is ${pr.merged ? 'merged' : 'closed'}` };
  const until = expiry ? `it expires at ${expiry}` : 'it has no expiry';
  if (cluster.pr === undefined) return { delete: false, why: until };
  if (pr?.state === 'open') return { delete: false, why: `its pull request #${cluster.pr} is open and ${until}` };
  return {
    delete: false,
    why: `${until}; the state of its pull request #${cluster.pr} is unknown (${pr?.state === 'unknown' ? pr.why : 'not asked'})`,
  };
}
