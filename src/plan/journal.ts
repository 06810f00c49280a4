// The request journal lives in the labels of the cluster's static address (the first resource
// made and the last deleted). A label per request: key `hm-<request>`, value
// `<phase>_<suffix>[_<zone>[_s<seq>][_o][_p<n>]]`, where suffix is the replica's 3 hex (or `m` for
// `<master>` itself), seq the request's sequence (its GitHub run id), `o` marks a removal whose
// successor is still owed (a replace whose replica left before its successor could be made) and `p`
// the number of repairs in a row the successor of a repaired replica counts. Labels only allow
// [a-z0-9_-], at most 63 characters, which this format respects for any prefix. Values written
// before seq and `o` existed read as before.
//
// Storage stays bounded: only MAX_DONE_ENTRIES finished requests are kept (the oldest runs' go
// first). What is dropped is not forgotten blindly: the highest sequence among dropped entries is
// kept as the journal's floor (label FLOOR_LABEL). A request whose sequence is at or below the floor
// and of which nothing is left (no entry, no VM it made) may have been carried out already: it is
// refused, never run twice. (So one workflow run with more than MAX_DONE_ENTRIES finished requests
// sees its later new requests refused too: safe, and said so.)
import type { ClusterNames, JournalEntry } from '../model.ts';

const KEY_PREFIX = 'hm-';
const PHASES: JournalEntry['phase'][] = ['removing', 'done'];
/** Completed entries kept; older ones are dropped when a new one is written. */
export const MAX_DONE_ENTRIES = 24;
/** The highest sequence (GitHub run id) of any entry dropped from the journal. */
export const FLOOR_LABEL = 'ha-masters-journal-floor';

export function decodeJournal(names: ClusterNames, labels: Record<string, string>): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const [key, value] of Object.entries(labels)) {
    if (!key.startsWith(KEY_PREFIX)) continue;
    const [phase, suffix, zone, ...extras] = value.split('_');
    if (!PHASES.includes(phase as JournalEntry['phase']) || !suffix) continue;
    const replica = suffix === 'm' ? names.master : `${names.master}-${suffix}`;
    const entry: JournalEntry = { request: key.slice(KEY_PREFIX.length), replica, phase: phase as JournalEntry['phase'] };
    if (zone) entry.zone = zone;
    for (const extra of extras) {
      if (/^s\d+$/.test(extra)) entry.seq = Number(extra.slice(1));
      if (extra === 'o') entry.successorOwed = true;
      if (/^p\d+$/.test(extra)) entry.repairs = Number(extra.slice(1));
    }
    entries.push(entry);
  }
  return entries;
}

export function journalLabel(names: ClusterNames, entry: JournalEntry): [string, string] {
  const suffix = entry.replica === names.master ? 'm' : entry.replica.slice(names.master.length + 1);
  const extras = [
    ...(entry.seq !== undefined ? [`s${entry.seq}`] : []),
    ...(entry.successorOwed ? ['o'] : []),
    ...(entry.repairs !== undefined ? [`p${entry.repairs}`] : []),
  ];
  const tail = extras.length ? `_${entry.zone ?? ''}_${extras.join('_')}` : entry.zone ? `_${entry.zone}` : '';
  return [`${KEY_PREFIX}${entry.request}`, `${entry.phase}_${suffix}${tail}`];
}

/** The journal's floor: requests with a sequence at or below it may have been dropped. */
export function journalFloor(labels: Record<string, string>): number | undefined {
  const v = labels[FLOOR_LABEL];
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** The address's labels with `entry` written (the oldest completed entries dropped, the floor raised). */
export function withJournalEntry(names: ClusterNames, labels: Record<string, string>, entry: JournalEntry): Record<string, string> {
  const [key, value] = journalLabel(names, entry);
  const next = { ...labels, [key]: value };
  // Oldest run first (entries without a run id before any), then in the order they were written:
  // the newest run's entries go last, so its own later requests stay above the floor.
  const seqOf = (k: string) => decodeJournal(names, { [k]: next[k]! })[0]?.seq ?? -1;
  const done = Object.keys(next)
    .filter((k) => k.startsWith(KEY_PREFIX) && next[k]?.startsWith('done_') && k !== key)
    .map((k, order) => ({ k, order, seq: seqOf(k) }))
    .sort((a, b) => a.seq - b.seq || a.order - b.order);
  const dropped = done.slice(0, Math.max(0, done.length - MAX_DONE_ENTRIES));
  let floor = journalFloor(next);
  for (const { k, seq } of dropped) {
    if (seq >= 0) floor = Math.max(floor ?? 0, seq);
    delete next[k];
  }
  if (floor !== undefined) next[FLOOR_LABEL] = String(floor);
  return next;
}

export function journalFor(journal: JournalEntry[], request: string): JournalEntry | undefined {
  return journal.find((e) => e.request === request);
}

/** Entries of `request` itself or of its steps (`<request>-a`, `<request>-n3`, ...). */
export function entriesOfRequest(journal: JournalEntry[], request: string): JournalEntry[] {
  return journal.filter((e) => e.request === request || e.request.startsWith(`${request}-`));
}
