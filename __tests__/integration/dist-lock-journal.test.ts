// Issue 10, findings 1, 2 and 8, through the bundled action against the emulator: the lock of a run
// killed after its last step, a `timeout` that bounds the wait for another run's lock, and the
// journal's floor. One cluster; the tests run in order.
import type { ChildProcess } from 'node:child_process';
import { bundleAgainstEmulator } from '../support/run-bundle.ts';

const PROJECT = 'lock-journal';
const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const action = bundleAgainstEmulator(PROJECT);
const ADDRESS = `projects/${PROJECT}/regions/europe-west1/addresses/kubernetes-master-ip`;
const SET_LABELS = `/${ADDRESS}/setLabels$`;
/** Inputs that add one replica in `zone` / remove the one in `zone`. */
const addIn = (zone: string, id: string, extra: Record<string, string> = {}) => ({
  operation: 'up',
  'replicate-existing-master': 'true',
  'gce-zone': zone,
  'request-id': id,
  ...extra,
});
const removeIn = (zone: string, id: string) => ({ operation: 'down', 'delete-nodes': 'false', 'gce-zone': zone, 'request-id': id });

async function address(): Promise<{ labels: Record<string, string>; labelFingerprint: string }> {
  const res = await fetch(`${action.emulator().url}/compute/v1/${ADDRESS}`);
  const a = (await res.json()) as { labels?: Record<string, string>; labelFingerprint: string };
  return { labels: a.labels ?? {}, labelFingerprint: a.labelFingerprint };
}

/** The address's labels set through the Compute API, as any client could; resolves once they show. */
async function setAddressLabels(labels: Record<string, string>): Promise<void> {
  const { labelFingerprint } = await address();
  const res = await fetch(`${action.emulator().url}/compute/v1/${ADDRESS}/setLabels`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ labels, labelFingerprint }),
  });
  expect(res.ok).toBe(true);
  for (let i = 0; i < 100 && JSON.stringify((await address()).labels) !== JSON.stringify(labels); i++)
    await new Promise((r) => setTimeout(r, 100));
  expect((await address()).labels).toEqual(labels);
}

/** Calls that changed the address's labels since `mark` (the lock, the journal). */
async function labelWritesSince(mark: number): Promise<number> {
  return (await action.writesSince(mark)).filter((w) => new RegExp(SET_LABELS).test(w)).length;
}

/**
 * Runs `inputs` and SIGKILLs the run once its `nth` label write on the address (the lock's release:
 * the last one) has been refused with 503 and is being retried: after the journal's done mark,
 * before the release.
 */
async function killedBeforeRelease(inputs: Record<string, string>, nth: number) {
  await action.admin('fail', { method: 'POST', path: SET_LABELS, nth, times: 100, status: 503 });
  let child: ChildProcess | undefined;
  let seen = '';
  let labelsAtKill: Record<string, string> | undefined;
  const run = action.run(inputs, {
    started: (c) => {
      child = c;
      c.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (labelsAtKill || !/set labels of .*unavailable \(503\), retry/.test(seen)) return;
        labelsAtKill = {};
        void address().then((a) => {
          labelsAtKill = a.labels;
          process.kill(child!.pid!, 'SIGKILL');
        });
      });
    },
  });
  const result = await run;
  await action.admin('clear-faults', {});
  return { result, labelsAtKill };
}

beforeAll(async () => {
  const first = await action.run({ operation: 'up', 'gce-zone': B, 'request-id': 'first-master' });
  expect(first.code).toBe(0);
}, 120_000);

test('finding 1: a run killed after its last step, before releasing the lock: its re-run frees the lock, and another request takes it over at once', async () => {
  // Before the fix, the re-run of the same request found nothing to do and exited 0 leaving the lock,
  // and every other request waited 300 s and failed, until the lease expired after 20 min.
  // An uninterrupted add counts the label writes on the address of such a run; the last is the release.
  let mark = await action.requestCount();
  const measured = await action.run(addIn(C, 'measure-add'));
  expect(measured.code).toBe(0);
  const writes = await labelWritesSince(mark);
  expect(writes).toBeGreaterThanOrEqual(3); // take the lock, journal, release

  const add = addIn(D, 'killed-add');
  const killed = await killedBeforeRelease(add, writes);
  expect(killed.result.code).toBeNull(); // SIGKILL
  expect(killed.labelsAtKill?.['hm-killed-add']).toMatch(/^done_/);
  expect((await address()).labels['ha-masters-lock']).toMatch(/^killed-add_\d+$/);

  // The re-run has nothing left to do, exits 0 and frees the lock: its one write is the release.
  mark = await action.requestCount();
  const rerun = await action.run({ ...add, timeout: '60s' });
  expect(rerun.stdout).not.toMatch(/::error::/);
  expect(rerun.code).toBe(0);
  expect(rerun.outputs['changed']).toBe('false');
  expect(rerun.outputs['replica-count']).toBe('3');
  expect((await address()).labels['ha-masters-lock']).toBeUndefined();
  expect(await action.writesSince(mark)).toEqual([`POST /compute/v1/${ADDRESS}/setLabels`]);

  // Killed the same way, a removal leaves its lock; the next request (another one) takes it over
  // at once, since the journal records the holder's request as done.
  mark = await action.requestCount();
  const removal = removeIn(D, 'killed-removal');
  const measuredRemoval = await action.run(removeIn(C, 'measure-removal'));
  expect(measuredRemoval.code).toBe(0);
  const removalWrites = await labelWritesSince(mark);
  const killedRemoval = await killedBeforeRelease(removal, removalWrites);
  expect(killedRemoval.result.code).toBeNull();
  expect(killedRemoval.labelsAtKill?.['hm-killed-removal']).toMatch(/^done_/);
  expect((await address()).labels['ha-masters-lock']).toMatch(/^killed-removal_\d+$/);

  const t0 = Date.now();
  const next = await action.run(addIn(C, 'next-request', { timeout: '90s' }));
  expect(next.stdout).not.toMatch(/::error::/);
  expect(next.code).toBe(0);
  expect(next.stdout).toContain(
    'taking over the lock on kubernetes-master from request killed-removal: the journal records that request as done',
  );
  expect(next.stdout).not.toMatch(/waiting for run killed-removal/);
  expect(next.outputs['replica-count']).toBe('2');
  expect(Date.now() - t0).toBeLessThan(60_000);
  expect((await address()).labels['ha-masters-lock']).toBeUndefined();
}, 240_000);

