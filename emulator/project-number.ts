// GCE's numeric project id, and the default Compute Engine service account named after it. The
// emulator has no project registry: the number is derived from the project's name, so every part
// of the emulator (projects.get, the runner's metadata server, instances) tells the same one.
import { createHash } from 'node:crypto';

export const projectNumber = (project: string): string =>
  String(BigInt(`0x${createHash('sha256').update(project).digest('hex').slice(0, 10)}`) % 10n ** 12n);

/** What GCE puts in an instance's serviceAccounts[].email when it was created with `default`. */
export const defaultComputeServiceAccount = (project: string): string => `${projectNumber(project)}-compute@developer.gserviceaccount.com`;
