// `timeout` bounds the whole run of the bundled action, waits that cannot be cut short included: a
// GCE operation that takes far longer than the run's timeout (here the first insert takes 28 s, the
// run's timeout is 8 s) ends the run a few seconds after its timeout, with a message that says where
// it stopped and how to go on. Before, the run sat in the operation wait for the whole operation (up
// to 10 minutes). The re-run of the same request meets that insert still under way ("already
// exists", yet not there): it paces the step until GCE finishes it, then finishes the job. Before,
// it spun through 200 steps in seconds and failed.
import { emulatorAdmin } from '../support/emulator-admin.ts';
import { bundleAgainstEmulator } from '../support/run-bundle.ts';
import { ABANDON_GRACE_MS } from '../../src/engine/run.ts';

const ZONE = 'europe-west1-b';
const action = bundleAgainstEmulator('run-timeout');
const TIMEOUT_S = 8;
/** The first insert's latency: still under way when the stopped run has ended (timeout + grace) and its re-run starts. */
const SLOW_INSERT_MS = 28_000;

test('a run whose GCE operation outlasts its timeout ends within timeout + grace, and a re-run finishes', async () => {
  const admin = emulatorAdmin(action.emulator().url);
  await admin('latency', { operationType: 'insert', ms: SLOW_INSERT_MS });
  const inputs = { operation: 'up', 'gce-zone': ZONE, 'request-id': 'slow-insert-1' };

  const t0 = Date.now();
  const stopped = await action.run({ ...inputs, timeout: `${TIMEOUT_S}s` });
  const seconds = (Date.now() - t0) / 1000;
  expect(stopped.code).toBe(1);
  expect(stopped.stdout).toMatch(
    new RegExp(
      `::error::ha-masters failed with: run stopped at its timeout \\(${TIMEOUT_S} s\\) after \\d+ s, while .+ was still under way.*Re-run with the same inputs and request-id to continue`,
    ),
  );
  // The process start and the first observation come on top of the run's own clock.
  expect(seconds).toBeLessThan(TIMEOUT_S + ABANDON_GRACE_MS / 1000 + 8);

  await admin('latency', { operationType: 'insert', ms: 100 });
  const rerun = await action.run(inputs);
  expect(rerun.stdout).not.toMatch(/::error::/);
  expect(rerun.code).toBe(0);
  expect(rerun.outputs['external-ip']).toMatch(/^127\./);
  expect(rerun.stdout).toMatch(/the effect of that step does not show yet/);
  // Paced: far fewer than the 200 a spinning run makes before it gives up.
  expect(rerun.stdout.match(/^step \d+: reserve static IP/gm)!.length).toBeLessThan(12);
}, 180_000);