/** The `timeout` of finding 2's run: far below the fixed lock wait (300 s) it used to sit out. */
const WAIT_TIMEOUT_S = 10;

test(`finding 2: a run with timeout: ${WAIT_TIMEOUT_S}s that meets another run's lock ends within about ${WAIT_TIMEOUT_S} s, naming the holder and until when`, async () => {
  // Before the fix, the wait for the lock did not count against `timeout`: a run with timeout 30s
  // waited 302 s (the fixed lock wait) and then failed.
  // The lease of another run that is at work (set as that run sets it; a live run that holds it
  // would have a VM in flight, and before the fix of finding 3 that failed the run at once).
  const until = new Date(Math.floor(Date.now() / 1000 + 20 * 60) * 1000);
  const { labels } = await address();
  await setAddressLabels({ ...labels, 'ha-masters-lock': `busy-run_${until.getTime() / 1000}` });

  const t0 = Date.now();
  const waiter = await action.run(addIn(D, 'patient-waiter', { timeout: `${WAIT_TIMEOUT_S}s` }));
  const seconds = (Date.now() - t0) / 1000;
  expect(waiter.code).toBe(1);
  expect(seconds).toBeGreaterThan(WAIT_TIMEOUT_S - 5);
  expect(seconds).toBeLessThan(WAIT_TIMEOUT_S + 8);
  expect(waiter.stdout).toContain(`waiting for run busy-run, which holds the lock on kubernetes-master until ${until.toISOString()}`);
  expect(waiter.stdout).toMatch(
    new RegExp(
      `::error::.*another run \\(request busy-run\\) is changing kubernetes-master and holds its lock until ${until.toISOString().replace(/[.]/g, '\\.')}`,
    ),
  );
  expect(waiter.stdout).toMatch(/Nothing was changed by this run/);
  expect((await address()).labels['ha-masters-lock']).toBe(`busy-run_${until.getTime() / 1000}`);
  await setAddressLabels(labels);
}, 120_000);

test('finding 8: a request older than what the journal still vouches for is refused, and writes nothing', async () => {
  // Before the fix, the journal kept the last 24 finished requests and forgot the rest: re-running
  // an add from further back added a replica a second time.
  // 25 finished requests of workflow runs 101..125 (seeded: running them would take minutes); with
  // the entries of the runs above (no run id: dropped first), more than the journal keeps.
  const { labels } = await address();
  const seeded: Record<string, string> = {};
  for (let run = 101; run <= 125; run++) seeded[`hm-old-add-${run}`] = `done_a${String(run).slice(1)}_${C}_s${run}`;
  await setAddressLabels({ ...labels, ...seeded });

  // A new request of run 1000: its journal entry pushes the oldest (run 101's) out, and raises the floor.
  const github = (run: string): NodeJS.ProcessEnv => ({ GITHUB_RUN_ID: run });
  // (A removal, or an add when there is nothing to remove, so that this test also runs alone.)
  const inD = (await action.instances()).some((v) => v.zone === D);
  const request = await action.run(inD ? removeIn(D, 'new-request') : addIn(D, 'new-request'), { env: github('1000') });
  expect(request.code).toBe(0);
  const after = (await address()).labels;
  expect(after['hm-old-add-101']).toBeUndefined();
  expect(after['ha-masters-journal-floor']).toBe('101');
  expect(after['hm-old-add-102']).toBeDefined();

  // Run 101's add, re-run (GitHub keeps its run id): the journal cannot say whether it was done.
  const mark = await action.requestCount();
  const old = await action.run(addIn(C, 'old-add-101'), { env: github('101') });
  expect(old.code).toBe(1);
  expect(old.stdout).toMatch(
    /::error::.*request old-add-101 comes from workflow run 101, and the journal of kubernetes-master no longer holds requests of runs up to 101/,
  );
  expect(old.stdout).toMatch(/start a new workflow run/);
  expect(await action.writesSince(mark)).toEqual([]);
  // A request of a run above the floor still runs.
  const newer = await action.run(addIn(C, 'old-add-102'), { env: github('102') });
  expect(newer.code).toBe(0);
  expect(newer.outputs['changed']).toBe('false');
}, 120_000);
