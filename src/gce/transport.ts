// The one way the adapter talks to Compute Engine: JSON over HTTPS with `fetch`, one call per
// request, no retries of its own (calls.ts retries, so that every failure is seen and logged once).
// A failed call throws an HttpError (the server answered with a status) or a TransportError (no
// answer: refused, reset, timed out); errors.ts sorts both.

export interface RestRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path under `compute/v1/`, e.g. `projects/p/global/httpHealthChecks`. */
  path: string;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | undefined>;
  /** The resource, sent as JSON; absent: no body (GET, DELETE, and POSTs such as `wait`). */
  body?: unknown;
  timeoutMs: number;
}

export type Rest = <T>(req: RestRequest) => Promise<T>;

/** Headers that authorise one request to `url`; none for an emulator. */
export type AuthHeaders = (url: string) => Promise<Headers | Record<string, string>>;

/** The server answered with a status that is not 2xx. */
export class HttpError extends Error {
  readonly status: number;
  /** The body, parsed when it is JSON (GCE's `{error: {...}}`), else its text. */
  readonly body: unknown;

  constructor(status: number, body: unknown) {
    const error = (body as { error?: { message?: unknown } } | undefined)?.error;
    const text = typeof error?.message === 'string' ? error.message : typeof body === 'string' && body !== '' ? body : `HTTP ${status}`;
    super(text);
    this.name = 'HttpError';
    this.status = status;
    this.body = body;
  }
}

/** No answer: the request may or may not have reached the server. `code` is e.g. ECONNREFUSED or TimeoutError. */
export class TransportError extends Error {
  readonly code: string;

  constructor(message: string, code: string, cause: unknown) {
    super(message, { cause });
    this.name = 'TransportError';
    this.code = code;
  }
}

function queryString(query: RestRequest['query']): string {
  const parts = Object.entries(query ?? {})
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    // %20 rather than URLSearchParams' `+`, as Google's own clients encode filters.
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

// undici puts the socket's error code on `cause` (or on an AggregateError of several addresses).
function networkCode(err: unknown): string | undefined {
  for (let cur: unknown = err, depth = 0; cur !== null && typeof cur === 'object' && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A Rest function on `base` (`https://compute.googleapis.com/compute/v1/` or an emulator's). */
export function createRest(base: string, authHeaders: AuthHeaders): Rest {
  return async <T>(req: RestRequest): Promise<T> => {
    const url = base + req.path + queryString(req.query);
    const headers = new Headers(await authHeaders(url));
    headers.set('accept', 'application/json');
    if (req.body !== undefined) headers.set('content-type', 'application/json');
    let text: string;
    let status: number;
    try {
      // The deadline covers the whole exchange, body included.
      const res = await fetch(url, {
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: AbortSignal.timeout(req.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if ((err as { name?: unknown }).name === 'TimeoutError') {
        throw new TransportError(`no answer within ${req.timeoutMs} ms`, 'TimeoutError', err);
      }
      const code = networkCode(err) ?? 'FETCH_FAILED';
      const detail = (err as { cause?: { message?: unknown } }).cause?.message;
      throw new TransportError(typeof detail === 'string' ? detail : (err as Error).message, code, err);
    }
    const body = parseBody(text);
    if (status < 200 || status > 299) throw new HttpError(status, body);
    // Every Compute method answers with a resource or an Operation. Anything else (a proxy's page,
    // nothing) must not be read as an empty list or a missing resource.
    if (body === null || typeof body !== 'object') {
      const shown = text === '' ? 'an empty body' : `${JSON.stringify(text.slice(0, 120))}${text.length > 120 ? '...' : ''}`;
      throw new TransportError(
        `HTTP ${status} with ${shown} instead of a JSON object: is compute-endpoint a Compute API?`,
        'NOT_JSON',
        undefined,
      );
    }
    return body as T;
  };
}
