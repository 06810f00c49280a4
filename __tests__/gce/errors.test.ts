// Error normalisation of real failures: the adapter talking to a canned HTTP server that answers with
// GCE's JSON error bodies (HTTP status, legacy `errors[].reason`, ErrorInfo details), with bodies that
// are not JSON, or not at all; plus DONE operations carrying errors.

import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createComputeApi, type ComputeApiHandle } from '../../src/gce/client.ts';
import { GceError, isAlreadyExists, isNotFound, operationError, toGceError } from '../../src/gce/errors.ts';
import { googleError, startCannedServer, type CannedServer } from './canned-server.ts';
import { healthCheck, INSTANCE } from './fixtures/specs.ts';

let server: CannedServer;
let api: ComputeApiHandle;

beforeAll(async () => {
  server = await startCannedServer();
  // One attempt: these tests look at the shape of a single failure, not at retries.
  api = createComputeApi({ project: 'p', endpoint: server.url, retry: { attempts: 1 }, pollIntervalMs: 1 });
});
afterEach(() => {
  server.seen.length = 0;
});
afterAll(async () => {
  await api.close();
  await server.stop();
});

async function failure(p: Promise<unknown>): Promise<GceError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(GceError);
    return e as GceError;
  }
  throw new Error('expected a failure');
}

