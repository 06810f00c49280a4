// Equality-based label selectors (`a=b`, `a==b`, `a!=b`, `a`, `!a`, comma = AND), the part of
// Kubernetes' selector grammar that lease listing needs. Set-based forms (`in`, `notin`) are refused.
export type LabelSelector = (labels: Record<string, string>) => boolean;

export function parseLabelSelector(text: string): LabelSelector | { error: string } {
  const tests: LabelSelector[] = [];
  for (const raw of text.split(',')) {
    const term = raw.trim();
    if (!term) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([A-Za-z0-9./_-]+)\s*!=\s*([A-Za-z0-9._-]*)$/.exec(term))) {
      const [, k, v] = m as unknown as [string, string, string];
      tests.push((l) => l[k] !== v);
    } else if ((m = /^([A-Za-z0-9./_-]+)\s*==?\s*([A-Za-z0-9._-]*)$/.exec(term))) {
      const [, k, v] = m as unknown as [string, string, string];
      tests.push((l) => l[k] === v);
    } else if ((m = /^!([A-Za-z0-9./_-]+)$/.exec(term))) {
      const k = m[1]!;
      tests.push((l) => !(k in l));
    } else if ((m = /^([A-Za-z0-9./_-]+)$/.exec(term))) {
      const k = m[1]!;
      tests.push((l) => k in l);
    } else {
      return { error: `unable to parse requirement: ${term}` };
    }
  }
  return (labels) => tests.every((t) => t(labels));
}
