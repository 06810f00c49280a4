// The one place where Compute Engine failures are sorted. Everything the client library (GoogleError
// from google-gax 6, GaxiosError from raw REST calls, network errors) or a DONE operation's
// `error.errors[]` can produce becomes a GceError whose `kind` the rest of the action branches on.

export type GceErrorKind =
  | 'notFound'
  | 'alreadyExists'
  | 'conditionNotMet'
  | 'resourceInUse'
  | 'rateLimited'
  | 'quota'
  | 'unavailable'
  | 'invalid'
  | 'permissionDenied'
  | 'other';

/** What a failed call was about, for the message: "failed to <verb> <what> <resource>". */
export interface GceCall {
  /** e.g. `insert`, `get`, `set metadata of` */
  verb: string;
  /** e.g. `instance`, `address` */
  what: string;
  /** e.g. `projects/p/zones/z/instances/x` */
  resource: string;
}

export interface GceErrorFields {
  kind: GceErrorKind;
  httpStatus?: number;
  reason?: string;
  resource: string;
  /** IAM permission GCE named as missing, when it did. */
  permission?: string;
  /** GCE's own message. */
  detail: string;
  cause?: unknown;
}

export class GceError extends Error {
  readonly kind: GceErrorKind;
  readonly httpStatus: number | undefined;
  readonly reason: string | undefined;
  readonly resource: string;
  readonly permission: string | undefined;
  readonly detail: string;

  constructor(message: string, fields: GceErrorFields) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'GceError';
    this.kind = fields.kind;
    this.httpStatus = fields.httpStatus;
    this.reason = fields.reason;
    this.resource = fields.resource;
    this.permission = fields.permission;
    this.detail = fields.detail;
  }
}

export function isGceError(e: unknown): e is GceError {
  return e instanceof GceError;
}
export function isNotFound(e: unknown): boolean {
  return e instanceof GceError && e.kind === 'notFound';
}
export function isAlreadyExists(e: unknown): boolean {
  return e instanceof GceError && e.kind === 'alreadyExists';
}
/** Failures a repeated identical request (same requestId) may cure. */
export function isRetryable(e: unknown): boolean {
  return e instanceof GceError && (e.kind === 'rateLimited' || e.kind === 'unavailable');
}

// Legacy `errors[].reason` values of the REST API and `ErrorInfo.reason` values, case-folded.
const REASON_KINDS: Record<string, GceErrorKind> = {
  notfound: 'notFound',
  resource_not_found: 'notFound',
  alreadyexists: 'alreadyExists',
  already_exists: 'alreadyExists',
  resource_already_exists: 'alreadyExists',
  conditionnotmet: 'conditionNotMet',
  condition_not_met: 'conditionNotMet',
  resourceinusebyanotherresource: 'resourceInUse',
  resource_in_use_by_another_resource: 'resourceInUse',
  ratelimitexceeded: 'rateLimited',
  userratelimitexceeded: 'rateLimited',
  rate_limit_exceeded: 'rateLimited',
  quotaexceeded: 'quota',
  quota_exceeded: 'quota',
  // Operation errors only (never retried there): the zone has no capacity for the VM now.
  zone_resource_pool_exhausted: 'unavailable',
  zone_resource_pool_exhausted_with_details: 'unavailable',
  forbidden: 'permissionDenied',
  iam_permission_denied: 'permissionDenied',
  insufficientpermissions: 'permissionDenied',
  invalid: 'invalid',
  badrequest: 'invalid',
  required: 'invalid',
  invalid_field_value: 'invalid',
  invalid_usage: 'invalid',
};

// gRPC status codes google-gax puts in `.code` when it has no HTTP status.
const GRPC_KINDS: Record<number, GceErrorKind> = {
  3: 'invalid', // INVALID_ARGUMENT
  4: 'unavailable', // DEADLINE_EXCEEDED: our per-call timeout; a retry with the same requestId is safe
  5: 'notFound',
  6: 'alreadyExists',
  7: 'permissionDenied',
  8: 'rateLimited', // RESOURCE_EXHAUSTED
  9: 'conditionNotMet', // FAILED_PRECONDITION
  14: 'unavailable',
};

// Transport failures: the request may not have arrived; repeating it with its requestId is safe.
// `TimeoutError` is gaxios's code for its own client-side timeout.
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'TimeoutError']);

function kindOfHttpStatus(status: number): GceErrorKind {
  if (status === 404) return 'notFound';
  if (status === 409) return 'alreadyExists';
  if (status === 412) return 'conditionNotMet';
  if (status === 429) return 'rateLimited';
  if (status === 503) return 'unavailable';
  if (status === 403 || status === 401) return 'permissionDenied';
  if (status === 400) return 'invalid';
  return 'other';
}

function kindOfReason(reason: string | undefined): GceErrorKind | undefined {
  return reason === undefined ? undefined : REASON_KINDS[reason.toLowerCase()];
}

interface ErrorBody {
  code?: number;
  message?: string;
  errors?: { reason?: string; message?: string }[];
  details?: { '@type'?: string; reason?: string; metadata?: Record<string, string> }[];
}