describe("HTTP errors with GCE's JSON error body", () => {
  it('409 alreadyExists on insert names the call and the resource', async () => {
    server.reply(googleError(409, "The resource 'projects/p/zones/z1-a/instances/vm' already exists", 'alreadyExists'));
    const e = await failure(api.insertInstance(INSTANCE));
    expect(e.kind).toBe('alreadyExists');
    expect(e.httpStatus).toBe(409);
    expect(e.reason).toBe('alreadyExists');
    expect(e.resource).toBe('projects/p/zones/z1-a/instances/vm');
    expect(e.message).toBe(
      "failed to insert instance projects/p/zones/z1-a/instances/vm: The resource 'projects/p/zones/z1-a/instances/vm' already exists",
    );
    expect(isAlreadyExists(e)).toBe(true);
    expect(isNotFound(e)).toBe(false);
    expect(server.seen[0]).toMatch(/^POST \/compute\/v1\/projects\/p\/zones\/z1-a\/instances\?requestId=[0-9a-f-]{36}$/);
  });

  it('404 on a get is undefined, on a delete a notFound GceError', async () => {
    server.reply(googleError(404, "The resource 'projects/p/regions/r1/addresses/a' was not found", 'notFound'));
    await expect(api.getAddress('r1', 'a')).resolves.toBeUndefined();
    server.reply(googleError(404, "The resource 'projects/p/regions/r1/addresses/a' was not found", 'notFound'));
    const e = await failure(api.deleteAddress('r1', 'a'));
    expect([e.kind, e.httpStatus, e.reason, e.resource]).toEqual(['notFound', 404, 'notFound', 'projects/p/regions/r1/addresses/a']);
    expect(isNotFound(e)).toBe(true);
  });

  it('412 conditionNotMet on a stale metadata fingerprint', async () => {
    server.reply(googleError(412, 'Supplied fingerprint does not match current metadata fingerprint.', 'conditionNotMet'));
    const e = await failure(api.setInstanceMetadata('z1-a', 'vm', { a: 'b' }, 'stale'));
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['conditionNotMet', 412, 'conditionNotMet']);
    expect(e.message).toBe(
      'failed to set metadata of instance projects/p/zones/z1-a/instances/vm: Supplied fingerprint does not match current metadata fingerprint.',
    );
  });

  it('400 resourceInUseByAnotherResource is resourceInUse, not invalid', async () => {
    server.reply(
      googleError(
        400,
        "The address resource 'projects/p/regions/r1/addresses/a' is already being used by 'x'",
        'resourceInUseByAnotherResource',
      ),
    );
    const e = await failure(api.deleteAddress('r1', 'a'));
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['resourceInUse', 400, 'resourceInUseByAnotherResource']);
  });

  it('400 invalid stays invalid', async () => {
    server.reply(googleError(400, "Invalid value for field 'resource.name': 'X'.", 'invalid'));
    const e = await failure(api.insertFirewall({ name: 'X', network: 'default', description: '', allowed: [], targetTags: [] }));
    expect([e.kind, e.httpStatus, e.reason, e.resource]).toEqual(['invalid', 400, 'invalid', 'projects/p/global/firewalls/X']);
  });

  it('403 with an ErrorInfo names the missing IAM permission', async () => {
    server.reply(
      googleError(403, "Required 'compute.instances.create' permission for 'projects/p/zones/z1-a/instances/vm'", 'forbidden', [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'IAM_PERMISSION_DENIED',
          domain: 'compute.googleapis.com',
          metadata: { permission: 'compute.instances.create' },
        },
      ]),
    );
    const e = await failure(api.insertInstance(INSTANCE));
    expect([e.kind, e.httpStatus, e.reason, e.permission]).toEqual(['permissionDenied', 403, 'forbidden', 'compute.instances.create']);
    expect(e.message).toBe(
      "failed to insert instance projects/p/zones/z1-a/instances/vm: Required 'compute.instances.create' permission for " +
        "'projects/p/zones/z1-a/instances/vm' (the caller needs IAM permission compute.instances.create)",
    );
  });

  it('403 without details still names the permission from the message', async () => {
    server.reply(googleError(403, "Required 'compute.firewalls.delete' permission for 'projects/p/global/firewalls/f'", 'forbidden'));
    const e = await failure(api.deleteFirewall('f'));
    expect([e.kind, e.permission]).toEqual(['permissionDenied', 'compute.firewalls.delete']);
  });

  it('403 rateLimitExceeded is a rate limit, not a permission problem', async () => {
    server.reply(googleError(403, 'Rate Limit Exceeded', 'rateLimitExceeded'));
    const e = await failure(api.getFirewall('f'));
    expect([e.kind, e.httpStatus, e.reason, e.permission]).toEqual(['rateLimited', 403, 'rateLimitExceeded', undefined]);
  });

  it('a reason given only as ErrorInfo (no legacy errors[]) decides the kind', async () => {
    server.reply(
      googleError(403, 'Quota exceeded for quota metric Queries', undefined, [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'RATE_LIMIT_EXCEEDED',
          domain: 'googleapis.com',
          metadata: { service: 'compute.googleapis.com' },
        },
      ]),
    );
    const e = await failure(api.getInstance('z1-a', 'vm'));
    expect([e.kind, e.httpStatus, e.reason, e.permission]).toEqual(['rateLimited', 403, 'RATE_LIMIT_EXCEEDED', undefined]);
  });

  it('403 quotaExceeded is quota', async () => {
    server.reply(googleError(403, "Quota 'IN_USE_ADDRESSES' exceeded. Limit: 8.0 in region r1.", 'quotaExceeded'));
    const e = await failure(api.insertAddress('r1', 'a', {}));
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['quota', 403, 'quotaExceeded']);
  });

  it('429 is rateLimited and 503 unavailable', async () => {
    server.reply(googleError(429, 'Rate Limit Exceeded', 'rateLimitExceeded'));
    const a = await failure(api.listZones());
    expect([a.kind, a.httpStatus, a.reason, a.resource]).toEqual(['rateLimited', 429, 'rateLimitExceeded', 'projects/p/zones']);
    server.reply(googleError(503, 'Backend Error', 'backendError'));
    const b = await failure(api.getTargetPool('r1', 'tp'));
    expect([b.kind, b.httpStatus, b.reason]).toEqual(['unavailable', 503, 'backendError']);
  });

  it('a 500 with a body that is not JSON is other, with its status', async () => {
    server.reply({ status: 500, body: 'upstream exploded' });
    const e = await failure(api.getForwardingRule('r1', 'fr'));
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['other', 500, undefined]);
    expect(e.message).toContain('failed to get forwarding rule projects/p/regions/r1/forwardingRules/fr: ');
    expect(e.message).toContain('upstream exploded');
  });
});

