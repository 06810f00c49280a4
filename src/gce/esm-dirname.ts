// google-gax's grpc.js computes `path.join(__dirname, ...)` when it loads. Bundled into one ES module
// (ncc, the action's dist/index.js) there is no `__dirname`, and loading throws. A global one fixes
// the bundle; unbundled, every CommonJS module has its own and this is never read. Import this
// before any @google-cloud/compute or google-gax module.

import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const scope = globalThis as { __dirname?: string };
scope.__dirname ??= dirname(fileURLToPath(import.meta.url));
