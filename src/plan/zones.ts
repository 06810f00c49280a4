// Placement: add where there are fewest replicas, remove where there are most. Ties go to the
// first zone in name order, so that the same state always gives the same answer.

export function countByZone(zones: string[], replicaZones: string[]): Map<string, number> {
  const counts = new Map<string, number>(zones.map((z) => [z, 0]));
  for (const z of replicaZones) if (counts.has(z)) counts.set(z, (counts.get(z) ?? 0) + 1);
  return counts;
}

/** The zone (of `zones`) with the fewest replicas. */
export function pickFewest(zones: string[], replicaZones: string[]): string | undefined {
  const counts = countByZone(zones, replicaZones);
  return [...counts.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** The zone (among those that have replicas) with the most replicas. */
export function pickMost(replicaZones: string[]): string | undefined {
  const counts = countByZone([...new Set(replicaZones)], replicaZones);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

/** Zones that have two or more replicas while some allowed zone has none. */
export function crowdedZones(zones: string[], replicaZones: string[]): { crowded: string[]; empty: string[] } {
  const counts = countByZone(zones, replicaZones);
  const empty = [...counts].filter(([, n]) => n === 0).map(([z]) => z);
  const crowded = empty.length ? [...counts].filter(([, n]) => n >= 2).map(([z]) => z) : [];
  return { crowded, empty };
}
