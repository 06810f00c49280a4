// `node emulator/vm/build-image.ts [--cache DIR]`: builds the Debian VM image unless it is cached
// (scripts/setup.sh runs it, so the first test run does not pay for it inside a test's timeout).
import { parseArgs } from 'node:util';
import { DEFAULT_IMAGE_CACHE, ensureImage } from './image.ts';
import { debianRuntimeSupport } from './support.ts';

const { values } = parseArgs({ options: { cache: { type: 'string', default: DEFAULT_IMAGE_CACHE } } });
const support = debianRuntimeSupport(values.cache);
if (!support.ok) {
  process.stderr.write(`the Debian VM image cannot be built here: ${support.why}\n`);
  process.exit(1);
}
const image = await ensureImage(values.cache, (line) => process.stdout.write(`${line}\n`));
process.stdout.write(`Debian VM image: ${image.dir}\n`);
