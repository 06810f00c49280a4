// What can go wrong reaching a VM through IAP, in words that name the fix. `kind` lets the transport
// tell a run-ending problem (credentials, permission) from a port that is not up yet.
import { AUTHENTICATE_FIX } from '../auth/adc.ts';

export type IapProblem = 'credentials' | 'permission' | 'not-found' | 'unreachable' | 'relay';

export class IapError extends Error {
  readonly kind: IapProblem;
  /** What went wrong, and what to do about it (empty when nothing but a retry helps). */
  readonly problem: string;
  readonly fix: string;

  constructor(kind: IapProblem, problem: string, fix = '') {
    super(fix ? `${problem}. ${fix}` : problem);
    this.name = 'IapError';
    this.kind = kind;
    this.problem = problem;
    this.fix = fix;
  }

  /** Problems no retry can mend: the run should stop and say so. */
  get fatal(): boolean {
    return this.kind === 'credentials' || this.kind === 'permission';
  }
}

export interface IapWhere {
  project: string;
  zone: string;
  instance: string;
  port: number;
}

const at = (w: IapWhere): string => `${w.instance} (zone ${w.zone}) port ${w.port}`;

const PERMISSION_FIX =
  'Grant it roles/iap.tunnelResourceAccessor (IAP-secured Tunnel User), or set transport: direct on a self-hosted runner inside the VPC';

/** A handshake the relay answered with an HTTP status instead of switching protocols. */
export function handshakeError(status: number, w: IapWhere, detail: string): IapError {
  const said = detail ? `: ${detail}` : '';
  if (status === 401) {
    return new IapError('credentials', `the IAP relay did not accept the runner's access token (HTTP 401${said})`, AUTHENTICATE_FIX);
  }
  if (status === 403) {
    return new IapError(
      'permission',
      `IAP refused a tunnel to ${at(w)} (HTTP 403${said}): the workflow's identity lacks the permission iap.tunnelInstances.accessViaIAP in project ${w.project}`,
      PERMISSION_FIX,
    );
  }
  if (status === 404) return new IapError('not-found', `IAP found no instance ${at(w)} in project ${w.project} (HTTP 404${said})`);
  return new IapError('relay', `the IAP relay answered HTTP ${status} for ${at(w)}${said}`);
}

/** The relay closed the WebSocket before or instead of carrying the session. */
export function closeError(code: number, reason: string, w: IapWhere): IapError {
  const said = reason ? ` "${reason}"` : '';
  if (code === 4003) {
    return new IapError(
      'unreachable',
      `IAP could not connect to ${at(w)} (close 4003${said}): nothing listens there yet, or no firewall rule lets IAP's range 35.235.240.0/20 in on tcp ${w.port}`,
    );
  }
  // IAP checks IAM and resolves the instance after the upgrade too, and says so with a close code.
  if (code === 4033) {
    return new IapError(
      'permission',
      `IAP refused a tunnel to ${at(w)} (close 4033 "not authorized"${said}): the workflow's identity lacks the permission iap.tunnelInstances.accessViaIAP in project ${w.project}`,
      PERMISSION_FIX,
    );
  }
  if (code === 4047 || code === 4051) {
    return new IapError('not-found', `IAP found no instance ${at(w)} in project ${w.project} (close ${code}${said})`);
  }
  return new IapError('relay', `the IAP relay closed the tunnel to ${at(w)} with code ${code}${said}`);
}
