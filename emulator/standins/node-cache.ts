// Keeps the stand-ins small. Node runs the .ts files by stripping their types with a WebAssembly
// compiler (amaro) that stays in memory, ~12 MB per process. With Node's compile cache enabled
// (the wrappers set NODE_COMPILE_CACHE) the stripped code is cached and amaro is not loaded at all.
// On a cold cache the process writes the cache and replaces itself (execve, same PID, which systemd
// keeps tracking) by a fresh Node that then starts from the cache.
import { flushCompileCache, getCompileCacheDir } from 'node:module';

const AMARO = 'NativeModule internal/deps/amaro/dist/index';
const GUARD = 'HA_EMULATOR_STANDIN_RESTARTED';

export function restartWithoutTypeStripper(): void {
  const proc = process as NodeJS.Process & {
    moduleLoadList?: string[];
    execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never;
  };
  if (!getCompileCacheDir() || !proc.moduleLoadList?.includes(AMARO) || typeof proc.execve !== 'function') return;
  if (process.env[GUARD] === String(process.pid)) return; // already restarted once: cache not usable
  flushCompileCache();
  proc.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    ...process.env,
    [GUARD]: String(process.pid),
  });
}
