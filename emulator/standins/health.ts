// /readyz, /livez and /healthz as kube-apiserver answers them (k8s.io/apiserver/pkg/server/healthz):
// `ok` when every check passes; otherwise 500 and the list of checks with the failures' reasons
// withheld (they go to the log). `?verbose` lists the checks on success too, `?exclude=<check>` skips
// one, `/readyz/<check>` runs a single check.
export interface HealthCheck {
  name: string;
  check: () => Promise<string | undefined>; // undefined = healthy, else why not
}

export interface HealthAnswer {
  status: number;
  body: string;
  failures: string[];
}

export async function runHealth(
  endpoint: string,
  checks: HealthCheck[],
  subPath: string,
  query: URLSearchParams,
): Promise<HealthAnswer | undefined> {
  if (subPath) {
    const only = checks.find((c) => c.name === subPath);
    if (!only) return undefined;
    const problem = await only.check();
    return problem === undefined
      ? { status: 200, body: 'ok', failures: [] }
      : { status: 500, body: `internal server error: ${problem}\n`, failures: [`[-]${only.name} failed: ${problem}`] };
  }
  const excluded = new Set(query.getAll('exclude'));
  const verbose = query.has('verbose');
  const lines: string[] = [];
  const failures: string[] = [];
  for (const c of checks) {
    if (excluded.has(c.name)) {
      lines.push(`[+]${c.name} excluded: ok`);
      continue;
    }
    const problem = await c.check();
    if (problem === undefined) lines.push(`[+]${c.name} ok`);
    else {
      lines.push(`[-]${c.name} failed: reason withheld`);
      failures.push(`[-]${c.name} failed: ${problem}`);
    }
  }
  if (failures.length > 0) return { status: 500, body: `${lines.join('\n')}\n${endpoint} check failed\n`, failures };
  return { status: 200, body: verbose ? `${lines.join('\n')}\n${endpoint} check passed\n` : 'ok', failures };
}
