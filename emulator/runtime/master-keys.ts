// Contract v2 on the process runtime (docs/vm-contract.md, "Private keys: Secret Manager"), as
// vm/startup.sh does it on a Debian VM: a metadata value that carries KEYS_SECRET gets its keys
// from that version, read as the VM's service account at each boot. What a boot read is kept on
// the boot disk; when a later boot cannot read it, those keys serve if each belongs to its
// certificate in metadata. Without KEYS_SECRET the keys are inline (a cluster made before v2).
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeInstance, VmSecretRead } from './types.ts';
import { decodeBase64Pem, parseFlatYaml } from './flat-yaml.ts';
import { writePrivateFile } from './vm-files.ts';

/** The metadata values whose keys may live in a secret. */
const KEY_SOURCES = ['kube-master-certs', 'etcd-member-certs'] as const;
const ATTEMPTS = 5;
const FIRST_BACKOFF_MS = 50;

export type KeysOutcome = { ok: true; metadata: Record<string, string> } | { ok: false; reason: string };

interface Read {
  version: string;
  outcome: { lines: string } | { failed: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether the private key (PEM) belongs to the certificate (PEM). */
function belongs(cert: string, key: string): boolean {
  try {
    const a = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
    const b = createPublicKey(createPrivateKey(key)).export({ type: 'spki', format: 'der' });
    return a.equals(b);
  } catch {
    return false;
  }
}

/** Every key of the lines whose certificate (`X_KEY` beside `X_CERT`) is in the metadata value belongs to it. */
function matchesCertificates(lines: string, metadataText: string): boolean {
  const certs = parseFlatYaml(metadataText);
  const keys = Object.entries(parseFlatYaml(lines));
  return (
    keys.length > 0 &&
    keys.every(([name, value]) => {
      const cert = decodeBase64Pem(certs[name.replace(/_KEY$/, '_CERT')]);
      const key = decodeBase64Pem(value);
      return key !== undefined && (cert === undefined || belongs(cert, key));
    })
  );
}

export class MasterKeys {
  /** Per running instance: what its current boot read, per metadata value. Cleared at power-off. */
  private readonly boots = new Map<string, Map<string, Read>>();
  private readonly read: VmSecretRead | undefined;
  private readonly log: (line: string) => void;

  constructor(read: VmSecretRead | undefined, log: (line: string) => void) {
    this.read = read;
    this.log = log;
  }

  /** Instances that are no longer RUNNING: their next start is a new boot that reads again. */
  poweredOff(running: Set<string>): void {
    for (const key of this.boots.keys()) if (!running.has(key)) this.boots.delete(key);
  }

  /** The instance's metadata with each secret's lines appended to its value (the last line for a key wins). */
  async resolve(instance: RuntimeInstance): Promise<KeysOutcome> {
    const boot = this.boots.get(instance.key) ?? new Map<string, Read>();
    this.boots.set(instance.key, boot);
    const metadata = { ...instance.metadata };
    for (const source of KEY_SOURCES) {
      const text = metadata[source];
      const version = text ? parseFlatYaml(text).KEYS_SECRET : undefined;
      if (!text || !version) continue;
      // Read once per boot and version; a boot that failed stays failed, as the script exits.
      let read = boot.get(source);
      if (read?.version !== version) {
        read = { version, outcome: await this.readAtBoot(instance, source, version, text) };
        boot.set(source, read);
      }
      if ('failed' in read.outcome) return { ok: false, reason: read.outcome.failed };
      metadata[source] = `${text}\n${read.outcome.lines}`;
    }
    return { ok: true, metadata };
  }

  private async readAtBoot(
    instance: RuntimeInstance,
    source: string,
    version: string,
    text: string,
  ): Promise<{ lines: string } | { failed: string }> {
    const disk = instance.bootDiskDir ? join(instance.bootDiskDir, 'ha-masters-keys', source) : undefined;
    const why = await this.readVersion(instance, version);
    if (typeof why !== 'string') {
      if (disk) {
        mkdirSync(join(disk, '..'), { recursive: true, mode: 0o700 });
        writePrivateFile(disk, why.lines);
      }
      return why;
    }
    const kept = disk && existsSync(disk) ? readFileSync(disk, 'utf8') : undefined;
    if (kept !== undefined && matchesCertificates(kept, text)) {
      this.log(`${instance.key}: cannot read ${version}: ${why}; the keys on the boot disk match the certificates in metadata: using them`);
      return { lines: kept };
    }
    this.log(`${instance.key}: start-up failed: cannot read ${version}: ${why}`);
    return { failed: `cannot read ${version}: ${why}` };
  }

  /** The payload's lines, or why not (the script's words); 429 and 5xx are retried with back-off. */
  private async readVersion(instance: RuntimeInstance, version: string): Promise<{ lines: string } | string> {
    const account = instance.serviceAccountEmail;
    if (!account)
      return 'the VM has no service account (the metadata server has no token for it); create the VM with one that has roles/secretmanager.secretAccessor on the secret';
    let status = 503;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const answer = this.read ? await this.read(version, account) : { status: 503 };
      status = answer.status;
      if (answer.data !== undefined) return { lines: answer.data };
      if (status === 403 || status === 404)
        return `HTTP ${status} (the VM's service account ${account} needs roles/secretmanager.secretAccessor on it)`;
      if (status !== 429 && status < 500) return `HTTP ${status}`;
      if (attempt < ATTEMPTS) await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1));
    }
    return `HTTP ${status} after ${ATTEMPTS} tries`;
  }
}
