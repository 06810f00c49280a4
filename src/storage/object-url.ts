// `gs://bucket/object`, the form gcloud and every Google tool print: the snapshot `restore-from` names.
// Pure: bucket names as Cloud Storage allows them, object names without `#`, `?` or control characters
// (a generation or a query would be silently dropped by the VM's download otherwise).

export interface ObjectRef {
  bucket: string;
  object: string;
}

export const objectUrl = (ref: ObjectRef): string => `gs://${ref.bucket}/${ref.object}`;

/** The object a `gs://` URL names, or why the text is not one. */
export function parseObjectUrl(text: string): ObjectRef | { problem: string } {
  const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(text.trim());
  if (!m) return { problem: `${JSON.stringify(text)} is not a gs://bucket/object URL` };
  const [, bucket, object] = m as unknown as [string, string, string];
  if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
    return { problem: `${JSON.stringify(bucket)} is not a Cloud Storage bucket name (lower-case letters, digits, '-', '_', '.')` };
  }
  // eslint-disable-next-line no-control-regex
  if (/[#?\u0000-\u001f\u007f]/.test(object) || object.endsWith('/') || Buffer.byteLength(object) > 1024) {
    return {
      problem: `${JSON.stringify(object)} is not an object name this action accepts (no '#', '?', control characters or trailing '/')`,
    };
  }
  return { bucket, object };
}

/** `gs://bucket` or `gs://bucket/prefix/`: where objects are written under a name of the writer's; undefined when the text is no gs:// URL. */
export function parsePrefixUrl(text: string): { bucket: string; prefix: string } | { problem: string } | undefined {
  const m = /^gs:\/\/([^/]+)(?:\/(.*))?$/.exec(text.trim());
  if (!m) return undefined;
  const bucket = m[1]!;
  const rest = m[2] ?? '';
  const prefix = rest === '' || rest.endsWith('/') ? rest : `${rest}/`;
  const probe = parseObjectUrl(`gs://${bucket}/${prefix}x`);
  return 'problem' in probe ? probe : { bucket, prefix };
}
