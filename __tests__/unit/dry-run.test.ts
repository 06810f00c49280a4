import { parseInputs } from '../../src/inputs.ts';
import { InputError } from '../../src/errors.ts';
import { renderSummary } from '../../src/report/summary.ts';
import { projectPlan } from '../../src/plan/project.ts';
import { cluster, intent, leader, replica, staticIp } from '../support/cluster-builder.ts';

const read = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('dry-run input', () => {
  test('defaults to false and reads true', () => {
    expect(parseInputs(read({ operation: 'status', project: 'my-project' }), {}).dryRun).toBe(false);
    expect(parseInputs(read({ operation: 'status', project: 'my-project', 'dry-run': 'true' }), {}).dryRun).toBe(true);
  });
  test('refuses a value that is not a boolean, naming the input', () => {
    expect(() => parseInputs(read({ operation: 'status', project: 'my-project', 'dry-run': 'maybe' }), {})).toThrow(InputError);
    try {
      parseInputs(read({ operation: 'status', project: 'my-project', 'dry-run': 'maybe' }), {});
    } catch (e) {
      expect((e as InputError).problems.map((p) => p.input)).toEqual(['dry-run']);
    }
  });
});

describe('the projected plan in the summary', () => {
  test('lists every step of 1 -> 2 with its reason and says nothing was changed', () => {
    const state = cluster({}, replica('', 'europe-west1-b', leader(), staticIp()));
    const projected = projectPlan(intent({ zone: 'europe-west1-c', replicate: true }), state);
    expect(projected.end.type).toBe('done');
    const md = renderSummary({
      operation: 'up',
      changed: false,
      steps: [],
      warnings: [],
      state,
      plan: { steps: projected.steps, outcome: 'request r1 already added kubernetes-master-x', refused: false },
    });
    expect(md).toContain('## ha-masters: dry run of up `kubernetes-master`');
    expect(md).toContain('**Dry run**: nothing was changed.');
    expect(md).toContain('### What a run would do');
    expect(md).toContain('| 6 | take static IP kubernetes-master-ip off kubernetes-master |');
    expect(md).not.toContain('### What this run did');
  });
});
