// Reads what an action wrote to GITHUB_OUTPUT, for the demo and the tests that run dist/ the way
// the runner does.

/** GITHUB_OUTPUT's `name<<delimiter ... delimiter` blocks (what @actions/core writes). */
export function parseGithubOutput(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
    out[m[1]!] = value.join('\n');
  }
  return out;
}
