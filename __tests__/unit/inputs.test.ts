import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { InputError } from '../../src/errors.ts';
import { deriveRequestId, parseBoolean, parseDuration, parseInputs, parseIntent, type ActionInputs } from '../../src/inputs.ts';

type Inputs = Record<string, string>;

const reader = (inputs: Inputs) => (name: string) => inputs[name] ?? '';
const PROJECT = { project: 'my-project' };

function parse(inputs: Inputs, env: NodeJS.ProcessEnv = {}): ActionInputs {
  return parseInputs(reader(inputs), env);
}

function problemsOf(inputs: Inputs, env: NodeJS.ProcessEnv = {}): { input: string; problem: string; fix: string }[] {
  try {
    parse(inputs, env);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as InputError).problems;
  }
  throw new Error('expected an InputError');
}

describe('parseIntent defaults', () => {
  it('fills every default for a bare "up"', () => {
    const intent = parseIntent(reader({ ...PROJECT, operation: 'up', 'gce-zone': 'europe-west1-b' }), {});
    expect(intent).toEqual({
      operation: 'up',
      project: 'my-project',
      zone: 'europe-west1-b',
      multizone: false,
      quorumRead: false,
      replicate: false,
      deleteNodes: true,
      replicaName: undefined,
      instancePrefix: 'kubernetes',
      replicas: undefined,
      zones: [],
      allowEvenReplicas: false,
      requestId: intent.requestId,
      // The defaults, for a new cluster: none is named, so new replicas of a cluster copy its own.
      shapeNamed: [],
      machineType: 'e2-standard-2',
      image: 'projects/debian-cloud/global/images/family/debian-12',
      network: 'default',
      dataDiskSizeGb: 20,
      transport: 'direct',
    });
    expect(intent.requestId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('records which shape inputs the run gives, so that new replicas copy only the others from the cluster', () => {
    const intent = parseIntent(
      reader({
        ...PROJECT,
        operation: 'up',
        'gce-zone': 'europe-west1-b',
        'machine-type': 'n2-standard-8',
        'service-account': 'm@my-project.iam.gserviceaccount.com',
      }),
      {},
    );
    expect(intent.shapeNamed).toEqual(['machineType', 'serviceAccount']);
    expect([intent.machineType, intent.network, intent.dataDiskSizeGb]).toEqual(['n2-standard-8', 'default', 20]);
  });

  it('returns the run settings beside the intent', () => {
    const r = parse({ ...PROJECT, operation: 'status', timeout: '90s', 'compute-endpoint': 'http://127.0.0.1:8085' });
    expect(r.timeoutMs).toBe(90_000);
    expect(r.computeEndpoint).toBe('http://127.0.0.1:8085');
    expect(r.warnings).toEqual([]);
    expect(parse({ ...PROJECT, operation: 'status' }).timeoutMs).toBe(30 * 60_000);
    expect(parse({ ...PROJECT, operation: 'status' }).computeEndpoint).toBeUndefined();
  });

  it('reads every value it is given', () => {
    const r = parse({
      project: 'p-123456',
      operation: 'UP',
      'gce-zone': 'us-east4-a',
      zones: 'us-east4-a, us-east4-b\nus-east4-c,us-east4-b',
      replicas: '5',
      multizone: 'Yes',
      'enable-etcd-quorum-read': '1',
      'instance-prefix': 'ci-pr-42',
      'machine-type': 'n2-standard-4',
      image: 'projects/debian-cloud/global/images/debian-12-bookworm-v20240110',
      network: 'projects/p-123456/global/networks/ha',
      'data-disk-size-gb': '100',
      timeout: '1h30m',
      'request-id': 'pr-42_scale',
    });
    expect(r.intent).toMatchObject({
      operation: 'up',
      project: 'p-123456',
      zone: 'us-east4-a',
      zones: ['us-east4-a', 'us-east4-b', 'us-east4-c'],
      replicas: 5,
      multizone: true,
      quorumRead: true,
      instancePrefix: 'ci-pr-42',
      machineType: 'n2-standard-4',
      image: 'projects/debian-cloud/global/images/debian-12-bookworm-v20240110',
      network: 'projects/p-123456/global/networks/ha',
      dataDiskSizeGb: 100,
      requestId: 'pr-42_scale',
    });
    expect(r.timeoutMs).toBe(90 * 60_000);
  });
});

describe('booleans and durations', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['1', true],
    ['yes', true],
    ['YES', true],
    ['false', false],
    ['False', false],
    ['0', false],
    ['no', false],
    ['No', false],
  ])('parseBoolean(%j) is %j', (text, value) => {
    expect(parseBoolean(text)).toBe(value);
  });

  it.each(['', 'y', 'n', 'on', 'off', '2', 'truee', 't'])('parseBoolean(%j) refuses', (text) => {
    expect(parseBoolean(text)).toBeUndefined();
  });

  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2m30s', 150_000],
    ['1h0m5s', 3_605_000],
  ])('parseDuration(%j) = %j ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', '0s', '0m', '1d', '30 m', 'm', '1.5h', '-5m', '30M', '5s1m'])('parseDuration(%j) refuses', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('names the input of a bad boolean and says it was not read as false', () => {
    expect(problemsOf({ ...PROJECT, operation: 'up', multizone: 'maybe' })).toEqual([
      {
        input: 'multizone',
        problem: '"maybe" is not a boolean.',
        fix: 'write true or false (1/0 and yes/no are accepted too), or leave it empty for false.',
      },
    ]);
  });
});

