// Finding a VM's PID 1 from the host. systemd-nspawn first forks a helper in the host's PID
// namespace, which starts the guest's init in a new one and exits: taking nspawn's first child
// would catch that helper, and a kill aimed at it later could hit whatever process reuses its PID.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const pidNamespace = (pid: number): string | undefined => {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
};

/** The child of `parent` that runs in a PID namespace other than the parent's, if there is one yet. */
export function childInOwnPidNamespace(parent: number): number | undefined {
  const own = pidNamespace(parent);
  if (own === undefined) return undefined;
  let children: number[];
  try {
    children = readdirSync(`/proc/${parent}/task`).flatMap((t) =>
      readFileSync(`/proc/${parent}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return undefined;
  }
  return children.find((pid) => {
    const ns = pidNamespace(pid);
    return ns !== undefined && ns !== own;
  });
}
