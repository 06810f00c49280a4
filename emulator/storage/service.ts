// Cloud Storage's buckets and objects, as much as an etcd restore needs: buckets with their IAM
// bindings, and each object's live version (its generation). Kept in the state dir, so that they
// outlive an emulator restart as a bucket outlives a client. Pure state; http.ts speaks the JSON API.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '../secretmanager/crc32c.ts';

export interface ObjectMeta {
  bucket: string;
  name: string;
  /** Microseconds since the epoch when written, as GCS numbers generations. */
  generation: string;
  size: number;
  contentType: string;
  md5Hash: string;
  crc32c: string;
  timeCreated: string;
}

export interface Bucket {
  name: string;
  project: string;
  timeCreated: string;
  /** role -> members (`serviceAccount:x@y`, `user:z`). */
  bindings: Record<string, string[]>;
}

const fileKey = (name: string): string => Buffer.from(name).toString('base64url');

export class StorageService {
  private readonly root: string;
  private lastGeneration = 0;

  constructor(stateDir: string) {
    this.root = join(stateDir, 'storage');
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  private bucketFile(name: string): string {
    return join(this.root, fileKey(name), 'bucket.json');
  }

  createBucket(name: string, project: string): Bucket | undefined {
    if (this.bucket(name)) return undefined;
    const bucket: Bucket = { name, project, timeCreated: new Date().toISOString(), bindings: {} };
    mkdirSync(join(this.root, fileKey(name), 'o'), { recursive: true });
    this.saveBucket(bucket);
    return bucket;
  }

  bucket(name: string): Bucket | undefined {
    const file = this.bucketFile(name);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Bucket) : undefined;
  }

  saveBucket(bucket: Bucket): void {
    writeFileSync(this.bucketFile(bucket.name), JSON.stringify(bucket));
  }

  put(bucket: string, name: string, data: Buffer, contentType: string): ObjectMeta {
    // Strictly increasing even within one microsecond, as an object's generations are.
    this.lastGeneration = Math.max(this.lastGeneration + 1, Date.now() * 1000);
    const meta: ObjectMeta = {
      bucket,
      name,
      generation: String(this.lastGeneration),
      size: data.length,
      contentType,
      md5Hash: createHash('md5').update(data).digest('base64'),
      crc32c: crc32cBase64(data),
      timeCreated: new Date().toISOString(),
    };
    const base = join(this.root, fileKey(bucket), 'o', fileKey(name));
    writeFileSync(`${base}.data`, data);
    writeFileSync(`${base}.json`, JSON.stringify(meta));
    return meta;
  }

  /** The live version's metadata; undefined when there is none or `generation` names another (older ones are not kept). */
  get(bucket: string, name: string, generation?: string): ObjectMeta | undefined {
    const file = join(this.root, fileKey(bucket), 'o', `${fileKey(name)}.json`);
    if (!existsSync(file)) return undefined;
    const meta = JSON.parse(readFileSync(file, 'utf8')) as ObjectMeta;
    return generation === undefined || meta.generation === generation ? meta : undefined;
  }

  data(meta: ObjectMeta): Buffer {
    return readFileSync(join(this.root, fileKey(meta.bucket), 'o', `${fileKey(meta.name)}.data`));
  }

  delete(bucket: string, name: string): boolean {
    const base = join(this.root, fileKey(bucket), 'o', fileKey(name));
    if (!existsSync(`${base}.json`)) return false;
    rmSync(`${base}.json`);
    rmSync(`${base}.data`, { force: true });
    return true;
  }

  /** Object names of a bucket (for tests and the admin view). */
  list(bucket: string): string[] {
    const dir = join(this.root, fileKey(bucket), 'o');
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => Buffer.from(f.slice(0, -'.json'.length), 'base64url').toString('utf8'));
  }
}

/** GCS gives an object's CRC32C as the base64 of its four big-endian bytes. */
function crc32cBase64(data: Buffer): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32c(data));
  return b.toString('base64');
}