function parseErrorBody(raw: unknown): ErrorBody | undefined {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (value === null || typeof value !== 'object') return undefined;
  const error = (value as { error?: unknown }).error;
  return error !== null && typeof error === 'object' ? (error as ErrorBody) : undefined;
}

// google-gax keeps the undecoded response body under this registered symbol; gaxios keeps it in
// `response.data` (when it parsed JSON) or in the message (401/403 wrapped as `.cause`).
const RAW_PAYLOAD = Symbol.for('google-gax.rawHttpResponsePayload');

function findErrorBody(e: unknown): ErrorBody | undefined {
  for (let cur: unknown = e, depth = 0; cur !== null && typeof cur === 'object' && depth < 4; depth++) {
    const o = cur as Record<string | symbol, unknown>;
    const found =
      parseErrorBody(o[RAW_PAYLOAD]) ??
      parseErrorBody((o.response as { data?: unknown } | undefined)?.data) ??
      parseErrorBody(o.message);
    if (found) return found;
    cur = o.cause;
  }
  return undefined;
}

function numberProp(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'number' ? v : undefined;
}

// google-auth-library's messages when Application Default Credentials are missing or unreadable.
const CREDENTIALS_PROBLEM = /default credentials|GOOGLE_APPLICATION_CREDENTIALS|credential file/i;
const CREDENTIALS_HINT =
  ' (authenticate to Google Cloud before this step, e.g. with google-github-actions/auth, or set compute-endpoint to use an emulator)';

const PERMISSION_IN_MESSAGE = /Required '([a-zA-Z0-9_.]+)' permission/;

/** Sorts any thrown value from a Compute call into a GceError that names the call. */
export function toGceError(e: unknown, call: GceCall): GceError {
  if (e instanceof GceError) return e;
  const o: Record<string, unknown> = e !== null && typeof e === 'object' ? (e as Record<string, unknown>) : {};
  const body = findErrorBody(e);
  const httpStatus =
    numberProp(o, 'httpStatusCode') ?? numberProp(o, 'status') ?? (typeof body?.code === 'number' ? body.code : undefined);
  const errorInfo = body?.details?.find((d) => d['@type']?.endsWith('google.rpc.ErrorInfo'));
  const legacyReason = body?.errors?.find((x) => typeof x.reason === 'string')?.reason;
  const infoReason = typeof o.reason === 'string' ? o.reason : errorInfo?.reason;
  const reason = legacyReason ?? infoReason;
  const code = o.code;

  let kind = kindOfReason(legacyReason) ?? kindOfReason(infoReason);
  if (kind === undefined && httpStatus !== undefined) kind = kindOfHttpStatus(httpStatus);
  if (kind === undefined && typeof code === 'number') kind = GRPC_KINDS[code];
  if (kind === undefined && typeof code === 'string' && NETWORK_CODES.has(code)) kind = 'unavailable';
  if (kind === undefined && o.name === 'AbortError') kind = 'unavailable';
  kind ??= 'other';

  const detail = body?.message ?? (typeof o.message === 'string' && o.message !== '' ? o.message : String(e));
  const metadata = (o.errorInfoMetadata as Record<string, string> | undefined) ?? errorInfo?.metadata;
  const permission =
    kind === 'permissionDenied' ? (metadata?.permission ?? PERMISSION_IN_MESSAGE.exec(detail)?.[1]) : undefined;
  const hint = httpStatus === undefined && CREDENTIALS_PROBLEM.test(detail) ? CREDENTIALS_HINT : '';
  return new GceError(message(call, detail, permission) + hint, {
    kind,
    httpStatus,
    reason: reason ?? (typeof code === 'string' ? code : undefined),
    resource: call.resource,
    permission,
    detail,
    cause: e,
  });
}

/** The `error` of a DONE Operation, as the REST API returns it. */
export interface OperationFailure {
  errors?: { code?: string | null; message?: string | null }[] | null;
}

/** A DONE operation that carries `error.errors[]` becomes a GceError; the first error decides. */
export function operationError(
  op: { error?: OperationFailure | null; httpErrorStatusCode?: number | null; name?: string | null },
  call: GceCall,
): GceError | undefined {
  const errors = op.error?.errors ?? [];
  if (errors.length === 0) return undefined;
  const first = errors[0]!;
  const reason = first.code ?? undefined;
  const detail = errors.map((x) => x.message ?? x.code ?? 'unknown error').join('; ');
  const httpStatus = op.httpErrorStatusCode ?? undefined;
  const kind = kindOfReason(reason) ?? (httpStatus !== undefined ? kindOfHttpStatus(httpStatus) : 'other');
  const permission = kind === 'permissionDenied' ? PERMISSION_IN_MESSAGE.exec(detail)?.[1] : undefined;
  return new GceError(message(call, `${detail} (operation ${op.name ?? '?'})`, permission), {
    kind,
    httpStatus,
    reason,
    resource: call.resource,
    permission,
    detail,
  });
}

function message(call: GceCall, detail: string, permission: string | undefined): string {
  const hint = permission ? ` (the caller needs IAM permission ${permission})` : '';
  return `failed to ${call.verb} ${call.what} ${call.resource}: ${detail}${hint}`;
}