describe('HTTP errors of the legacy HTTP health checks', () => {
  it('404 on get is undefined', async () => {
    server.reply(googleError(404, "The resource 'projects/p/global/httpHealthChecks/hc' was not found", 'notFound'));
    await expect(api.getHttpHealthCheck('hc')).resolves.toBeUndefined();
    expect(server.seen).toEqual(['GET /compute/v1/projects/p/global/httpHealthChecks/hc']);
  });

  it('409 on insert is alreadyExists with reason and resource', async () => {
    server.reply(googleError(409, "The resource 'projects/p/global/httpHealthChecks/hc' already exists", 'alreadyExists'));
    const e = await failure(api.insertHttpHealthCheck(healthCheck('hc')));
    expect([e.kind, e.httpStatus, e.reason, e.resource]).toEqual([
      'alreadyExists',
      409,
      'alreadyExists',
      'projects/p/global/httpHealthChecks/hc',
    ]);
    expect(e.message).toBe(
      "failed to insert http health check projects/p/global/httpHealthChecks/hc: The resource 'projects/p/global/httpHealthChecks/hc' already exists",
    );
    expect(server.seen[0]).toMatch(/^POST \/compute\/v1\/projects\/p\/global\/httpHealthChecks\?requestId=[0-9a-f-]{36}$/);
  });

  it('400 resourceInUse on delete', async () => {
    server.reply(googleError(400, "The httpHealthCheck resource 'hc' is already being used by 'tp'", 'resourceInUseByAnotherResource'));
    const e = await failure(api.deleteHttpHealthCheck('hc'));
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['resourceInUse', 400, 'resourceInUseByAnotherResource']);
  });
});

describe('operations that finish with an error', () => {
  it('a DONE insert operation carrying QUOTA_EXCEEDED is a quota GceError', async () => {
    server.reply({
      status: 200,
      body: {
        kind: 'compute#operation',
        name: 'operation-1',
        zone: `${server.url}/compute/v1/projects/p/zones/z1-a`,
        operationType: 'insert',
        status: 'DONE',
        httpErrorStatusCode: 403,
        httpErrorMessage: 'FORBIDDEN',
        error: { errors: [{ code: 'QUOTA_EXCEEDED', message: "Quota 'CPUS' exceeded.  Limit: 24.0 in region z1." }] },
      },
    });
    const e = await failure(api.insertInstance(INSTANCE));
    expect([e.kind, e.httpStatus, e.reason, e.resource]).toEqual(['quota', 403, 'QUOTA_EXCEEDED', 'projects/p/zones/z1-a/instances/vm']);
    expect(e.message).toBe(
      "failed to insert instance projects/p/zones/z1-a/instances/vm: Quota 'CPUS' exceeded.  Limit: 24.0 in region z1. (operation operation-1)",
    );
  });

  it('a DONE insert operation carrying ZONE_RESOURCE_POOL_EXHAUSTED is unavailable (the zone has no capacity now)', async () => {
    server.reply({
      status: 200,
      body: {
        name: 'operation-3',
        zone: `${server.url}/compute/v1/projects/p/zones/z1-a`,
        status: 'DONE',
        httpErrorStatusCode: 503,
        error: {
          errors: [
            {
              code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
              message: "The zone 'projects/p/zones/z1-a' does not have enough resources available to fulfill the request.",
            },
          ],
        },
      },
    });
    const e = await failure(api.insertInstance(INSTANCE));
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['unavailable', 503, 'ZONE_RESOURCE_POOL_EXHAUSTED']);
  });

  it('a RUNNING operation is waited on with the scope it names, then its error is read', async () => {
    server.reply(
      { status: 200, body: { name: 'op-2', region: `${server.url}/compute/v1/projects/p/regions/r1`, status: 'RUNNING' } },
      { status: 200, body: { name: 'op-2', region: `${server.url}/compute/v1/projects/p/regions/r1`, status: 'RUNNING' } },
      {
        status: 200,
        body: {
          name: 'op-2',
          region: `${server.url}/compute/v1/projects/p/regions/r1`,
          status: 'DONE',
          httpErrorStatusCode: 400,
          error: { errors: [{ code: 'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE', message: "The address 'a' is in use" }] },
        },
      },
    );
    const e = await failure(api.deleteAddress('r1', 'a'));
    expect([e.kind, e.httpStatus, e.reason]).toEqual(['resourceInUse', 400, 'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE']);
    expect(server.seen.map((s) => s.replace(/requestId=[0-9a-f-]+/, 'requestId=ID'))).toEqual([
      'DELETE /compute/v1/projects/p/regions/r1/addresses/a?requestId=ID',
      'POST /compute/v1/projects/p/regions/r1/operations/op-2/wait',
      'POST /compute/v1/projects/p/regions/r1/operations/op-2/wait',
    ]);
  });

  it('operationError reads every error and falls back to the HTTP status', () => {
    const call = { verb: 'insert', what: 'instance', resource: 'projects/p/zones/z/instances/x' };
    expect(operationError({ status: 'DONE' } as never, call)).toBeUndefined();
    const e = operationError(
      {
        name: 'op',
        httpErrorStatusCode: 503,
        error: {
          errors: [
            { code: 'SOMETHING_NEW', message: 'one' },
            { code: 'OTHER', message: 'two' },
          ],
        },
      },
      call,
    )!;
    expect([e.kind, e.httpStatus, e.reason, e.detail]).toEqual(['unavailable', 503, 'SOMETHING_NEW', 'one; two']);
  });
});