describe('refusals name the input and the fix', () => {
  // [case, inputs, the inputs named by the problems, a fragment of the first problem]
  const cases: [string, Inputs, string[], string][] = [
    ['unknown operation', { ...PROJECT, operation: 'scale' }, ['operation'], '"scale" is not an operation.'],
    ['no operation', { ...PROJECT }, ['operation'], 'no operation was given.'],
    ['bad zone', { ...PROJECT, operation: 'up', 'gce-zone': 'europe-west1' }, ['gce-zone'], '"europe-west1" is not a zone.'],
    ['upper-case zone', { ...PROJECT, operation: 'up', 'gce-zone': 'EUROPE-WEST1-B' }, ['gce-zone'], 'is not a zone.'],
    ['zone with two letters', { ...PROJECT, operation: 'up', 'gce-zone': 'europe-west1-bb' }, ['gce-zone'], 'is not a zone.'],
    [
      'bad zone in list',
      { ...PROJECT, operation: 'up', replicas: '3', zones: 'us-east1-b, nowhere' },
      ['zones'],
      '"nowhere" is not a zone.',
    ],
    [
      'zones across regions',
      { ...PROJECT, operation: 'up', replicas: '3', zones: 'us-east1-b,us-west1-a' },
      ['zones'],
      'span the regions us-east1, us-west1',
    ],
    [
      'gce-zone outside zones region',
      { ...PROJECT, operation: 'up', replicas: '3', 'gce-zone': 'us-west1-a', zones: 'us-east1-b' },
      ['zones'],
      'span the regions us-west1, us-east1',
    ],
    ['replicas zero', { ...PROJECT, operation: 'up', replicas: '0' }, ['replicas'], '"0" is not a positive whole number.'],
    ['replicas word', { ...PROJECT, operation: 'up', replicas: 'three' }, ['replicas'], '"three" is not a positive whole number.'],
    ['replicas fraction', { ...PROJECT, operation: 'up', replicas: '2.5' }, ['replicas'], 'is not a positive whole number.'],
    ['replicas negative', { ...PROJECT, operation: 'up', replicas: '-3' }, ['replicas'], 'is not a positive whole number.'],
    [
      'even replicas',
      { ...PROJECT, operation: 'up', replicas: '4' },
      ['replicas'],
      '4 is even: etcd with 4 members survives no more failures than with 3',
    ],
    [
      'bad allow-even-replicas',
      { ...PROJECT, operation: 'up', replicas: '3', 'allow-even-replicas': 'sure' },
      ['allow-even-replicas'],
      '"sure" is not a boolean.',
    ],
    ['bad delete-nodes', { ...PROJECT, operation: 'down', 'delete-nodes': 'nope' }, ['delete-nodes'], '"nope" is not a boolean.'],
    [
      'bad replicate',
      { ...PROJECT, operation: 'up', 'replicate-existing-master': 'y' },
      ['replicate-existing-master'],
      '"y" is not a boolean.',
    ],
    [
      'bad quorum read',
      { ...PROJECT, operation: 'up', 'enable-etcd-quorum-read': 'on' },
      ['enable-etcd-quorum-read'],
      '"on" is not a boolean.',
    ],
    [
      'replicate with down',
      { ...PROJECT, operation: 'down', 'replicate-existing-master': 'true' },
      ['replicate-existing-master'],
      'it adds a replica, which operation down never does.',
    ],
    [
      'replicate with replace',
      { ...PROJECT, operation: 'replace', 'replica-name': 'kubernetes-master', 'replicate-existing-master': 'true' },
      ['replicate-existing-master'],
      'operation replace never does',
    ],
    [
      'replicate with status',
      { ...PROJECT, operation: 'status', 'replicate-existing-master': 'true' },
      ['replicate-existing-master'],
      'operation status never does',
    ],
    [
      'replicate with replicas',
      { ...PROJECT, operation: 'up', 'replicate-existing-master': 'true', replicas: '3' },
      ['replicas'],
      'contradict each other',
    ],
    [
      'replicas with down',
      { ...PROJECT, operation: 'down', replicas: '3' },
      ['replicas'],
      'it scales the cluster, which operation down never does.',
    ],
    ['replicas with replace', { ...PROJECT, operation: 'replace', replicas: '3' }, ['replicas'], 'operation replace never does'],
    ['replicas with status', { ...PROJECT, operation: 'status', replicas: '1' }, ['replicas'], 'operation status never does'],
    [
      'replica-name with up',
      { ...PROJECT, operation: 'up', 'replica-name': 'kubernetes-master-a1f' },
      ['replica-name'],
      'up never removes one',
    ],
    [
      'replica-name with status',
      { ...PROJECT, operation: 'status', 'replica-name': 'kubernetes-master-a1f' },
      ['replica-name'],
      'status reads the whole cluster and touches no replica',
    ],
    [
      'replica-name with down and default delete-nodes',
      { ...PROJECT, operation: 'down', 'replica-name': 'kubernetes-master-a1f' },
      ['replica-name'],
      'with delete-nodes true (the default), down tears the whole cluster down',
    ],
    [
      'replica-name with down and delete-nodes true',
      { ...PROJECT, operation: 'down', 'delete-nodes': 'true', 'replica-name': 'kubernetes-master-a1f' },
      ['replica-name'],
      'with delete-nodes true, down tears',
    ],
    ['delete-nodes with up', { ...PROJECT, operation: 'up', 'delete-nodes': 'false' }, ['delete-nodes'], 'not to up.'],
    ['delete-nodes true with replace', { ...PROJECT, operation: 'replace', 'delete-nodes': 'true' }, ['delete-nodes'], 'not to replace.'],
    ['delete-nodes with status', { ...PROJECT, operation: 'status', 'delete-nodes': 'true' }, ['delete-nodes'], 'not to status.'],
    [
      'remove one replica without saying which',
      { ...PROJECT, operation: 'down', 'delete-nodes': 'false' },
      ['gce-zone'],
      'neither gce-zone nor replica-name says which',
    ],
    ['zones with down', { ...PROJECT, operation: 'down', zones: 'us-east1-b' }, ['zones'], 'and down places none.'],
    ['zones with status', { ...PROJECT, operation: 'status', zones: 'us-east1-b' }, ['zones'], 'and status places none.'],
    [
      'replica of another prefix',
      { ...PROJECT, operation: 'replace', 'replica-name': 'kubernetes-master-a1f', 'instance-prefix': 'ci' },
      ['replica-name'],
      '"kubernetes-master-a1f" is not a master replica of instance prefix ci.',
    ],
    [
      'replica name with a longer suffix',
      { ...PROJECT, operation: 'replace', 'replica-name': 'kubernetes-master-a1f2' },
      ['replica-name'],
      'is not a master replica',
    ],
    [
      'replica name with non-hex suffix',
      { ...PROJECT, operation: 'replace', 'replica-name': 'kubernetes-master-xyz' },
      ['replica-name'],
      'is not a master replica',
    ],
    [
      'prefix with capitals',
      { ...PROJECT, operation: 'up', 'instance-prefix': 'Kubernetes' },
      ['instance-prefix'],
      '"Kubernetes" cannot start GCE names',
    ],
    ['prefix ending in a dash', { ...PROJECT, operation: 'up', 'instance-prefix': 'k8s-' }, ['instance-prefix'], 'cannot start GCE names'],
    ['prefix too long', { ...PROJECT, operation: 'up', 'instance-prefix': 'a'.repeat(43) }, ['instance-prefix'], 'cannot start GCE names'],
    ['project with capitals', { project: 'My-Project', operation: 'up' }, ['project'], '"My-Project" is not a project ID.'],
    ['project number', { project: '123456789012', operation: 'up' }, ['project'], 'is not a project ID.'],
    ['bad machine type', { ...PROJECT, operation: 'up', 'machine-type': 'E2 standard' }, ['machine-type'], 'is not a machine type name.'],
    ['bad image', { ...PROJECT, operation: 'up', image: 'cos-stable' }, ['image'], '"cos-stable" is not an image path.'],
    ['bad network', { ...PROJECT, operation: 'up', network: 'my network' }, ['network'], 'is not a network.'],
    ['disk too small', { ...PROJECT, operation: 'up', 'data-disk-size-gb': '5' }, ['data-disk-size-gb'], 'between 10 and 65536'],
    ['disk with unit', { ...PROJECT, operation: 'up', 'data-disk-size-gb': '20GB' }, ['data-disk-size-gb'], '"20GB" is not a disk size'],
    ['timeout without unit', { ...PROJECT, operation: 'up', timeout: '30' }, ['timeout'], '"30" is not a duration.'],
    ['zero timeout', { ...PROJECT, operation: 'up', timeout: '0m' }, ['timeout'], '"0m" is not a duration.'],
    [
      'endpoint not a URL',
      { ...PROJECT, operation: 'up', 'compute-endpoint': 'localhost:8085' },
      ['compute-endpoint'],
      'must be a plain http(s) URL',
    ],
    [
      'endpoint garbage',
      { ...PROJECT, operation: 'up', 'compute-endpoint': 'not a url' },
      ['compute-endpoint'],
      '"not a url" is not a URL.',
    ],
    [
      'endpoint with credentials',
      { ...PROJECT, operation: 'up', 'compute-endpoint': 'http://u:p@127.0.0.1:1' },
      ['compute-endpoint'],
      'without credentials',
    ],
    ['unknown transport', { ...PROJECT, operation: 'up', transport: 'ssh' }, ['transport'], '"ssh" is not a transport.'],
    [
      'iap-endpoint not wss',
      { ...PROJECT, operation: 'up', transport: 'iap', 'iap-endpoint': 'https://127.0.0.1:8443' },
      ['iap-endpoint'],
      'must be a plain wss:// URL',
    ],
    [
      'iap-endpoint with a query',
      { ...PROJECT, operation: 'up', transport: 'iap', 'iap-endpoint': 'wss://127.0.0.1:8443/?x=1' },
      ['iap-endpoint'],
      'must be a plain wss:// URL',
    ],
    [
      'iap-endpoint garbage',
      { ...PROJECT, operation: 'up', transport: 'iap', 'iap-endpoint': 'relay' },
      ['iap-endpoint'],
      '"relay" is not a URL.',
    ],
    ['request-id upper case', { ...PROJECT, operation: 'up', 'request-id': 'PR-42' }, ['request-id'], 'cannot be a GCE label value'],
    ['request-id too long', { ...PROJECT, operation: 'up', 'request-id': 'a'.repeat(64) }, ['request-id'], 'cannot be a GCE label value'],
  ];

  it.each(cases)('%s', (_name, inputs, named, fragment) => {
    const problems = problemsOf(inputs);
    expect(problems.map((p) => p.input)).toEqual(named);
    expect(problems[0]!.problem).toContain(fragment);
    for (const p of problems) expect(p.fix.length).toBeGreaterThan(10);
  });

  it('reports every problem at once in one message that says nothing changed', () => {
    let error: unknown;
    try {
      parse({ operation: 'grow', 'gce-zone': 'mars', replicas: 'x', multizone: 'perhaps' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    const e = error as InputError;
    expect(e.problems.map((p) => p.input)).toEqual(['operation', 'project', 'gce-zone', 'multizone', 'replicas']);
    expect(e.message).toBe(
      [
        'the inputs have 5 problems; nothing was changed.',
        '  - operation: "grow" is not an operation. Fix: set operation to one of up, down, replace, status, repair, recover, rollout, snapshot, janitor.',
        '  - project: no project was given, and none of the project variables is set. Fix: set the project input, or run google-github-actions/auth first (it exports CLOUDSDK_CORE_PROJECT, CLOUDSDK_PROJECT, GCLOUD_PROJECT, GCP_PROJECT, GOOGLE_CLOUD_PROJECT), or set one of those variables.',
        '  - gce-zone: "mars" is not a zone. Fix: write a zone as <region>-<letter>, such as europe-west1-b.',
        '  - multizone: "perhaps" is not a boolean. Fix: write true or false (1/0 and yes/no are accepted too), or leave it empty for false.',
        '  - replicas: "x" is not a positive whole number. Fix: set replicas to the number of master replicas wanted, such as 3 or 5.',
      ].join('\n'),
    );
  });
});

describe('accepted combinations', () => {
  it('adds a replica like KUBE_REPLICATE_EXISTING_MASTER', () => {
    const i = parse({ ...PROJECT, operation: 'up', 'replicate-existing-master': 'true', 'gce-zone': 'europe-west1-c' }).intent;
    expect([i.operation, i.replicate, i.zone]).toEqual(['up', true, 'europe-west1-c']);
  });

  it('removes one named replica with delete-nodes false', () => {
    const i = parse({ ...PROJECT, operation: 'down', 'delete-nodes': 'false', 'replica-name': 'kubernetes-master-0ab' }).intent;
    expect([i.operation, i.deleteNodes, i.replicaName, i.zone]).toEqual(['down', false, 'kubernetes-master-0ab', undefined]);
  });

  it('removes one replica of a zone with delete-nodes false', () => {
    const i = parse({ ...PROJECT, operation: 'down', 'delete-nodes': 'no', 'gce-zone': 'europe-west1-c' }).intent;
    expect([i.deleteNodes, i.replicaName, i.zone]).toEqual([false, undefined, 'europe-west1-c']);
  });

  it('tears down with delete-nodes true by default', () => {
    expect(parse({ ...PROJECT, operation: 'down' }).intent.deleteNodes).toBe(true);
  });

  it('replaces a named replica, or every unhealthy one when none is named', () => {
    expect(parse({ ...PROJECT, operation: 'replace', 'replica-name': 'kubernetes-master' }).intent.replicaName).toBe('kubernetes-master');
    expect(parse({ ...PROJECT, operation: 'replace' }).intent.replicaName).toBeUndefined();
    // The docs' replace procedure starts with KUBE_DELETE_NODES=false; that is harmless with replace.
    expect(
      parse({ ...PROJECT, operation: 'replace', 'delete-nodes': 'false', 'replica-name': 'kubernetes-master' }).intent.deleteNodes,
    ).toBe(false);
  });

  it('allows an even count when asked', () => {
    expect(parse({ ...PROJECT, operation: 'up', replicas: '2', 'allow-even-replicas': 'true' }).intent.replicas).toBe(2);
  });

  it('refuses more than 7 replicas with the reason, and only warns when allow-many-replicas is true', () => {
    expect(parse({ ...PROJECT, operation: 'up', replicas: '7' }).warnings).toEqual([]);
    expect(problemsOf({ ...PROJECT, operation: 'up', replicas: '9' })).toEqual([
      expect.objectContaining({
        input: 'replicas',
        problem: expect.stringContaining('9 is above 7: etcd recommends at most 7 members'),
        fix: expect.stringContaining('allow-many-replicas: true'),
      }),
    ]);
    const r = parse({ ...PROJECT, operation: 'up', replicas: '9', 'allow-many-replicas': 'true' });
    expect(r.intent.replicas).toBe(9);
    expect(r.warnings).toEqual([expect.stringMatching(/^replicas: 9; etcd recommends at most 7 members/)]);
  });

  it('warns about allow-even-replicas only when it is true and nothing scales', () => {
    expect(parse({ ...PROJECT, operation: 'down', 'allow-even-replicas': 'false' }).warnings).toEqual([]);
    expect(parse({ ...PROJECT, operation: 'down', 'allow-even-replicas': 'true' }).warnings).toEqual([
      'allow-even-replicas is ignored with operation down.',
    ]);
  });

  it('warns that creation-time flags are ignored by down', () => {
    expect(parse({ ...PROJECT, operation: 'down', multizone: 'true' }).warnings).toEqual([
      'multizone and enable-etcd-quorum-read are recorded when a cluster is created; operation down ignores them.',
    ]);
  });

  it('accepts a domain-scoped project and a full image URL', () => {
    const i = parse({
      project: 'example.com:my-project',
      operation: 'up',
      image: 'https://www.googleapis.com/compute/v1/projects/cos-cloud/global/images/family/cos-stable',
    }).intent;
    expect(i.project).toBe('example.com:my-project');
  });
});

describe('project', () => {
  it('prefers the input', () => {
    expect(parse({ project: 'from-input', operation: 'status' }, { GCLOUD_PROJECT: 'from-env-1' }).intent.project).toBe('from-input');
  });

  it.each(['CLOUDSDK_CORE_PROJECT', 'CLOUDSDK_PROJECT', 'GCLOUD_PROJECT', 'GCP_PROJECT', 'GOOGLE_CLOUD_PROJECT'])(
    'falls back to %s',
    (name) => {
      expect(parse({ operation: 'status' }, { [name]: 'env-project' }).intent.project).toBe('env-project');
    },
  );

  it('takes the variables in the order auth exports them', () => {
    const env = { GOOGLE_CLOUD_PROJECT: 'last-one', GCLOUD_PROJECT: 'third-one', CLOUDSDK_PROJECT: 'second-one' };
    expect(parse({ operation: 'status' }, env).intent.project).toBe('second-one');
  });

  it('names the variable a bad project came from', () => {
    expect(problemsOf({ operation: 'status' }, { GCP_PROJECT: 'Bad Project' })).toEqual([
      {
        input: 'project (from GCP_PROJECT)',
        problem: '"Bad Project" is not a project ID.',
        fix: 'use the project ID (6-30 lowercase letters, digits and dashes, e.g. my-project-123), not its name or number.',
      },
    ]);
  });
});

describe('request id', () => {
  const base = { ...PROJECT, operation: 'up', 'replicate-existing-master': 'true', 'gce-zone': 'europe-west1-c' };
  const github = { GITHUB_RUN_ID: '123456', GITHUB_JOB: 'scale', GITHUB_ACTION: 'masters' };

  it('is 16 hex chars of sha256 over the run, job, step and request', () => {
    const intent = parse(base, github).intent;
    const key = JSON.stringify(['up', 'my-project', 'kubernetes', 'europe-west1-c', false, false, true, true, '', 0, [], false]);
    const expected = createHash('sha256').update(`github:123456/scale/masters\n${key}`).digest('hex').slice(0, 16);
    expect(intent.requestId).toBe(expected);
    expect(deriveRequestId(intent, github)).toBe(expected);
  });

  it('outside a workflow is the request alone, so the same command asks once', () => {
    const key = JSON.stringify(['up', 'my-project', 'kubernetes', 'europe-west1-c', false, false, true, true, '', 0, [], false]);
    expect(parse(base).intent.requestId).toBe(createHash('sha256').update(key).digest('hex').slice(0, 16));
    expect(parse(base).intent.requestId).toBe(parse({ ...base, 'machine-type': 'e2-standard-8' }).intent.requestId);
  });

  it('is stable across re-runs and differs between runs, jobs, steps and requests', () => {
    const id = parse(base, github).intent.requestId;
    expect(parse(base, { ...github, GITHUB_RUN_ATTEMPT: '2' }).intent.requestId).toBe(id);
    const others = [
      parse(base, { ...github, GITHUB_RUN_ID: '123457' }),
      parse(base, { ...github, GITHUB_JOB: 'other' }),
      parse(base, { ...github, GITHUB_ACTION: '__run_2' }),
      parse({ ...base, 'gce-zone': 'europe-west1-d' }, github),
      parse(base),
    ].map((r) => r.intent.requestId);
    expect(new Set([id, ...others]).size).toBe(6);
  });

  it('uses an explicit request-id as given', () => {
    expect(parse({ ...base, 'request-id': 'nightly-2024_01' }, github).intent.requestId).toBe('nightly-2024_01');
  });
});

describe('transport', () => {
  const base = { ...PROJECT, operation: 'status' };
  it('auto takes IAP on a GitHub-hosted runner, which is outside every VPC', () => {
    const r = parse(base, { RUNNER_ENVIRONMENT: 'github-hosted' });
    expect(r.transportWhy).toContain('GitHub-hosted');
    expect(r.intent.transport).toBe('iap');
  });
  it('auto goes direct on a self-hosted runner and outside Actions', () => {
    const selfHosted = parse(base, { RUNNER_ENVIRONMENT: 'self-hosted' });
    expect(selfHosted.intent.transport).toBe('direct');
    expect(selfHosted.transportWhy).toContain('self-hosted runner');
    expect(parse(base).intent.transport).toBe('direct');
  });
  it('an explicit transport wins over the runner kind', () => {
    expect(parse({ ...base, transport: 'direct' }, { RUNNER_ENVIRONMENT: 'github-hosted' }).intent.transport).toBe('direct');
    expect(parse({ ...base, transport: 'IAP' }).intent.transport).toBe('iap');
  });
  it('takes an iap-endpoint, and warns that a direct run ignores it', () => {
    const iap = parse({ ...base, transport: 'iap', 'iap-endpoint': 'wss://127.0.0.1:8443' });
    expect(iap.iapEndpoint).toBe('wss://127.0.0.1:8443');
    expect(iap.warnings).toEqual([]);
    const direct = parse({ ...base, transport: 'direct', 'iap-endpoint': 'wss://127.0.0.1:8443' });
    expect(direct.warnings).toEqual([expect.stringContaining('iap-endpoint is ignored')]);
  });
  it('does not change the request id (the same request from either kind of runner resumes)', () => {
    expect(parse({ ...base, transport: 'iap' }).intent.requestId).toBe(parse({ ...base, transport: 'direct' }).intent.requestId);
  });
});

describe('restore-from (recover from a snapshot in Cloud Storage)', () => {
  const recover = { ...PROJECT, operation: 'recover', confirm: 'kubernetes-master' };

  it('takes a gs:// object with recover, without etcd-snapshot-dir; replicas sets the count to bring back', () => {
    const parsed = parse({ ...recover, 'restore-from': 'gs://my-backups/etcd/snap 1.db', replicas: '3' });
    expect(parsed.intent.restore).toEqual({ bucket: 'my-backups', object: 'etcd/snap 1.db' });
    expect(parsed.intent.replicas).toBe(3);
    expect(parsed.snapshotDir).toBeUndefined();
  });

  it('changes the derived request id only when it is set', () => {
    const plain = parse({ ...recover, 'etcd-snapshot-dir': '/tmp/x' }).intent;
    const withRestore = parse({ ...recover, 'restore-from': 'gs://bk1/o' }).intent;
    const otherObject = parse({ ...recover, 'restore-from': 'gs://bk1/p' }).intent;
    expect(plain.requestId).toBe(deriveRequestId({ ...plain, restore: undefined }, {}));
    expect(new Set([plain.requestId, withRestore.requestId, otherObject.requestId]).size).toBe(3);
  });

  it.each([
    ['/home/runner/snap.db', 'is not a gs://bucket/object URL', 'gcloud storage cp'],
    ['gs://Bad_Bucket/x', 'is not a Cloud Storage bucket name', 'gcloud storage cp'],
    ['gs://bucket/x#1', "is not an object name this action accepts (no '#'", 'gcloud storage cp'],
    ['gs://bucket/', 'is not a gs://bucket/object URL', 'gcloud storage cp'],
  ])('refuses %s, saying what a good value is', (value, problem, fix) => {
    const [p] = problemsOf({ ...recover, 'restore-from': value });
    expect(p).toMatchObject({ input: 'restore-from', problem: expect.stringContaining(problem), fix: expect.stringContaining(fix) });
  });

  it('is refused with any other operation', () => {
    const problems = problemsOf({ ...PROJECT, operation: 'repair', 'restore-from': 'gs://bk1/o' });
    expect(problems).toEqual([
      expect.objectContaining({
        input: 'restore-from',
        problem: expect.stringContaining('only operation recover does (operation is repair)'),
      }),
    ]);
  });

  it('recover without restore-from still needs etcd-snapshot-dir', () => {
    expect(problemsOf(recover).map((p) => p.input)).toEqual(['etcd-snapshot-dir']);
  });
});

describe('etcd-snapshot-dir in Cloud Storage', () => {
  const up = { ...PROJECT, operation: 'up', 'gce-zone': 'europe-west1-b' };
  it.each([
    ['gs://my-backups', { bucket: 'my-backups', prefix: '' }],
    ['gs://my-backups/', { bucket: 'my-backups', prefix: '' }],
    ['gs://my-backups/etcd/prod', { bucket: 'my-backups', prefix: 'etcd/prod/' }],
    ['gs://my-backups/etcd/', { bucket: 'my-backups', prefix: 'etcd/' }],
  ])('%s is a bucket and prefix, not a directory', (value, place) => {
    const parsed = parse({ ...up, 'etcd-snapshot-dir': value });
    expect(parsed.snapshotBucket).toEqual(place);
    expect(parsed.snapshotDir).toBeUndefined();
  });

  it('a directory stays a directory; a bad bucket name is refused with both forms in the fix', () => {
    expect(parse({ ...up, 'etcd-snapshot-dir': '/tmp/backups' })).toMatchObject({ snapshotDir: '/tmp/backups' });
    expect(parse({ ...up, 'etcd-snapshot-dir': '/tmp/backups' }).snapshotBucket).toBeUndefined();
    const [p] = problemsOf({ ...up, 'etcd-snapshot-dir': 'gs://No_Such/x' });
    expect(p).toMatchObject({
      input: 'etcd-snapshot-dir',
      problem: expect.stringContaining('is not a Cloud Storage bucket name'),
      fix: 'give a directory on the runner, or a bucket as gs://my-backups/etcd/.',
    });
  });
});

describe('operation snapshot and etcd-snapshot-keep', () => {
  const snapshot = { ...PROJECT, operation: 'snapshot', 'gce-zone': 'europe-west1-b' };
  it('snapshot needs etcd-snapshot-dir; with it, it is a read-only operation', () => {
    expect(problemsOf(snapshot).map((p) => p.input)).toEqual(['etcd-snapshot-dir']);
    const parsed = parse({ ...snapshot, 'etcd-snapshot-dir': 'gs://my-backups/etcd/', 'etcd-snapshot-keep': '24' });
    expect(parsed.intent.operation).toBe('snapshot');
    expect(parsed.snapshotKeep).toBe(24);
    expect(problemsOf({ ...snapshot, 'etcd-snapshot-dir': '/tmp/b', replicas: '3' }).map((p) => p.input)).toEqual(['replicas']);
  });

  it('etcd-snapshot-keep is a positive whole number, and only with etcd-snapshot-dir', () => {
    const up = { ...PROJECT, operation: 'up', 'gce-zone': 'europe-west1-b' };
    expect(problemsOf({ ...up, 'etcd-snapshot-dir': '/tmp/b', 'etcd-snapshot-keep': '0' })).toEqual([
      {
        input: 'etcd-snapshot-keep',
        problem: '"0" is not a positive whole number.',
        fix: 'set it to how many of the newest snapshots to keep, such as 24 for a day of hourly ones, or leave it empty to keep all.',
      },
    ]);
    expect(problemsOf({ ...up, 'etcd-snapshot-keep': '3' })).toEqual([
      {
        input: 'etcd-snapshot-keep',
        problem: 'it prunes the snapshots in etcd-snapshot-dir, which is empty.',
        fix: 'set etcd-snapshot-dir too, or drop etcd-snapshot-keep.',
      },
    ]);
    expect(parse({ ...up, 'etcd-snapshot-dir': '/tmp/b' }).snapshotKeep).toBeUndefined();
  });
});

describe('the request id of a rollout', () => {
  it('names its target: the same rollout run again resumes, another target is another request', () => {
    const rollout = { ...PROJECT, operation: 'rollout', 'gce-zone': 'europe-west1-b' };
    const v135 = parse({ ...rollout, 'kubernetes-version': 'v1.35.4', 'etcd-version': 'v3.6.14' }).intent.requestId;
    expect(parse({ ...rollout, 'kubernetes-version': 'v1.35.4', 'etcd-version': 'v3.6.14' }).intent.requestId).toBe(v135);
    expect(parse({ ...rollout, 'kubernetes-version': 'v1.34.7', 'etcd-version': 'v3.6.14' }).intent.requestId).not.toBe(v135);
    const resize = parse({ ...rollout, 'machine-type': 'n2-standard-2' }).intent.requestId;
    expect(parse({ ...rollout, 'machine-type': 'e2-standard-4' }).intent.requestId).not.toBe(resize);
    // Other operations keep the ids they had.
    const up = { ...PROJECT, operation: 'up', 'gce-zone': 'europe-west1-b' };
    expect(parse({ ...up, 'machine-type': 'n2-standard-2' }).intent.requestId).toBe(parse(up).intent.requestId);
  });
});
