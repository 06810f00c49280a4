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
  const env = { PATH: process.env.PATH, HOME: dir, CLOUDSDK_CONFIG: join(dir, 'gcloud') };
  try {
    await gcloud(env, ['config', 'set', 'api_endpoint_overrides/compute', `${emulatorUrl}/compute/v1/`]);
    await gcloud(env, ['config', 'set', 'auth/disable_credentials', 'true']);
    const listed = JSON.parse(await gcloud(env, ['compute', 'instances', 'list', '--project', project, '--format', 'json(name,zone)'])) as {
      name: string;
      zone: string;
    }[];
    const found: string[] = [];
    for (const vm of listed) {
      const zone = vm.zone.split('/').pop()!;
      const described = JSON.parse(
        await gcloud(env, ['compute', 'instances', 'describe', vm.name, '--zone', zone, '--project', project, '--format', 'json']),
      ) as {
        metadata?: { items?: { key: string; value?: string }[] };
      };
      for (const { key, value = '' } of described.metadata?.items ?? []) {
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
