// How the IAP client words a refusal: which refusals end the run and which name the fix.
import { closeError, handshakeError } from '../../src/iap/errors.ts';

const where = { project: 'p', zone: 'europe-west1-b', instance: 'kubernetes-master', port: 2379 };

test.each([
  ['HTTP 401', () => handshakeError(401, where, ''), 'credentials', 'google-github-actions/auth'],
  ['HTTP 403', () => handshakeError(403, where, ''), 'permission', 'roles/iap.tunnelResourceAccessor'],
  ['close 4033', () => closeError(4033, 'not authorized', where), 'permission', 'roles/iap.tunnelResourceAccessor'],
])('%s ends the run and names the fix', (_name, make, kind, fix) => {
  const e = make();
  expect(e.kind).toBe(kind);
  expect(e.fatal).toBe(true);
  expect(e.fix).toContain(fix);
  if (kind === 'permission') expect(e.problem).toContain('kubernetes-master (zone europe-west1-b) port 2379');
});

test.each([
  ['HTTP 404', () => handshakeError(404, where, ''), 'not-found'],
  ['close 4047', () => closeError(4047, 'lookup failed', where), 'not-found'],
  ['close 4051', () => closeError(4051, '', where), 'not-found'],
  ['close 4003', () => closeError(4003, 'failed to connect to backend', where), 'unreachable'],
  ['close 4010', () => closeError(4010, '', where), 'relay'],
])('%s is not run-ending: a replica may be on its way up or down', (_name, make, kind) => {
  const e = make();
  expect(e.kind).toBe(kind);
  expect(e.fatal).toBe(false);
});

test('a firewall that blocks IAP is named in the 4003 message with the range and the port', () => {
  expect(closeError(4003, '', where).problem).toMatch(/35\.235\.240\.0\/20 in on tcp 2379/);
});
