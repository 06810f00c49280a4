// A lock whose holder is provably gone is taken over at once. The bundled action writes its
// workflow run beside the lock (`ha-masters-lock-run`); a run of another request that finds the lock
// asks GitHub about that run. While GitHub says it is in progress, the lock is waited for (and the
// wait ends at the run's timeout); once GitHub says it has completed (here: the holder was killed,
// as a cancelled job's runner is), the lock is taken over at once, not 20 minutes later when the
// lease expires, and the take-over says why. The lease and its run label are gone afterwards.
import type { ChildProcess } from 'node:child_process';
import { emulatorAdmin } from '../support/emulator-admin.ts';
import { startGithubApi } from '../support/github-api.ts';
import { bundleAgainstEmulator } from '../support/run-bundle.ts';

const PROJECT = 'lock-holder-gone';
const ZONE = 'europe-west1-b';
const action = bundleAgainstEmulator(PROJECT);
const ADDRESS = `projects/${PROJECT}/regions/europe-west1/addresses/kubernetes-master-ip`;

async function addressLabels(): Promise<Record<string, string>> {
  const res = await fetch(`${action.emulator().url}/compute/v1/${ADDRESS}`);
  return ((await res.json()) as { labels?: Record<string, string> }).labels ?? {};
}

test('a run takes over the lock of a killed run once GitHub reports that run completed, and not before', async () => {
  const api = await startGithubApi('acme', 'infra', 7);
  const admin = emulatorAdmin(action.emulator().url);
  const github = (runId: string): NodeJS.ProcessEnv => ({
    GITHUB_RUN_ID: runId,
    GITHUB_REPOSITORY_ID: '4242',
    GITHUB_REPOSITORY: 'acme/infra',
    GITHUB_API_URL: api.url,
  });
  try {
    const first = await action.run({ operation: 'up', 'gce-zone': ZONE, 'request-id': 'first-master' });
    expect(first.code).toBe(0);

    // The holder: adds a replica with slow VM inserts, and is killed once it holds the lock.
    // (Slow enough that it is still at work when killed.)
    await admin('latency', { operationType: 'insert', ms: 8_000 });
    api.runs.set(111, { status: 'in_progress', conclusion: null });
    let holder: ChildProcess | undefined;
    // Three replicas: the holder adds two (of which it is killed in the first).
    const killed = action.run(
      { operation: 'up', 'gce-zone': ZONE, replicas: '3', 'request-id': 'holder-a', 'github-token': 'gh-token' },
      { env: github('111'), started: (c) => (holder = c) },
    );
    for (let i = 0; i < 200 && holder?.exitCode === null && !(await addressLabels())['ha-masters-lock']?.startsWith('holder-a_'); i++)
      await new Promise((r) => setTimeout(r, 100));
    const held = await addressLabels();
    expect(held['ha-masters-lock']).toMatch(/^holder-a_\d+$/);
    expect(held['ha-masters-lock-run']).toBe('4242-111');
    process.kill(holder!.pid!, 'SIGKILL');
    await killed;
    await admin('latency', { operationType: 'insert', ms: 100 });

    // GitHub still reports the holder's run in progress: no proof, so the lock is waited for.
    const blocked = await action.run(
      { operation: 'up', 'gce-zone': ZONE, replicas: '3', 'request-id': 'taker-b', 'github-token': 'gh-token', timeout: '8s' },
      { env: github('222') },
    );
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toMatch(/::error::.*request holder-a/);
    expect(blocked.stdout).not.toMatch(/taking over the lock/);
    expect(
      api.requests.some(
        (r) => r.method === 'GET' && r.path === '/repos/acme/infra/actions/runs/111' && r.authorization === 'token gh-token',
      ),
    ).toBe(true);

    // The holder's run has ended: taken over at once.
    api.runs.set(111, { status: 'completed', conclusion: 'cancelled' });
    const t0 = Date.now();
    const taker = await action.run(
      { operation: 'up', 'gce-zone': ZONE, replicas: '3', 'request-id': 'taker-b', 'github-token': 'gh-token' },
      { env: github('222') },
    );
    expect(taker.stdout).not.toMatch(/::error::/);
    expect(taker.code).toBe(0);
    expect(taker.stdout).toMatch(
      /taking over the lock on kubernetes-master from request holder-a: its workflow run https:\/\/github\.example\/acme\/infra\/actions\/runs\/111 has completed \(cancelled\), so it can write no more/,
    );
    expect(taker.stdout).not.toMatch(/waiting for run holder-a/);
    expect(Date.now() - t0).toBeLessThan(120_000);
    const after = await addressLabels();
    expect(after['ha-masters-lock']).toBeUndefined();
    expect(after['ha-masters-lock-run']).toBeUndefined();
  } finally {
    await api.stop();
  }
}, 300_000);
