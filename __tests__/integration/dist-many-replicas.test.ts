// More replicas than etcd recommends (7) are refused by the bundled action before anything is
// written, unless the user opts in with allow-many-replicas.
import { bundleAgainstEmulator } from '../support/run-bundle.ts';

const ZONE = 'europe-west1-b';
const action = bundleAgainstEmulator('many-replicas');

test('replicas: 9 is refused with the reason and writes nothing; with allow-many-replicas it is a warning', async () => {
  const mark = await action.requestCount();
  const refused = await action.run({ operation: 'up', 'gce-zone': ZONE, replicas: '9', 'dry-run': 'true' });
  expect(refused.code).toBe(1);
  expect(refused.stdout).toMatch(/::error::.*replicas: 9 is above 7: etcd recommends at most 7 members.*allow-many-replicas: true/);
  expect(refused.stdout).toMatch(/nothing was changed/i);
  expect(await action.writesSince(mark)).toEqual([]);

  const allowed = await action.run({ operation: 'up', 'gce-zone': ZONE, replicas: '9', 'allow-many-replicas': 'true', 'dry-run': 'true' });
  expect(allowed.code).toBe(0);
  expect(allowed.stdout).toMatch(/::warning title=ha-masters input::replicas: 9; etcd recommends at most 7 members/);
  expect(await action.writesSince(mark)).toEqual([]);
}, 120_000);
