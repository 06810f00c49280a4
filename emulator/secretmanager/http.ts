// Secret Manager v1 over HTTP, on the emulator's API port (and, in every VPC of the Debian runtime,
// at https://secretmanager.googleapis.com): authentication by the emulator's access tokens, the
// IAM decision, faults, and the request log. Every call is logged (method, path, status) like a
// Compute call; a payload never is: neither request nor response bodies reach the log.
import type { RequestLogEntry } from '../admin.ts';
import type { Faults } from '../faults.ts';
import type { AccessTokens } from '../iap/tokens.ts';
import { bearerToken } from '../iap/tokens.ts';
import { invalidArgument, permissionDenied, RpcError, rpcStatusOf } from './errors.ts';
import { EMPTY_POLICY, policyGrants } from './iam.ts';
import { matchSecretRoute, type SecretRoute } from './routes.ts';
import type { SecretManagerService } from './service.ts';
import { projectNumber } from '../project-number.ts';

export interface SecretManagerDeps {
  service: SecretManagerService;
  tokens: AccessTokens;
  /** The project owner's principal (the runner's service account): may do everything. */
  owner: string;
  /** The runner's project (a project number may name it before it holds a secret). */
  ownerProject: string;
  faults: Faults;
  requests: RequestLogEntry[];
  log: (line: string) => void;
  crash: (why: string) => never;
}

const CREDENTIALS_HELP =
  'Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

/** Who calls: the principal of a valid token, else UNAUTHENTICATED. */
function principalOf(deps: SecretManagerDeps, authorization: string | undefined): string {
  const token = bearerToken(authorization);
  if (!token) throw new RpcError('UNAUTHENTICATED', `Request is missing required authentication credential. ${CREDENTIALS_HELP}`);
  const verified = deps.tokens.verify(token);
  if (verified.state !== 'valid' || !verified.principal) {
    throw new RpcError(
      'UNAUTHENTICATED',
      `Request had invalid authentication credentials (${verified.state === 'expired' ? 'the access token has expired' : 'not a token this emulator issued'}). ${CREDENTIALS_HELP}`,
    );
  }
  return verified.principal;
}

/** Google accepts a project's number where its id goes: the id of a known project with that number. */
function projectIdOf(deps: SecretManagerDeps, given: string): string {
  if (!/^\d+$/.test(given)) return given;
  return [...deps.service.projects(), deps.ownerProject].find((p) => projectNumber(p) === given) ?? given;
}

/** The owner may do everything; anyone else only what a binding on the secret itself grants. */
function authorize(deps: SecretManagerDeps, route: SecretRoute, principal: string): void {
  if (principal === deps.owner) return;
  const member = `${principal.endsWith('.gserviceaccount.com') ? 'serviceAccount' : 'user'}:${principal}`;
  const policy = route.secret !== undefined ? (deps.service.policyOf(route.project, route.secret) ?? EMPTY_POLICY) : EMPTY_POLICY;
  if (!policyGrants(policy, member, route.permission)) throw permissionDenied(route.permission, route.resource);
}

function parseBody(raw: string): unknown {
  if (raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw invalidArgument('Invalid JSON payload received. The body is not JSON.');
  }
}

function dispatch(service: SecretManagerService, route: SecretRoute, query: URLSearchParams, body: unknown): object {
  const { project } = route;
  const secret = route.secret as string;
  const version = route.version as string;
  switch (route.action) {
    case 'create':
      return service.create(project, query.get('secretId'), body);
    case 'list':
      return service.list(project, query);
    case 'get':
      return service.get(project, secret);
    case 'delete':
      return service.delete(project, secret, query.get('etag'));
    case 'addVersion':
      return service.addVersion(project, secret, body);
    case 'listVersions':
      return service.listVersions(project, secret, query);
    case 'getVersion':
      return service.getVersion(project, secret, version);
    case 'access':
      return service.access(project, secret, version);
    case 'getIamPolicy':
      return service.getIamPolicy(project, secret);
    case 'setIamPolicy':
      return service.setIamPolicy(project, secret, body);
  }
}

export async function serveSecretManager(
  deps: SecretManagerDeps,
  method: string,
  url: URL,
  authorization: string | undefined,
  rawBody: string,
): Promise<{ status: number; body: object }> {
  const path = url.pathname;
  let status = 500;
  try {
    const matched = matchSecretRoute(method, path);
    if (matched === 'no-path')
      throw new RpcError(
        'NOT_FOUND',
        `The requested URL ${path} was not found on this server (the emulator serves Secret Manager under /v1/projects/PROJECT/secrets).`,
      );
    if (matched === 'no-method') throw new RpcError('NOT_FOUND', `HTTP method ${method} is not served at ${path}.`);
    const route = { ...matched, project: projectIdOf(deps, matched.project) };
    const principal = principalOf(deps, authorization);
    const injected = deps.faults.takeHttpFailure(method, path);
    if (injected) throw new RpcError(rpcStatusOf(injected.status), injected.message);
    authorize(deps, route, principal);
    if (route.write && deps.faults.shouldCrash(method, path, 'beforeWrite')) deps.crash(`crash before ${method} ${path}`);
    const out = dispatch(deps.service, route, url.searchParams, parseBody(rawBody));
    if (route.write && deps.faults.shouldCrash(method, path, 'afterWrite')) deps.crash(`crash after ${method} ${path}`);
    status = 200;
    return { status, body: out };
  } catch (e) {
    let err: RpcError;
    if (e instanceof RpcError) err = e;
    else {
      deps.log(`internal error on ${method} ${path}: ${(e as Error).stack ?? e}`);
      err = new RpcError('INTERNAL', 'Internal error encountered.');
    }
    status = err.httpStatus;
    return { status, body: err.body() };
  } finally {
    deps.requests.push({ method, path, status, time: new Date().toISOString() });
    if (deps.requests.length > 100_000) deps.requests.splice(0, deps.requests.length - 100_000);
  }
}
