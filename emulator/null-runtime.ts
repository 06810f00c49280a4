// A runtime that runs nothing: for REST-only use (`--no-vms`) and REST conformance tests. Every
// backend reports HEALTHY. The real runtime (emulator/runtime/) runs etcd and apiserver stand-ins.
import type { RuntimeHealthCheck, RuntimeWorld, VmRuntime } from './runtime/types.ts';

export interface NullRuntime extends VmRuntime {
  /** Worlds received, newest last (tests inspect what the REST layer asked for). */
  worlds: RuntimeWorld[];
  killed: Array<{ instanceKey: string; keepDown: boolean }>;
}

export function createNullRuntime(): NullRuntime {
  const worlds: RuntimeWorld[] = [];
  const killed: Array<{ instanceKey: string; keepDown: boolean }> = [];
  return {
    worlds,
    killed,
    async apply(world: RuntimeWorld) {
      worlds.push(structuredClone(world));
      if (worlds.length > 50) worlds.shift();
    },
    backendHealth(_key: string, _check: RuntimeHealthCheck) {
      return 'HEALTHY';
    },
    async killEtcd(instanceKey: string, keepDown: boolean) {
      killed.push({ instanceKey, keepDown });
    },
    pids: () => [],
    async stop() {},
  };
}
