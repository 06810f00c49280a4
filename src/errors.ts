// Errors the action shows to its user. Each says what is wrong, and how to fix it, so that texts
// do not drift between layers.

/** One thing wrong with the inputs. `input` names the action input (or `kube-env (KEY)`). */
export interface InputProblem {
  input: string;
  problem: string;
  fix: string;
}

/** Every problem found in the inputs, reported at once. Thrown before anything is read or written. */
export class InputError extends Error {
  readonly problems: InputProblem[];

  constructor(problems: InputProblem[]) {
    super(formatInputProblems(problems));
    this.name = 'InputError';
    this.problems = problems;
  }
}

export function formatInputProblems(problems: InputProblem[]): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  const lines = problems.map((p) => `  - ${p.input}: ${p.problem} Fix: ${p.fix}`);
  return [`the inputs have ${count}; nothing was changed.`, ...lines].join('\n');
}

/** The planner refused the request (PlanResult `refuse`), carried to the runner as an error. */
export class RefusedError extends Error {
  readonly problem: string;
  readonly fix: string;
  readonly nothingChanged: boolean;

  constructor(problem: string, fix: string, nothingChanged: boolean) {
    const changed = nothingChanged ? 'Nothing was changed.' : 'Earlier steps of this run did change the cluster (see the summary).';
    super(`${/[.!?]$/.test(problem) ? problem : `${problem}.`} ${changed} Fix: ${fix}`);
    this.name = 'RefusedError';
    this.problem = problem;
    this.fix = fix;
    this.nothingChanged = nothingChanged;
  }
}

/** The message of anything thrown, including non-Error values. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
