// The one place where Compute Engine failures are sorted. Everything a call can produce (an HTTP
// status with GCE's JSON error body, no answer at all, no credentials) or a DONE operation's
// `error.errors[]` becomes a GceError whose `kind` the rest of the action branches on.

import type { Operation } from './resources.ts';
import { HttpError, TransportError } from './transport.ts';

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

// Transport failures: the request may not have arrived; repeating it with its requestId is safe.
// `TimeoutError` is our own per-call timeout (transport.ts).
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

/** The `error` of GCE's JSON error body: `{error: {code, message, errors: [{reason}], details: [ErrorInfo]}}`. */
interface ErrorBody {
  code?: number;
  message?: string;
  errors?: { reason?: string; message?: string }[];
  details?: { '@type'?: string; reason?: string; metadata?: Record<string, string> }[];
}

function errorBodyOf(body: unknown): ErrorBody | undefined {
  const error = body !== null && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  return error !== null && typeof error === 'object' ? (error as ErrorBody) : undefined;
}

// google-auth-library's messages when Application Default Credentials are missing or unreadable.
const CREDENTIALS_PROBLEM = /default credentials|GOOGLE_APPLICATION_CREDENTIALS|credential file/i;
const CREDENTIALS_HINT =
  ' (authenticate to Google Cloud before this step, e.g. with google-github-actions/auth, or set compute-endpoint to use an emulator)';

const PERMISSION_IN_MESSAGE = /Required '([a-zA-Z0-9_.]+)' permission/;

/** Sorts any thrown value from a Compute call (see transport.ts) into a GceError that names the call. */
export function toGceError(e: unknown, call: GceCall): GceError {
  if (e instanceof GceError) return e;
  if (e instanceof HttpError) return fromHttpError(e, call);
  if (e instanceof TransportError) {
    const kind = NETWORK_CODES.has(e.code) ? 'unavailable' : 'other';
    return new GceError(message(call, e.message, undefined), {
      kind,
      reason: e.code,
      resource: call.resource,
      detail: e.message,
      cause: e,
    });
  }
  // Anything else failed before a request went out: most often, no credentials.
  const detail = e instanceof Error && e.message !== '' ? e.message : String(e);
  const hint = CREDENTIALS_PROBLEM.test(detail) ? CREDENTIALS_HINT : '';
  return new GceError(message(call, detail, undefined) + hint, { kind: 'other', resource: call.resource, detail, cause: e });
}

function fromHttpError(e: HttpError, call: GceCall): GceError {
  const body = errorBodyOf(e.body);
  const errorInfo = body?.details?.find((d) => d['@type']?.endsWith('google.rpc.ErrorInfo'));
  const legacyReason = body?.errors?.find((x) => typeof x.reason === 'string')?.reason;
  const reason = legacyReason ?? errorInfo?.reason;
  const kind = kindOfReason(legacyReason) ?? kindOfReason(errorInfo?.reason) ?? kindOfHttpStatus(e.status);
  const detail = e.message;
  const permission = kind === 'permissionDenied' ? (errorInfo?.metadata?.permission ?? PERMISSION_IN_MESSAGE.exec(detail)?.[1]) : undefined;
  return new GceError(message(call, detail, permission), {
    kind,
    httpStatus: e.status,
    reason,
    resource: call.resource,
    permission,
    detail,
    cause: e,
  });
}

/** A DONE operation that carries `error.errors[]` becomes a GceError; the first error decides. */
export function operationError(op: Pick<Operation, 'error' | 'httpErrorStatusCode' | 'name'>, call: GceCall): GceError | undefined {
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
