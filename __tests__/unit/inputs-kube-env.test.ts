import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../src/errors.ts';
import { parseInputs } from '../../src/inputs.ts';
import { parseKubeEnv } from '../../src/kube-env.ts';

const reader = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';
const PROJECT = { project: 'my-project' };

describe('parseKubeEnv: the docs as users write them', () => {
  it("reads the HA docs' create command on one line, with the plural quorum flag", () => {
    const r = parseKubeEnv('MULTIZONE=true KUBE_GCE_ZONE=europe-west1-b ENABLE_ETCD_QUORUM_READS=true ./cluster/kube-up.sh');
    expect(r).toEqual({
      values: {
        multizone: { key: 'MULTIZONE', value: 'true' },
        'gce-zone': { key: 'KUBE_GCE_ZONE', value: 'europe-west1-b' },
        'enable-etcd-quorum-read': { key: 'ENABLE_ETCD_QUORUM_READS', value: 'true' },
      },
      script: 'up',
      warnings: [],
      problems: [],
    });
  });

  it('reads the singular quorum flag the scripts read', () => {
    expect(parseKubeEnv('ENABLE_ETCD_QUORUM_READ=true').values['enable-etcd-quorum-read']).toEqual({
      key: 'ENABLE_ETCD_QUORUM_READ',
      value: 'true',
    });
  });

  it('reads the remove-a-replica command with kube-down.sh', () => {
    const r = parseKubeEnv('KUBE_DELETE_NODES=false KUBE_GCE_ZONE=replica_zone KUBE_REPLICA_NAME=replica_name ./cluster/kube-down.sh');
    expect(r.script).toBe('down');
    expect(r.values).toEqual({
      'delete-nodes': { key: 'KUBE_DELETE_NODES', value: 'false' },
      'gce-zone': { key: 'KUBE_GCE_ZONE', value: 'replica_zone' },
      'replica-name': { key: 'KUBE_REPLICA_NAME', value: 'replica_name' },
    });
  });

  it('reads one KEY=value per line, export, quotes, comments and continuations', () => {
    const text = [
      '# HA cluster in Europe',
      'export KUBE_GCE_INSTANCE_PREFIX="ci-pr-42"   # per-PR prefix',
      "export KUBE_GCE_ZONE='europe-west1-c'",
      'KUBE_REPLICATE_EXISTING_MASTER=true \\',
      '  cluster/kube-up.sh',
      '',
      'MULTIZONE="tr"ue',
    ].join('\n');
    const r = parseKubeEnv(text);
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.script).toBe('up');
    expect(r.values).toEqual({
      'instance-prefix': { key: 'KUBE_GCE_INSTANCE_PREFIX', value: 'ci-pr-42' },
      'gce-zone': { key: 'KUBE_GCE_ZONE', value: 'europe-west1-c' },
      'replicate-existing-master': { key: 'KUBE_REPLICATE_EXISTING_MASTER', value: 'true' },
      multizone: { key: 'MULTIZONE', value: 'true' },
    });
  });

  it('finds the script behind bash, sudo -E or a path variable-free prefix and treats ; and && as separators', () => {
    expect(parseKubeEnv('sudo -E bash /opt/kubernetes/cluster/kube-down.sh').script).toBe('down');
    const r = parseKubeEnv('KUBE_GCE_ZONE=us-east1-b; MULTIZONE=true && ./cluster/kube-up.sh');
    expect(r.script).toBe('up');
    expect(r.values['gce-zone']?.value).toBe('us-east1-b');
    expect(r.values.multizone?.value).toBe('true');
    expect(r.warnings).toEqual([]);
  });

  it('treats an empty value as unset, as the scripts do', () => {
    expect(parseKubeEnv('KUBE_REPLICA_NAME= KUBE_GCE_ZONE=""').values).toEqual({});
  });

  it('keeps a # inside a word and inside quotes', () => {
    expect(parseKubeEnv('KUBE_REPLICA_NAME=a#b KUBE_GCE_ZONE="x # y"').values).toEqual({
      'replica-name': { key: 'KUBE_REPLICA_NAME', value: 'a#b' },
      'gce-zone': { key: 'KUBE_GCE_ZONE', value: 'x # y' },
    });
  });

  it('warns about unknown keys and stray words instead of failing', () => {
    const r = parseKubeEnv('NUM_NODES=3 MASTER_SIZE=n1-standard-4 KUBE_USE_EXISTING_MASTER=true ./cluster/kube-up.sh --verbose');
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([
      'kube-env: NUM_NODES is not a flag this action knows; it was ignored (known: KUBE_GCE_ZONE, MULTIZONE, ENABLE_ETCD_QUORUM_READ, ENABLE_ETCD_QUORUM_READS, KUBE_REPLICATE_EXISTING_MASTER, KUBE_DELETE_NODES, KUBE_REPLICA_NAME, KUBE_GCE_INSTANCE_PREFIX).',
      'kube-env: MASTER_SIZE is not read by this action: set the machine-type input instead.',
      'kube-env: KUBE_USE_EXISTING_MASTER is not read by this action: it adds nodes, not master replicas, and is not part of HA.',
      'kube-env: ignored "--verbose" (only KEY=value and kube-up.sh/kube-down.sh are read).',
    ]);
  });

  it('warns when a key is set twice and keeps the last value, as a shell would', () => {
    const r = parseKubeEnv('KUBE_GCE_ZONE=us-east1-b\nKUBE_GCE_ZONE=us-east1-c');
    expect(r.values['gce-zone']?.value).toBe('us-east1-c');
    expect(r.warnings).toEqual(['kube-env: KUBE_GCE_ZONE is set twice; the last value, "us-east1-c", is used (as a shell would).']);
  });

  it('refuses both quorum spellings with different values', () => {
    expect(parseKubeEnv('ENABLE_ETCD_QUORUM_READ=true ENABLE_ETCD_QUORUM_READS=false').problems).toEqual([
      {
        input: 'kube-env (ENABLE_ETCD_QUORUM_READS)',
        problem: 'it says "false" but ENABLE_ETCD_QUORUM_READ says "true", and both set enable-etcd-quorum-read.',
        fix: 'keep only one of ENABLE_ETCD_QUORUM_READ and ENABLE_ETCD_QUORUM_READS.',
      },
    ]);
    expect(parseKubeEnv('ENABLE_ETCD_QUORUM_READ=true ENABLE_ETCD_QUORUM_READS=true').problems).toEqual([]);
  });

  it('refuses shell expansions it cannot perform', () => {
    const r = parseKubeEnv('KUBE_GCE_ZONE=$ZONE KUBE_REPLICA_NAME="${NAME}" MULTIZONE=`echo true` KUBE_GCE_INSTANCE_PREFIX=\'$literal\'');
    expect(r.problems.map((p) => p.input)).toEqual(['kube-env (KUBE_GCE_ZONE)', 'kube-env (KUBE_REPLICA_NAME)', 'kube-env (MULTIZONE)']);
    expect(r.problems[0]!.problem).toBe('"$ZONE" needs a shell to expand it, and kube-env is never run by a shell.');
    // Single quotes keep $ literal, as in a shell.
    expect(r.values['instance-prefix']?.value).toBe('$literal');
  });

  it('refuses unclosed quotes', () => {
    expect(parseKubeEnv("KUBE_GCE_ZONE='us-east1-b").problems).toEqual([
      {
        input: 'kube-env',
        problem: 'a single quote opened at "\'us-east1-b" is never closed.',
        fix: "close the quote (kube-env is read like a shell line: 'value').",
      },
    ]);
    expect(parseKubeEnv('KUBE_GCE_ZONE="us-east1-b').problems[0]!.problem).toBe(
      'a double quote opened at "\\"us-east1-b" is never closed.',
    );
  });

  it('refuses running both scripts', () => {
    expect(parseKubeEnv('./cluster/kube-down.sh && ./cluster/kube-up.sh').problems.map((p) => p.problem)).toEqual([
      'it runs both kube-up.sh and kube-down.sh; one run does one of them.',
    ]);
  });
});

