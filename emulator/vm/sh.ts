// Running the host's own tools (ip, losetup, mount, umount) for the Debian VM runtime. Every call
// is argv-only (no shell), bounded in time, and its error says which command failed and what it
// printed, because these are the failures a developer has to read.
import { execFile } from 'node:child_process';

export class CommandError extends Error {
  readonly stderr: string;
  constructor(argv: string[], stderr: string, cause: string) {
    super(`${argv.join(' ')}: ${stderr.trim() || cause}`);
    this.stderr = stderr;
  }
}

export function run(argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new CommandError(argv, String(stderr), err.message));
      else resolve(String(stdout));
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like run, but a failure whose stderr matches `ignore` (e.g. "already gone") counts as success. */
export async function runTolerant(argv: string[], ignore: RegExp): Promise<void> {
  try {
    await run(argv);
  } catch (e) {
    if (e instanceof CommandError && ignore.test(e.stderr)) return;
    throw e;
  }
}
