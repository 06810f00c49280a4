// Counted nouns for messages: "1 replica", "3 replicas".

export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
