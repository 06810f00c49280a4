// Secrets, their versions (payloads included) and their IAM policies, one JSON file per secret
// under `<stateDir>/secretmanager/projects/<p>/secrets/<id>.json` (owner-only), written atomically,
// so a restart on the same state dir finds them again. Kept apart from the Compute resources:
// `/_emulator/state` never shows a payload.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../store/store.ts';
import type { Policy } from './iam.ts';

export interface StoredVersion {
  number: number;
  createTime: string;
  state: 'ENABLED';
  /** The payload, base64. */
  data: string;
  /** CRC-32C of the payload, decimal. */
  crc32c: string;
  clientSpecifiedPayloadChecksum: boolean;
  etag: string;
}

export interface StoredSecret {
  project: string;
  id: string;
  createTime: string;
  replication: Record<string, unknown>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  etag: string;
  versions: StoredVersion[];
  /** Version numbers are never reused, even after a version is gone. */
  lastVersion: number;
  policy: Policy;
}

export class SecretStore {
  private readonly root: string;
  private readonly secrets = new Map<string, StoredSecret>();

  constructor(stateDir: string) {
    this.root = join(stateDir, 'secretmanager');
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    this.load();
  }

  get(project: string, id: string): StoredSecret | undefined {
    return this.secrets.get(keyOf(project, id));
  }

  /** The projects that hold secrets (to tell which one a project number names). */
  projects(): string[] {
    return [...new Set([...this.secrets.values()].map((s) => s.project))];
  }

  /** A project's secrets, in creation order (as Secret Manager lists them). */
  list(project: string): StoredSecret[] {
    return [...this.secrets.values()]
      .filter((s) => s.project === project)
      .sort((a, b) => (a.createTime < b.createTime ? -1 : a.createTime > b.createTime ? 1 : a.id < b.id ? -1 : 1));
  }

  put(secret: StoredSecret): void {
    this.secrets.set(keyOf(secret.project, secret.id), secret);
    writeJsonAtomic(this.fileOf(secret.project, secret.id), secret);
  }

  delete(project: string, id: string): boolean {
    const had = this.secrets.delete(keyOf(project, id));
    rmSync(this.fileOf(project, id), { force: true });
    return had;
  }

  private fileOf(project: string, id: string): string {
    return join(this.root, 'projects', project, 'secrets', `${id}.json`);
  }

  private load(): void {
    const projects = join(this.root, 'projects');
    if (!existsSync(projects)) return;
    for (const project of readdirSync(projects)) {
      const dir = join(projects, project, 'secrets');
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
        const secret = JSON.parse(readFileSync(join(dir, file), 'utf8')) as StoredSecret;
        this.secrets.set(keyOf(secret.project, secret.id), secret);
      }
    }
  }
}

const keyOf = (project: string, id: string): string => `${project}/${id}`;
