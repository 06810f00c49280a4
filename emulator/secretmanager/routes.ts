// Secret Manager v1's REST paths (google.api.http of SecretManagerService) the emulator serves, each
// with the IAM permission Google checks for it and the resource named in a denial.
export type SecretAction =
  'create' | 'list' | 'get' | 'delete' | 'addVersion' | 'listVersions' | 'getVersion' | 'access' | 'getIamPolicy' | 'setIamPolicy';

export interface SecretRoute {
  action: SecretAction;
  project: string;
  secret?: string;
  version?: string;
  permission: string;
  /** The resource a PERMISSION_DENIED names. */
  resource: string;
  /** Changes state (a crash fault may hit it). */
  write: boolean;
}

export const SECRET_MANAGER_PATH = /^\/v1\/projects\/[^/]+\/secrets(?:[/:]|$)/;

const PATHS: Array<{ method: string; pattern: RegExp; action: SecretAction; permission: string; write?: boolean }> = [
  { method: 'GET', pattern: /^\/v1\/projects\/([^/]+)\/secrets$/, action: 'list', permission: 'secretmanager.secrets.list' },
  {
    method: 'POST',
    pattern: /^\/v1\/projects\/([^/]+)\/secrets$/,
    action: 'create',
    permission: 'secretmanager.secrets.create',
    write: true,
  },
  { method: 'GET', pattern: /^\/v1\/projects\/([^/]+)\/secrets\/([^/:]+)$/, action: 'get', permission: 'secretmanager.secrets.get' },
  {
    method: 'DELETE',
    pattern: /^\/v1\/projects\/([^/]+)\/secrets\/([^/:]+)$/,
    action: 'delete',
    permission: 'secretmanager.secrets.delete',
    write: true,
  },
  {
    method: 'POST',
    pattern: /^\/v1\/projects\/([^/]+)\/secrets\/([^/:]+):addVersion$/,
    action: 'addVersion',
    permission: 'secretmanager.versions.add',
    write: true,
  },
  {
    method: 'GET',
    pattern: /^\/v1\/projects\/([^/]+)\/secrets\/([^/:]+):getIamPolicy$/,
    action: 'getIamPolicy',
    permission: 'secretmanager.secrets.getIamPolicy',
  },
  {
    method: 'POST',
    pattern: /^\/v1\/projects\/([^/]+)\/secrets\/([^/:]+):getIamPolicy$/,
    action: 'getIamPolicy',
    permission: 'secretmanager.secrets.getIamPolicy',
  },
  {
    method: 'POST',
    pattern: /^\/v1\/projects\/([^/]+)\/secrets\/([^/:]+):setIamPolicy$/,
    action: 'setIamPolicy',
    permission: 'secretmanager.secrets.setIamPolicy',
    write: true,
  },
  {
    method: 'GET',
    pattern: /^\/v1\/projects\/([^/]+)\/secrets\/([^/:]+)\/versions$/,
    action: 'listVersions',
    permission: 'secretmanager.versions.list',
  },
  {
    method: 'GET',
    pattern: /^\/v1\/projects\/([^/]+)\/secrets\/([^/:]+)\/versions\/([^/:]+)$/,
    action: 'getVersion',
    permission: 'secretmanager.versions.get',
  },
  {
    method: 'GET',
    pattern: /^\/v1\/projects\/([^/]+)\/secrets\/([^/:]+)\/versions\/([^/:]+):access$/,
    action: 'access',
    permission: 'secretmanager.versions.access',
  },
];

/** The route of a request; 'no-path' or 'no-method' when none fits. */
export function matchSecretRoute(method: string, path: string): SecretRoute | 'no-path' | 'no-method' {
  let pathKnown = false;
  for (const p of PATHS) {
    const m = p.pattern.exec(path);
    if (!m) continue;
    pathKnown = true;
    if (p.method !== method) continue;
    const [project, secret, version] = m.slice(1).map((x) => decodeURIComponent(x)) as [string, string | undefined, string | undefined];
    const resource =
      version !== undefined
        ? `projects/${project}/secrets/${secret}/versions/${version}`
        : secret !== undefined
          ? `projects/${project}/secrets/${secret}`
          : `projects/${project}`;
    return {
      action: p.action,
      project,
      permission: p.permission,
      resource,
      write: p.write ?? false,
      ...(secret !== undefined ? { secret } : {}),
      ...(version !== undefined ? { version } : {}),
    };
  }
  return pathKnown ? 'no-method' : 'no-path';
}
