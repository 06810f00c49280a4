// What anyone with compute.instances.get sees: every instance's metadata as `gcloud compute
// instances describe --format=json` prints it, searched for private keys in the raw values, in
// their base64 decoding, and in each flat `KEY: 'base64'` line decoded (kube-up's format).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeFlatYaml } from '../../src/engine/kube-yaml.ts';

const PRIVATE = /PRIVATE KEY/;

function gcloud(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('gcloud', args, { env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`gcloud ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** `instance/key[/LINE]` of every metadata value that holds a private key (empty: none does). */
export async function privateKeysGcloudSees(emulatorUrl: string, project: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'metadata-scan-'));
  // The two properties as environment variables (what `gcloud config set` would store; each gcloud
  // call costs about a second).
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    CLOUDSDK_CONFIG: join(dir, 'gcloud'),
    CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: `${emulatorUrl}/compute/v1/`,
    CLOUDSDK_AUTH_DISABLE_CREDENTIALS: 'true',
  };
  try {
    const listed = JSON.parse(await gcloud(env, ['compute', 'instances', 'list', '--project', project, '--format', 'json(name,zone)'])) as {
      name: string;
      zone: string;
    }[];
    const found: string[] = [];
    // One describe per instance, all at once.
    const described = await Promise.all(
      listed.map(
        async (vm) =>
          JSON.parse(
            await gcloud(env, [
              'compute',
              'instances',
              'describe',
              vm.name,
              '--zone',
              vm.zone.split('/').pop()!,
              '--project',
              project,
              '--format',
              'json',
            ]),
          ) as { name: string; metadata?: { items?: { key: string; value?: string }[] } },
      ),
    );
    for (const vm of described) {
      for (const { key, value = '' } of vm.metadata?.items ?? []) {
        if (PRIVATE.test(value) || PRIVATE.test(Buffer.from(value, 'base64').toString('utf8'))) found.push(`${vm.name}/${key}`);
        for (const [line, v] of Object.entries(decodeFlatYaml(value))) {
          if (PRIVATE.test(Buffer.from(v, 'base64').toString('utf8'))) found.push(`${vm.name}/${key}/${line}`);
        }
      }
    }
    if (listed.length === 0) found.push('(no instance listed: nothing was scanned)');
    return found;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
