// Issue 13, the sticky comment of a pull request's cluster, through the bundled action against the
// emulator and a GitHub stand-in: up writes one comment with the external IP, the replicas and
// their health, the expiry and how to use the kubeconfig output; the teardown on close updates the
// same comment to say the cluster is gone.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleAgainstEmulator } from '../support/run-bundle.ts';
import { startGithubApi } from '../support/github-api.ts';

const action = bundleAgainstEmulator('pr-comment');
const TOKEN = 'ghs_prcommenttoken0123456789';

test('up comments where the cluster answers, its health, expiry and kubeconfig; the teardown says it is gone', async () => {
  const github = await startGithubApi('acme', 'infra', 9);
  const event = join(mkdtempSync(join(tmpdir(), 'ha-event-')), 'event.json');
  writeFileSync(event, JSON.stringify({ action: 'opened', pull_request: { number: 9 } }));
  const env = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event, GITHUB_REPOSITORY: 'acme/infra', GITHUB_API_URL: github.url };
  try {
    const up = await action.run(
      { operation: 'up', 'gce-zone': 'europe-west1-b', ttl: '24h', 'pr-comment': 'true', 'github-token': TOKEN },
      { env },
    );
    expect(up.code).toBe(0);
    expect(github.comments).toHaveLength(1);
    const body = github.comments[0]!.body;
    expect(body.startsWith('<!-- ha-masters:pr-9-master -->\n## ha-masters: up')).toBe(true);
    expect(body).toContain(`- **External IP**: \`${up.outputs['external-ip']}\``);
    expect(body).toContain('- **Replicas**: 1 replica, healthy');
    const expires = /- \*\*Expires\*\*: (\S+) /.exec(body)?.[1];
    expect(Date.parse(expires!) - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    expect(body).toContain('KUBECONFIG: ${{ steps.');

    const down = await action.run(
      { operation: 'down', 'gce-zone': 'europe-west1-b', 'pr-comment': 'true', 'github-token': TOKEN },
      { env },
    );
    expect(down.code).toBe(0);
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]!.body).toContain('`pr-9-master` is gone: this run tore it down.');
    expect(github.requests.map((r) => r.method)).toEqual(['GET', 'POST', 'GET', 'PATCH']);
  } finally {
    await github.stop();
  }
}, 180_000);
