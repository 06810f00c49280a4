// The form a request id must have. It is stored in GCE labels, which allow lowercase letters,
// digits, `_` and `-`, at most 63 characters: the lock's value `<request>_<expiry, 10 digits>`,
// journal keys `hm-<request>[-<step>]` and a VM's `ha-masters-request: <request>[-<step>]`. The
// lock is the tightest: 63 - 1 - 10 = 52 characters, which also leaves a journal key 8 characters
// for its step suffix (`-a12`, `-n7`).
export const REQUEST_ID_MAX_LENGTH = 52;
const REQUEST_ID_FORM = /^[a-z0-9_-]+$/;

/** The allowed form, in words, for messages. */
export const REQUEST_ID_RULE = `1-${REQUEST_ID_MAX_LENGTH} lowercase letters, digits, dashes or underscores`;

/** Why `id` cannot be stored as a request id, or undefined when it can. */
export function requestIdProblem(id: string): string | undefined {
  if (!REQUEST_ID_FORM.test(id)) return `request id "${id}" has characters a GCE label cannot hold (or is empty)`;
  if (id.length > REQUEST_ID_MAX_LENGTH) {
    return `request id "${id}" is ${id.length} characters long; with the lock's expiry it would not fit in a GCE label (63 characters)`;
  }
  return undefined;
}
