// Every request-id the input check passes can be stored where the engine stores it: the lock's
// label value (read back as the same holder), journal keys with their step suffixes, a VM's
// request label. What cannot be stored is refused by the check, with the allowed form.
import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../src/errors.ts';
import { parseInputs } from '../../src/inputs.ts';
import { decodeLock, encodeLock } from '../../src/engine/lock.ts';
import { journalLabel } from '../../src/plan/journal.ts';
import { clusterNames } from '../../src/model.ts';
import { REQUEST_ID_MAX_LENGTH } from '../../src/request-id.ts';

const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;
/** Epoch seconds keep 10 digits until the year 2286. */
const LATEST_EXPIRY = 9_999_999_999_000;
/** The longest step suffixes the planner appends (replace rounds, scale steps). */
const STEP_SUFFIXES = ['', '-a63', '-r63', '-n999', '-d999'];

const inputs = (id: string) => (name: string) =>
  ({ project: 'my-project', operation: 'up', 'gce-zone': 'europe-west1-b', 'request-id': id })[name] ?? '';
function check(id: string): { ok: true; id: string } | { ok: false; message: string } {
  try {
    return { ok: true, id: parseInputs(inputs(id), {}).intent.requestId };
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return { ok: false, message: (e as InputError).problems.map((p) => `${p.problem} ${p.fix}`).join('\n') };
  }
}

describe('request-id: the check and the labels agree', () => {
  const longest = `pr_42-${'x'.repeat(REQUEST_ID_MAX_LENGTH - 6)}`;

  it.each([
    ['with underscores', 'nightly_2024_01'],
    ['of the longest allowed length', longest],
    ['of one character', 'a'],
  ])('an id %s passes the check and round-trips through every label', (_what, id) => {
    expect(check(id)).toEqual({ ok: true, id });
    const lock = encodeLock({ request: id, expiresAt: LATEST_EXPIRY });
    expect(lock).toMatch(LABEL_VALUE);
    expect(decodeLock(lock)).toEqual({ request: id, expiresAt: LATEST_EXPIRY });
    const names = clusterNames('kubernetes');
    for (const suffix of STEP_SUFFIXES) {
      const [key, value] = journalLabel(names, {
        request: `${id}${suffix}`,
        replica: `${names.master}-abc`,
        phase: 'removing',
        zone: 'europe-west1-b',
      });
      expect(key).toMatch(LABEL_KEY);
      expect(value).toMatch(LABEL_VALUE);
      expect(`${id}${suffix}`).toMatch(LABEL_VALUE); // the VM's ha-masters-request label
    }
  });

  it('an id one character too long for the lock is refused with the allowed form and length', () => {
    const result = check('a'.repeat(REQUEST_ID_MAX_LENGTH + 1));
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toContain(`use 1-${REQUEST_ID_MAX_LENGTH} lowercase letters, digits, dashes or underscores`);
  });

  it('an id of 63 characters (a label value on its own, but not with the expiry) is refused', () => {
    expect(check('b'.repeat(63)).ok).toBe(false);
  });
});
