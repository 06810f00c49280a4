// Secret Manager failures, sorted so that callers branch on `kind` and users read what to do.
export type SecretErrorKind =
  | 'notFound'
  | 'alreadyExists'
  | 'aborted'
  | 'permissionDenied'
  | 'unauthenticated'
  | 'disabled'
  | 'invalid'
  | 'unavailable'
  | 'corrupt'
  | 'other';

export class SecretManagerError extends Error {
  readonly kind: SecretErrorKind;
  readonly httpStatus: number | undefined;

  constructor(kind: SecretErrorKind, message: string, httpStatus?: number) {
    super(message);
    this.name = 'SecretManagerError';
    this.kind = kind;
    this.httpStatus = httpStatus;
  }

  /** Failures a repeat of the same request may cure (a policy conflict needs a fresh read first). */
  get retryable(): boolean {
    return this.kind === 'unavailable';
  }
}

export const isSecretNotFound = (e: unknown): boolean => e instanceof SecretManagerError && e.kind === 'notFound';

interface ErrorBody {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<{ '@type'?: string; reason?: string }>;
}

function kindOf(status: number, body: ErrorBody | undefined): SecretErrorKind {
  const reason = body?.details?.find((d) => d['@type']?.endsWith('google.rpc.ErrorInfo'))?.reason;
  if (reason === 'SERVICE_DISABLED') return 'disabled';
  if (status === 404) return 'notFound';
  if (status === 409) return body?.status === 'ABORTED' ? 'aborted' : 'alreadyExists';
  if (status === 403) return 'permissionDenied';
  if (status === 401) return 'unauthenticated';
  if (status === 400) return 'invalid';
  if (status === 429 || status >= 500) return 'unavailable';
  return 'other';
}

/** What the workflow's identity needs for each kind of call (README, IAM table). */
const FIX: Partial<Record<SecretErrorKind, string>> = {
  permissionDenied:
    "Grant the workflow's identity roles/secretmanager.admin on the project (it creates, reads, shares and deletes the cluster's secrets); nothing else needs it",
  unauthenticated: 'Authenticate the job to Google Cloud before this step (google-github-actions/auth)',
  disabled: 'Enable the Secret Manager API: gcloud services enable secretmanager.googleapis.com --project <project>',
};

/** The error of one failed HTTP answer, naming the call (`access projects/p/secrets/x/versions/1`). */
export function secretHttpError(call: string, status: number, text: string): SecretManagerError {
  let body: ErrorBody | undefined;
  try {
    body = (JSON.parse(text) as { error?: ErrorBody }).error;
  } catch {
    body = undefined;
  }
  const kind = kindOf(status, body);
  const said = body?.message ?? text.slice(0, 300);
  const fix = FIX[kind];
  return new SecretManagerError(
    kind,
    `Secret Manager refused to ${call} (HTTP ${status}${said ? `: ${said}` : ''})${fix ? `. ${fix}` : ''}`,
    status,
  );
}
