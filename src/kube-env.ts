// The `kube-env` input: kube-up/kube-down flags written the way the HA docs show them, e.g.
//   MULTIZONE=true KUBE_GCE_ZONE=europe-west1-b ENABLE_ETCD_QUORUM_READS=true ./cluster/kube-up.sh
// or one `KEY=value` (optionally `export KEY=value`) per line, with shell quotes and comments.
// Nothing here is executed: words are split like a shell would, expansions are refused.

import type { InputProblem } from './errors.ts';

/** Action inputs that a kube-env key can set. */
export type KubeEnvInput =
  'gce-zone' | 'multizone' | 'enable-etcd-quorum-read' | 'replicate-existing-master' | 'delete-nodes' | 'replica-name' | 'instance-prefix';

/** kube-up/kube-down variable -> the input it sets. */
export const KUBE_ENV_KEYS: Readonly<Record<string, KubeEnvInput>> = {
  KUBE_GCE_ZONE: 'gce-zone',
  MULTIZONE: 'multizone',
  // The scripts read the singular; the HA docs' sample command spells it with an S.
  ENABLE_ETCD_QUORUM_READ: 'enable-etcd-quorum-read',
  ENABLE_ETCD_QUORUM_READS: 'enable-etcd-quorum-read',
  KUBE_REPLICATE_EXISTING_MASTER: 'replicate-existing-master',
  KUBE_DELETE_NODES: 'delete-nodes',
  KUBE_REPLICA_NAME: 'replica-name',
  KUBE_GCE_INSTANCE_PREFIX: 'instance-prefix',
};

/** kube-up variables the action does not read from kube-env, with where their meaning went. */
const KNOWN_BUT_NOT_READ: Readonly<Record<string, string>> = {
  MASTER_SIZE: 'set the machine-type input instead',
  MASTER_DISK_SIZE: 'set the data-disk-size-gb input instead (a number of GB)',
  KUBE_GCE_NETWORK: 'set the network input instead',
  NETWORK: 'set the network input instead',
  PROJECT: 'set the project input instead',
  KUBE_GCE_MASTER_IMAGE: 'set the image input instead',
  KUBE_GCE_MASTER_PROJECT: 'set the image input instead',
  REGION: 'the region always follows from the zone',
  MASTER_NAME: 'the master name is always <instance-prefix>-master',
  KUBE_USE_EXISTING_MASTER: 'it adds nodes, not master replicas, and is not part of HA',
  KUBE_GCE_PRIVATE_CLUSTER: 'private clusters (internal load balancer) are not supported',
};

export interface KubeEnvValue {
  /** The variable as written, e.g. `ENABLE_ETCD_QUORUM_READS`. */
  key: string;
  value: string;
}

export interface KubeEnvResult {
  values: Partial<Record<KubeEnvInput, KubeEnvValue>>;
  /** Set by a `kube-up.sh` / `kube-down.sh` word. */
  script?: 'up' | 'down';
  warnings: string[];
  problems: InputProblem[];
}

interface Word {
  text: string;
  /** Contains `$` or a backquote outside single quotes: a shell would have expanded it. */
  expands: boolean;
}

const SEPARATORS = new Set([';', '&', '|', '(', ')']);
const COMMAND_WORDS = new Set(['export', 'env', 'bash', 'sh', 'sudo', '-E', 'time']);

