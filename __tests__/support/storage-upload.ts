// Puts a file into the emulator's Cloud Storage as a user would with `gcloud storage cp`: the bucket
// (made when missing) and a media upload, with the runner's token from the emulator's metadata server.
// Also the bucket alone, as `gcloud storage buckets create`.
import { readFileSync } from 'node:fs';

async function runnerToken(emulatorUrl: string): Promise<string> {
  const res = await fetch(`${emulatorUrl}/computeMetadata/v1/instance/service-accounts/default/token`, {
    headers: { 'Metadata-Flavor': 'Google' },
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Uploads `file` as gs://bucket/object; returns the object's metadata as Cloud Storage answers it. */
export async function uploadObject(
  emulatorUrl: string,
  project: string,
  bucket: string,
  object: string,
  file: string,
): Promise<{ generation: string; md5Hash: string; size: string }> {
  const auth = { authorization: `Bearer ${await runnerToken(emulatorUrl)}` };
  await createBucket(emulatorUrl, project, bucket);
  const put = await fetch(`${emulatorUrl}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(object)}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: readFileSync(file),
  });
  if (put.status !== 200) throw new Error(`upload gs://${bucket}/${object}: HTTP ${put.status} ${await put.text()}`);
  return (await put.json()) as { generation: string; md5Hash: string; size: string };
}

/** Makes the bucket (as `gcloud storage buckets create`); one that exists is kept. */
export async function createBucket(emulatorUrl: string, project: string, bucket: string): Promise<void> {
  const made = await fetch(`${emulatorUrl}/storage/v1/b?project=${project}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await runnerToken(emulatorUrl)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: bucket }),
  });
  if (made.status !== 200 && made.status !== 409) throw new Error(`bucket ${bucket}: HTTP ${made.status} ${await made.text()}`);
}
