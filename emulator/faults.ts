// Faults injected on demand (admin API / CLI flags): fail the Nth matching REST call, end the next
// operation of a kind with an operation error, crash the process at a chosen point, LB delay, and
// the IAP relay's own (emulator/iap/faults.ts).
import { ApiError, messageForStatus, reasonForStatus } from './http/errors.ts';
import type { OperationError } from './operations.ts';
import { IapFaults } from './iap/faults.ts';

export interface HttpFailureRule {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Regular expression tested against the request path (without the query). */
  path: string;
  /** Fail the Nth matching call from now on (1 = the next one). */
  nth?: number;
  /** How many consecutive matching calls fail, starting at the Nth (default 1). */
  times?: number;
  status: number;
  reason?: string;
  message?: string;
}

export interface OperationErrorRule {
  operationType: string;
  /** Regular expression on the target's resource path (any target when absent). */
  target?: string;
  code: string;
  message?: string;
  httpStatus?: number;
  /** How many operations end this way (default 1). */
  count?: number;
}

export type CrashPoint = 'beforeWrite' | 'afterWrite';

export interface CrashRule {
  method?: string;
  path: string;
  when: CrashPoint;
}

const KNOWN_OPERATION_ERRORS: Record<string, { httpStatus: number; message: string }> = {
  QUOTA_EXCEEDED: { httpStatus: 403, message: "Quota 'CPUS' exceeded.  Limit: 8.0 in region." },
  ZONE_RESOURCE_POOL_EXHAUSTED: {
    httpStatus: 503,
    message: 'The zone does not have enough resources available to fulfill the request.  Try a different zone, or try again later.',
  },
  RESOURCE_NOT_READY: { httpStatus: 400, message: 'The resource is not ready' },
  INTERNAL_ERROR: { httpStatus: 500, message: 'Internal error. Please try again or contact Google Support.' },
};

export class Faults {
  private httpRules: Array<HttpFailureRule & { seen: number; left: number }> = [];
  private opRules: Array<OperationErrorRule & { left: number }> = [];
  crash: CrashRule | undefined;
  readonly iap = new IapFaults();
  /** Extra ms before a new or changed forwarding rule carries traffic. */
  lbProgrammingDelayMs: number;

  constructor(lbProgrammingDelayMs = 0) {
    this.lbProgrammingDelayMs = lbProgrammingDelayMs;
  }

  addHttpFailure(rule: HttpFailureRule): void {
    new RegExp(rule.path);
    if (!Number.isInteger(rule.status) || rule.status < 400 || rule.status > 599) throw new Error('status must be an HTTP error code');
    this.httpRules.push({ ...rule, seen: 0, left: rule.times ?? 1 });
  }

  /** The injected error for this call, if a rule says so (counts the call against every matching rule). */
  takeHttpFailure(method: string, path: string): ApiError | undefined {
    let hit: ApiError | undefined;
    for (const rule of this.httpRules) {
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (!new RegExp(rule.path).test(path)) continue;
      rule.seen++;
      if (!hit && rule.seen >= (rule.nth ?? 1) && rule.left > 0) {
        rule.left--;
        hit = new ApiError(rule.status, rule.reason ?? reasonForStatus(rule.status), rule.message ?? messageForStatus(rule.status));
      }
    }
    this.httpRules = this.httpRules.filter((r) => r.left > 0);
    return hit;
  }

  addOperationError(rule: OperationErrorRule): void {
    if (rule.target) new RegExp(rule.target);
    this.opRules.push({ ...rule, left: rule.count ?? 1 });
  }

  takeOperationError(operationType: string, targetPath: string): OperationError | undefined {
    const rule = this.opRules.find(
      (r) => r.operationType === operationType && (!r.target || new RegExp(r.target).test(targetPath)) && r.left > 0,
    );
    if (!rule) return undefined;
    rule.left--;
    this.opRules = this.opRules.filter((r) => r.left > 0);
    const known = KNOWN_OPERATION_ERRORS[rule.code];
    return {
      code: rule.code,
      message: rule.message ?? known?.message ?? `Injected operation error ${rule.code}`,
      httpStatus: rule.httpStatus ?? known?.httpStatus ?? 400,
    };
  }

  shouldCrash(method: string, path: string, when: CrashPoint): boolean {
    const c = this.crash;
    return !!c && c.when === when && (!c.method || c.method.toUpperCase() === method) && new RegExp(c.path).test(path);
  }

  describe(): object {
    return {
      httpFailures: this.httpRules,
      operationErrors: this.opRules,
      crash: this.crash ?? null,
      lbProgrammingDelayMs: this.lbProgrammingDelayMs,
      iap: this.iap.describe(),
    };
  }

  clear(): void {
    this.httpRules = [];
    this.opRules = [];
    this.crash = undefined;
    this.iap.clear();
  }
}
