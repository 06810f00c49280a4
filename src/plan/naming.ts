// New replica names: `<master>-<3 hex>`. The suffix comes from the request id, so a run that
// dies before its VM exists picks the same name again when it is re-run.
import { createHash } from 'node:crypto';
import type { ClusterNames } from '../model.ts';

export function newReplicaName(names: ClusterNames, taken: Iterable<string>, seed: string): string {
  const used = new Set(taken);
  for (let attempt = 0; attempt < 4096; attempt++) {
    const suffix = createHash('sha256').update(`${seed}/${attempt}`).digest('hex').slice(0, 3);
    const name = `${names.master}-${suffix}`;
    if (!used.has(name)) return name;
  }
  throw new Error(`all 4096 replica names of ${names.master} are taken`);
}