/** Splits shell text into words, dropping comments and separators. */
function splitWords(text: string, problems: InputProblem[]): Word[] {
  const words: Word[] = [];
  let current: Word | undefined;
  const append = (s: string): void => {
    current ??= { text: '', expands: false };
    current.text += s;
  };
  const finish = (): void => {
    if (current) words.push(current);
    current = undefined;
  };

  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || SEPARATORS.has(c)) {
      finish();
      i++;
    } else if (c === '#' && current === undefined) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '\\') {
      const next = text[i + 1];
      if (next === '\n')
        i += 2; // line continuation
      else if (next === undefined) i++;
      else {
        append(next);
        i += 2;
      }
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) {
        problems.push({
          input: 'kube-env',
          problem: `a single quote opened at ${excerpt(text, i)} is never closed.`,
          fix: "close the quote (kube-env is read like a shell line: 'value').",
        });
        return words;
      }
      append(text.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let closed = false;
      append('');
      while (j < text.length) {
        const d = text[j]!;
        if (d === '"') {
          closed = true;
          break;
        }
        if (d === '\\' && j + 1 < text.length && '"\\$`\n'.includes(text[j + 1]!)) {
          if (text[j + 1] !== '\n') append(text[j + 1]!);
          j += 2;
          continue;
        }
        if (d === '$' || d === '`') current!.expands = true;
        append(d);
        j++;
      }
      if (!closed) {
        problems.push({
          input: 'kube-env',
          problem: `a double quote opened at ${excerpt(text, i)} is never closed.`,
          fix: 'close the quote (kube-env is read like a shell line: "value").',
        });
        return words;
      }
      i = j + 1;
    } else {
      append(c);
      if (c === '$' || c === '`') current!.expands = true;
      i++;
    }
  }
  finish();
  return words;
}

function excerpt(text: string, at: number): string {
  return JSON.stringify(text.slice(at, at + 20));
}

function scriptOf(word: string): 'up' | 'down' | undefined {
  const base = word.slice(word.lastIndexOf('/') + 1);
  if (base === 'kube-up.sh') return 'up';
  if (base === 'kube-down.sh') return 'down';
  return undefined;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/;

export function parseKubeEnv(text: string): KubeEnvResult {
  const result: KubeEnvResult = { values: {}, warnings: [], problems: [] };
  const words = splitWords(text, result.problems);
  const unknownKeys: string[] = [];
  const ignoredWords: string[] = [];

  for (const word of words) {
    const assignment = ASSIGNMENT.exec(word.text);
    if (assignment) {
      setValue(result, assignment[1]!, assignment[2]!, word.expands, unknownKeys);
      continue;
    }
    const script = scriptOf(word.text);
    if (script) {
      if (result.script && result.script !== script) {
        result.problems.push({
          input: 'kube-env',
          problem: 'it runs both kube-up.sh and kube-down.sh; one run does one of them.',
          fix: 'keep one script in kube-env, or drop both and set the operation input.',
        });
      }
      result.script = script;
      continue;
    }
    if (!COMMAND_WORDS.has(word.text)) ignoredWords.push(word.text);
  }

  for (const key of unknownKeys) {
    const hint = KNOWN_BUT_NOT_READ[key];
    result.warnings.push(
      hint
        ? `kube-env: ${key} is not read by this action: ${hint}.`
        : `kube-env: ${key} is not a flag this action knows; it was ignored (known: ${Object.keys(KUBE_ENV_KEYS).join(', ')}).`,
    );
  }
  if (ignoredWords.length > 0) {
    result.warnings.push(
      `kube-env: ignored ${ignoredWords.map((w) => JSON.stringify(w)).join(', ')} (only KEY=value and kube-up.sh/kube-down.sh are read).`,
    );
  }
  return result;
}

function setValue(result: KubeEnvResult, key: string, value: string, expands: boolean, unknownKeys: string[]): void {
  const input = KUBE_ENV_KEYS[key];
  if (!input) {
    if (!unknownKeys.includes(key)) unknownKeys.push(key);
    return;
  }
  if (expands) {
    result.problems.push({
      input: `kube-env (${key})`,
      problem: `${JSON.stringify(value)} needs a shell to expand it, and kube-env is never run by a shell.`,
      fix: `write the value itself, e.g. ${key}=europe-west1-b, or build the text with a workflow expression such as \${{ vars.ZONE }}.`,
    });
    return;
  }
  // As in the scripts, an empty value means the flag is not set.
  if (value === '') return;
  const previous = result.values[input];
  if (previous && previous.value !== value) {
    if (previous.key !== key) {
      result.problems.push({
        input: `kube-env (${key})`,
        problem: `it says ${JSON.stringify(value)} but ${previous.key} says ${JSON.stringify(previous.value)}, and both set ${input}.`,
        fix: `keep only one of ${previous.key} and ${key}.`,
      });
      return;
    }
    result.warnings.push(`kube-env: ${key} is set twice; the last value, ${JSON.stringify(value)}, is used (as a shell would).`);
  }
  result.values[input] = { key, value };
}
