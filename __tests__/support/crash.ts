// Simulated process deaths for crash-resume tests: the engine's real dependencies (emulator and
// real etcd), wrapped so that the run "dies" right after a chosen write has returned.
import type { EngineDeps } from '../../src/engine/deps.ts';

export class SimulatedCrash extends Error {}

const WRITE = /^(insert|delete|set|add|remove)/;
const ETCD_WRITES = new Set(['addLearner', 'promote', 'moveLeader', 'removeMember']);

/** `target` whose every method call goes through `around` (which may call `invoke`). */
export function intercepted<T extends object>(target: T, around: (name: string, args: unknown[], invoke: () => unknown) => unknown): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => around(String(prop), args, () => (value as (...a: unknown[]) => unknown).apply(t, args));
    },
  });
}

/** Secret Manager writes of the engine's key store. */
const KEY_WRITES = new Set(['saveCluster', 'shareCluster', 'saveReplica', 'deleteSecret']);

/**
 * Deps whose k-th write (GCE or etcd membership; with `keys`, Secret Manager too) succeeds and then
 * the "process dies".
 */
export function crashAfterWrite(k: number, seen: string[], opts: { keys?: boolean } = {}) {
  let count = 0;
  const after = <T>(name: string, p: Promise<T>): Promise<T> =>
    p.then((v) => {
      count++;
      seen.push(name);
      if (count === k) throw new SimulatedCrash(`simulated crash after write ${k} (${name})`);
      return v;
    });
  return (deps: EngineDeps): EngineDeps => ({
    ...deps,
    compute: intercepted(deps.compute, (name, _args, invoke) => (WRITE.test(name) ? after(name, invoke() as Promise<unknown>) : invoke())),
    etcd: (tls) =>
      intercepted(deps.etcd(tls), (name, _args, invoke) =>
        ETCD_WRITES.has(name) ? after(`etcd.${name}`, invoke() as Promise<unknown>) : invoke(),
      ),
    keys: opts.keys
      ? intercepted(deps.keys, (name, _args, invoke) =>
          KEY_WRITES.has(name) ? after(`keys.${name}`, invoke() as Promise<unknown>) : invoke(),
        )
      : deps.keys,
  });
}
