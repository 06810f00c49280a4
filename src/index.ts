// Entry point of the bundled action (dist/index.js).
import { run } from './main.ts';

// A run stopped at its timeout leaves work that would keep the process alive for minutes (a GCE
// operation wait, a membership call): exit now, with the failure already recorded.
if ((await run()) === 'abandoned') process.exit();
