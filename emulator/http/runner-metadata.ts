// The runner's credentials: a GCE metadata server on the Compute API's port, so that Google's ADC
// libraries find a service account when pointed here (GCE_METADATA_HOST=127.0.0.1:<api port>).
// What google-auth-library / gcp-metadata read: GET /computeMetadata/v1/instance (detection: any
// answer carrying `Metadata-Flavor: Google`), instance/service-accounts/default/token
// ({access_token, expires_in, token_type}), .../email, project/project-id. Like GCE, a request
// without `Metadata-Flavor: Google`, or one with X-Forwarded-For, gets 403. The tokens are the
// ones the IAP relay accepts (emulator/iap/tokens.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { projectNumber } from '../project-number.ts';
import type { AccessTokens } from '../iap/tokens.ts';

export interface RunnerIdentity {
  project: string;
  /** The runner's service account. */
  email: string;
  tokens: AccessTokens;
}

export const RUNNER_METADATA_PREFIX = '/computeMetadata/v1/';
const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

/** The answer at one metadata path: text, JSON, or undefined for "no such key". */
function answer(who: RunnerIdentity, path: string, recursive: boolean): string | object | undefined {
  const account = /^instance\/service-accounts\/([^/]+)\/(.*)$/.exec(path);
  if (account) {
    if (account[1] !== 'default' && account[1] !== who.email) return undefined;
    switch (account[2]) {
      case '':
        return recursive ? { aliases: ['default'], email: who.email, scopes: SCOPES } : 'aliases\nemail\nidentity\nscopes\ntoken\n';
      case 'email':
        return who.email;
      case 'aliases':
        return 'default\n';
      case 'scopes':
        return `${SCOPES.join('\n')}\n`;
      case 'token':
        return who.tokens.issueFor(who.email);
      default:
        return undefined; // identity (ID tokens) is not served
    }
  }
  switch (path) {
    case '':
      return 'instance/\nproject/\nuniverse/\n';
    case 'instance':
    case 'instance/':
      return 'service-accounts/\n';
    case 'instance/service-accounts':
    case 'instance/service-accounts/':
      return `default/\n${who.email}/\n`;
    case 'project':
    case 'project/':
      return 'numeric-project-id\nproject-id\n';
    case 'project/project-id':
      return who.project;
    case 'project/numeric-project-id':
      return projectNumber(who.project);
    case 'universe/universe-domain':
      return 'googleapis.com';
    default:
      return undefined;
  }
}

export function serveRunnerMetadata(req: IncomingMessage, res: ServerResponse, who: RunnerIdentity): void {
  const reply = (status: number, body: string | object): void => {
    const json = typeof body !== 'string';
    const text = json ? JSON.stringify(body) : body;
    res.writeHead(status, {
      'Metadata-Flavor': 'Google',
      'Content-Type': json ? 'application/json' : 'application/text',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  if (req.headers['metadata-flavor'] !== 'Google' || req.headers['x-forwarded-for']) {
    return reply(403, 'Your client does not have permission to get URL from this server. Missing Metadata-Flavor:Google header.\n');
  }
  if (req.method !== 'GET') return reply(405, 'Method not allowed\n');
  const url = new URL(req.url ?? '/', 'http://metadata.invalid');
  const path = url.pathname.startsWith(RUNNER_METADATA_PREFIX)
    ? url.pathname.slice(RUNNER_METADATA_PREFIX.length)
    : url.pathname === '/computeMetadata/v1'
      ? ''
      : undefined;
  const body = path === undefined ? undefined : answer(who, path, url.searchParams.get('recursive') === 'true');
  if (body === undefined) return reply(404, 'Not Found\n');
  reply(200, body);
}
