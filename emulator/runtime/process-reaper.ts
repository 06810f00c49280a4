// Last line of defence against leaked etcd processes: if this Node process exits without
// stop() (a crash, process.exit in a test runner), every etcd still registered is SIGKILLed
// synchronously by PID. Only 'exit' handlers run in that case, and they cannot await.
const live = new Set<number>();
let installed = false;

function killAllNow(): void {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

export function trackPid(pid: number): void {
  if (!installed) {
    installed = true;
    process.on('exit', killAllNow);
  }
  live.add(pid);
}

export function untrackPid(pid: number): void {
  live.delete(pid);
}
