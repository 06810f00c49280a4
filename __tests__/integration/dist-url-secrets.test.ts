// No part of a URL input that may be a credential (user:password@, a query, a fragment) reaches
// anything the bundled action prints: the whole stdout and stderr are scanned.
import { bundleAgainstEmulator, visibleOutput } from '../support/run-bundle.ts';

const ZONE = 'europe-west1-b';
const action = bundleAgainstEmulator('url-secrets');

const secrets = ['Pa55w0rd-compute', 'ya29.secretManagerToken', 'Relay-Secret-9', 'frag-secret-token', 'X-Goog-Sig-0123456789abcdef'];

test('endpoints with user:password@, a token in the query or a fragment are refused, and no secret part is ever printed', async () => {
  const host = `${action.emulator().host}:${action.emulator().port}`;
  const mark = await action.requestCount();
  const r = await action.run({
    operation: 'status',
    'gce-zone': ZONE,
    'compute-endpoint': `http://ci-user:${secrets[0]}@${host}`,
    'secret-manager-endpoint': `http://${host}/?access_token=${secrets[1]}`,
    transport: 'iap',
    'iap-endpoint': `wss://relay:${secrets[2]}@127.0.0.1:8443/#${secrets[3]}`,
  });
  expect(r.code).toBe(1);
  const seen = visibleOutput(r);
  for (const input of ['compute-endpoint', 'secret-manager-endpoint', 'iap-endpoint']) {
    expect(seen).toMatch(new RegExp(`${input}: "[^"]*\\*\\*\\*[^"]*" must be a plain .* URL without credentials, query or fragment`));
  }
  for (const secret of secrets.slice(0, 4)) expect([secret, seen.includes(secret)]).toEqual([secret, false]);
  expect(await action.writesSince(mark)).toEqual([]);
}, 60_000);

test('a signed release-manifest URL that fails is named without its token, and the token is masked', async () => {
  const r = await action.run({
    operation: 'up',
    'gce-zone': ZONE,
    'release-manifest': `${action.emulator().url}/no-such-manifest.json?X-Goog-Signature=${secrets[4]}`,
  });
  expect(r.code).toBe(1);
  const seen = visibleOutput(r);
  expect(seen).toMatch(/::error::.*release-manifest: GET .*no-such-manifest\.json\?\*\*\* answered HTTP/);
  expect(seen.includes(secrets[4]!)).toBe(false);
  expect(r.stdout.split('\n')).toContain(`::add-mask::${secrets[4]}`);
}, 60_000);
