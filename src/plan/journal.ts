// The request journal lives in the labels of the cluster's static address (the first resource
// made and the last deleted). A label per request: key `hm-<request>`, value
// `<phase>_<suffix>[_<zone>]`, where suffix is the replica's 3 hex (or `m` for `<master>` itself). Labels only allow
// [a-z0-9_-], at most 63 characters, which this format respects for any prefix.
import type { ClusterNames, JournalEntry } from '../model.ts';

const KEY_PREFIX = 'hm-';
const PHASES: JournalEntry['phase'][] = ['removing', 'done'];
/** Completed entries kept; older ones are dropped when a new one is written. */
export const MAX_DONE_ENTRIES = 24;

export function decodeJournal(names: ClusterNames, labels: Record<string, string>): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!key.startsWith(KEY_PREFIX)) continue;
    const [phase, suffix, zone] = value.split('_');
    if (!PHASES.includes(phase as JournalEntry['phase']) || !suffix) continue;
    const replica = suffix === 'm' ? names.master : `${names.master}-${suffix}`;
    const entry: JournalEntry = { request: key.slice(KEY_PREFIX.length), replica, phase: phase as JournalEntry['phase'] };
    if (zone) entry.zone = zone;
    entries.push(entry);
  }
  return entries;
}

export function journalLabel(names: ClusterNames, entry: JournalEntry): [string, string] {
  const suffix = entry.replica === names.master ? 'm' : entry.replica.slice(names.master.length + 1);
  return [`${KEY_PREFIX}${entry.request}`, `${entry.phase}_${suffix}${entry.zone ? `_${entry.zone}` : ''}`];
}

/** The address's labels with `entry` written (and the oldest completed entries trimmed). */
export function withJournalEntry(names: ClusterNames, labels: Record<string, string>, entry: JournalEntry): Record<string, string> {
  const [key, value] = journalLabel(names, entry);
  const next = { ...labels, [key]: value };
  const done = Object.keys(next).filter((k) => k.startsWith(KEY_PREFIX) && next[k]?.startsWith('done_') && k !== key);
  for (const k of done.slice(0, Math.max(0, done.length - MAX_DONE_ENTRIES))) delete next[k];
  return next;
}

export function journalFor(journal: JournalEntry[], request: string): JournalEntry | undefined {
  return journal.find((e) => e.request === request);
}
