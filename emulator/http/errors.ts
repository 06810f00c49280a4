// Google's error body for Compute v1: {"error":{"code","message","errors":[{message,domain,reason}]}}.
// Clients read `code` and `message`; gcloud also prints `errors[].reason`.

export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export function errorBody(err: ApiError): object {
  return {
    error: {
      code: err.status,
      message: err.message,
      errors: [{ message: err.message, domain: 'global', reason: err.reason }],
    },
  };
}

export const notFound = (path: string): ApiError => new ApiError(404, 'notFound', `The resource '${path}' was not found`);

export const alreadyExists = (path: string): ApiError => new ApiError(409, 'alreadyExists', `The resource '${path}' already exists`);

export const invalid = (message: string): ApiError => new ApiError(400, 'invalid', message);

export const required = (field: string): ApiError => new ApiError(400, 'required', `Required field '${field}' not specified`);

export const conditionNotMet = (message: string): ApiError => new ApiError(412, 'conditionNotMet', message);

export const inUse = (kind: string, path: string, user: string): ApiError =>
  new ApiError(400, 'resourceInUseByAnotherResource', `The ${kind} resource '${path}' is already being used by '${user}'`);

/** Default reason for an injected HTTP failure of a given status. */
export function reasonForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'badRequest';
    case 403:
      return 'forbidden';
    case 404:
      return 'notFound';
    case 409:
      return 'alreadyExists';
    case 412:
      return 'conditionNotMet';
    case 429:
      return 'rateLimitExceeded';
    case 503:
      return 'backendError';
    default:
      return status >= 500 ? 'backendError' : 'invalid';
  }
}

export function messageForStatus(status: number): string {
  if (status === 429) return 'Rate Limit Exceeded';
  if (status === 503) return 'The service is currently unavailable.';
  return `Injected error ${status}`;
}
