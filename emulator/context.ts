// What every resource handler works with: the store, IP allocation, operations, faults, and a way
// to say "the world changed" (the runtime is then given the new world).
import type { ResourceStore } from './store/store.ts';
import type { MetaStore } from './store/meta.ts';
import type { IpAllocator } from './ips.ts';
import type { Operations } from './operations.ts';
import type { Faults } from './faults.ts';
import type { VmRuntime } from './runtime/types.ts';
import type { ReleaseMirror } from './vm/mirror.ts';
import type { RunnerIdentity } from './http/runner-metadata.ts';
import type { IapRelay } from './iap/relay.ts';

export interface EmulatorContext {
  store: ResourceStore;
  meta: MetaStore;
  ips: IpAllocator;
  ops: Operations;
  faults: Faults;
  runtime: VmRuntime;
  /** The release mirror (Debian runtime only). */
  mirror?: ReleaseMirror;
  /** Who the runner is to Google's libraries (its metadata server), and the tokens it is given. */
  runner: RunnerIdentity;
  /** The IAP TCP-forwarding relay, once it listens. */
  iap?: IapRelay;
  /** Root of per-disk directories (`<stateDir>/disks/<zone>/<disk>`). */
  stateDir: string;
  /** Queue a `runtime.apply` of the current world. */
  worldChanged(): void;
  log(line: string): void;
}

/** Arguments of a request after routing. */
export interface Call {
  ctx: EmulatorContext;
  project: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}
