// Google's error body for Secret Manager (and the other gRPC-transcoded APIs):
// {"error":{"code":404,"message":"...","status":"NOT_FOUND"}}. Clients read `code` (HTTP) and
// `status` (the canonical gRPC code's name); gcloud prints `message`.

const HTTP_STATUS = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
} as const;

export type RpcStatus = keyof typeof HTTP_STATUS;

export class RpcError extends Error {
  readonly status: RpcStatus;
  constructor(status: RpcStatus, message: string) {
    super(message);
    this.status = status;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.status];
  }

  body(): object {
    return { error: { code: this.httpStatus, message: this.message, status: this.status } };
  }
}

/** The canonical status Google sends with an HTTP status (for faults injected by HTTP status). */
export function rpcStatusOf(httpStatus: number): RpcStatus {
  const byCode: Record<number, RpcStatus> = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    409: 'ABORTED',
    429: 'RESOURCE_EXHAUSTED',
    501: 'UNIMPLEMENTED',
    503: 'UNAVAILABLE',
  };
  return byCode[httpStatus] ?? 'INTERNAL';
}

export const invalidArgument = (message: string): RpcError => new RpcError('INVALID_ARGUMENT', message);

export const permissionDenied = (permission: string, resource: string): RpcError =>
  new RpcError('PERMISSION_DENIED', `Permission '${permission}' denied for resource '${resource}' (or it may not exist).`);
