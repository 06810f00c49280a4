// Cloud Storage failures, sorted so that the user reads what to grant or fix.
export type StorageErrorKind = 'notFound' | 'permissionDenied' | 'unauthenticated' | 'unavailable' | 'other';

export class StorageError extends Error {
  readonly kind: StorageErrorKind;
  constructor(kind: StorageErrorKind, message: string) {
    super(message);
    this.name = 'StorageError';
    this.kind = kind;
  }
  get retryable(): boolean {
    return this.kind === 'unavailable';
  }
}

const FIX: Partial<Record<StorageErrorKind, string>> = {
  notFound: 'check the bucket and object name (gcloud storage ls gs://<bucket>/)',
  unauthenticated: 'authenticate the job to Google Cloud before this step (google-github-actions/auth)',
};

/** What a refused call needs: reading a snapshot to restore, writing one, or pruning old ones. */
export type StorageNeed = 'read' | 'write' | 'prune';

const GRANT: Record<StorageNeed, string> = {
  read: "grant the workflow's identity and the masters' service account roles/storage.objectViewer on the bucket (the new master downloads the snapshot itself)",
  write: "grant the workflow's identity roles/storage.objectCreator on the bucket",
  prune:
    "grant the workflow's identity roles/storage.objectAdmin on the bucket (etcd-snapshot-keep lists and deletes), or drop etcd-snapshot-keep and prune with the bucket's lifecycle rules",
};

/** The error of one failed HTTP answer, naming what was asked (`read gs://b/o`) and, when refused, what to grant. */
export function storageHttpError(what: string, status: number, text: string, need: StorageNeed = 'read'): StorageError {
  let said = text.slice(0, 300);
  try {
    said = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? said;
  } catch {
    /* not JSON: keep the text */
  }
  const kind: StorageErrorKind =
    status === 404
      ? 'notFound'
      : status === 403
        ? 'permissionDenied'
        : status === 401
          ? 'unauthenticated'
          : status === 429 || status >= 500
            ? 'unavailable'
            : 'other';
  const fix = kind === 'permissionDenied' ? GRANT[need] : FIX[kind];
  return new StorageError(kind, `Cloud Storage refused to ${what} (HTTP ${status}${said ? `: ${said}` : ''})${fix ? `; ${fix}` : ''}`);
}