describe('kube-env through parseInputs', () => {
  it("builds the whole intent from the docs' create line", () => {
    const r = parseInputs(
      reader({ ...PROJECT, 'kube-env': 'MULTIZONE=true KUBE_GCE_ZONE=europe-west1-b ENABLE_ETCD_QUORUM_READS=true ./cluster/kube-up.sh' }),
      {},
    );
    expect(r.intent).toMatchObject({ operation: 'up', zone: 'europe-west1-b', multizone: true, quorumRead: true, replicate: false });
    expect(r.warnings).toEqual([]);
  });

  it('builds a replica add, a replica removal and a teardown', () => {
    const add = parseInputs(
      reader({ ...PROJECT, 'kube-env': 'KUBE_GCE_ZONE=europe-west1-c KUBE_REPLICATE_EXISTING_MASTER=true ./cluster/kube-up.sh' }),
      {},
    ).intent;
    expect([add.operation, add.replicate, add.zone]).toEqual(['up', true, 'europe-west1-c']);
    const remove = parseInputs(
      reader({ ...PROJECT, 'kube-env': 'KUBE_DELETE_NODES=false KUBE_GCE_ZONE=europe-west1-c ./cluster/kube-down.sh' }),
      {},
    ).intent;
    expect([remove.operation, remove.deleteNodes, remove.zone]).toEqual(['down', false, 'europe-west1-c']);
    const teardown = parseInputs(reader({ ...PROJECT, 'kube-env': './cluster/kube-down.sh' }), {}).intent;
    expect([teardown.operation, teardown.deleteNodes]).toEqual(['down', true]);
  });

  it('lets explicit inputs win, and says so', () => {
    const r = parseInputs(
      reader({
        ...PROJECT,
        operation: 'status',
        'gce-zone': 'europe-west1-d',
        'kube-env': 'KUBE_GCE_ZONE=europe-west1-b MULTIZONE=true ./cluster/kube-up.sh',
      }),
      {},
    );
    expect(r.intent.operation).toBe('status');
    expect(r.intent.zone).toBe('europe-west1-d');
    expect(r.warnings).toEqual([
      "input operation=status overrides kube-env's kube-up.sh.",
      'input gce-zone="europe-west1-d" overrides kube-env KUBE_GCE_ZONE="europe-west1-b".',
      'multizone and enable-etcd-quorum-read are recorded when a cluster is created; operation status ignores them.',
    ]);
  });

  it('names the kube-env key of a bad value, and reports it beside other problems', () => {
    try {
      parseInputs(reader({ ...PROJECT, replicas: '4', 'kube-env': 'MULTIZONE=maybe KUBE_GCE_ZONE=eu ./cluster/kube-up.sh' }), {});
      throw new Error('expected an InputError');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).problems.map((p) => `${p.input}: ${p.problem}`)).toEqual([
        'kube-env (KUBE_GCE_ZONE): "eu" is not a zone.',
        'kube-env (MULTIZONE): "maybe" is not a boolean.',
        'replicas: 4 is even: etcd with 4 members survives no more failures than with 3, and needs more members to agree.',
      ]);
    }
  });

  it('refuses kube-down with KUBE_REPLICA_NAME but without KUBE_DELETE_NODES=false', () => {
    try {
      parseInputs(reader({ ...PROJECT, 'kube-env': 'KUBE_REPLICA_NAME=kubernetes-master-a1f ./cluster/kube-down.sh' }), {});
      throw new Error('expected an InputError');
    } catch (e) {
      expect((e as InputError).problems).toEqual([
        {
          input: 'replica-name',
          problem: 'with delete-nodes true (the default), down tears the whole cluster down, so naming one replica makes no sense.',
          fix: 'set delete-nodes: false to remove only kubernetes-master-a1f, or drop replica-name to tear the whole cluster down.',
        },
      ]);
    }
  });

  it('passes kube-env warnings through', () => {
    const r = parseInputs(reader({ ...PROJECT, 'kube-env': 'NUM_NODES=3 ./cluster/kube-up.sh' }), {});
    expect(r.warnings).toEqual([
      'kube-env: NUM_NODES is not a flag this action knows; it was ignored (known: KUBE_GCE_ZONE, MULTIZONE, ENABLE_ETCD_QUORUM_READ, ENABLE_ETCD_QUORUM_READS, KUBE_REPLICATE_EXISTING_MASTER, KUBE_DELETE_NODES, KUBE_REPLICA_NAME, KUBE_GCE_INSTANCE_PREFIX).',
    ]);
  });
});