describe('errors with no HTTP answer', () => {
  it('a refused connection is unavailable (retryable)', async () => {
    const closed = await startCannedServer();
    await closed.stop();
    const dead = createComputeApi({ project: 'p', endpoint: closed.url, retry: { attempts: 1 } });
    try {
      const a = await failure(dead.getInstance('z', 'x'));
      expect([a.kind, a.httpStatus]).toEqual(['unavailable', undefined]);
      expect(a.message).toContain('failed to get instance projects/p/zones/z/instances/x: ');
      expect(a.message).toContain('ECONNREFUSED');
      const b = await failure(dead.getHttpHealthCheck('hc'));
      expect([b.kind, b.reason]).toEqual(['unavailable', 'ECONNREFUSED']);
    } finally {
      await dead.close();
    }
  });

  it('a call with no answer in time is unavailable (retryable)', async () => {
    const slow = createComputeApi({ project: 'p', endpoint: server.url, retry: { attempts: 1 }, callTimeoutMs: 200 });
    try {
      server.reply({ status: 0, body: '' }, { status: 0, body: '' });
      const a = await failure(slow.listInstances('kubernetes-master'));
      expect([a.kind, a.httpStatus]).toEqual(['unavailable', undefined]);
      expect(a.message).toBe(
        "failed to list instances projects/p/aggregated/instances (name eq 'kubernetes-master.*'): no answer within 200 ms",
      );
      const b = await failure(slow.getHttpHealthCheck('hc'));
      expect([b.kind, b.reason]).toEqual(['unavailable', 'TimeoutError']);
    } finally {
      await slow.close();
    }
  });

  it('a 2xx answer that is not a JSON object is an error, never an empty list or a missing resource', async () => {
    server.reply({ status: 200, body: '<html>sign in</html>' }, { status: 200, body: '' });
    const a = await failure(api.listZones());
    expect([a.kind, a.httpStatus, a.reason]).toEqual(['other', undefined, 'NOT_JSON']);
    expect(a.message).toBe(
      'failed to list zones projects/p/zones: HTTP 200 with "<html>sign in</html>" instead of a JSON object: is compute-endpoint a Compute API?',
    );
    const b = await failure(api.getInstance('z1-a', 'vm'));
    expect(b.message).toBe(
      'failed to get instance projects/p/zones/z1-a/instances/vm: HTTP 200 with an empty body instead of a JSON object: is compute-endpoint a Compute API?',
    );
  });

  it('toGceError keeps an existing GceError and sorts plain errors as other', () => {
    const call = { verb: 'get', what: 'instance', resource: 'r' };
    const original = new GceError('x', { kind: 'quota', resource: 'r', detail: 'x' });
    expect(toGceError(original, call)).toBe(original);
    const plain = toGceError(new Error('boom'), call);
    expect([plain.kind, plain.message]).toEqual(['other', 'failed to get instance r: boom']);
  });
});
