// The start-up script every master runs (vm/startup.sh, docs/vm-contract.md). It ships as a file:
// beside dist/index.js in the bundle (scripts/bundle.sh copies it), at vm/ in the repository.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Relative to this module in the repository (src/vm/) and to the bundle (dist/index.js). Built
// from a variable, so that the bundler leaves the URL alone instead of trying to inline the file.
const PLACES = ['../../vm/startup.sh', './startup.sh'];

let cached: string | undefined;

export function startupScript(): string {
  if (cached !== undefined) return cached;
  for (const place of PLACES) {
    const path = fileURLToPath(new URL(place, import.meta.url));
    if (existsSync(path)) return (cached = readFileSync(path, 'utf8'));
  }
  throw new Error(
    `the master start-up script is missing (looked for ${PLACES.join(' and ')} beside ${fileURLToPath(import.meta.url)}): the action is incompletely installed; re-run npm run bundle`,
  );
}
