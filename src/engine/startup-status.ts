// A master's own word on its start-up (docs/vm-contract.md): the guest attribute the start-up
// script keeps, `running: <step>`, `ok` or `failed: <why>`. A failure names the cause a user can
// act on ("kubernetes-server sha512 mismatch"), which a timeout never would.
import type { ComputeApi } from '../gce/types.ts';

export const STARTUP_ATTRIBUTE = 'ha-masters/startup';

/** What the VM reported last, or undefined (not yet, or the attribute cannot be read). */
export async function startupStatus(compute: ComputeApi, zone: string, replica: string): Promise<string | undefined> {
  return compute.getGuestAttribute(zone, replica, STARTUP_ATTRIBUTE).catch(() => undefined);
}

export function startupFailureMessage(replica: string, zone: string, reported: string): string {
  return (
    `replica ${replica} cannot become ready: its start-up script reports "${reported}". ` +
    `Its serial console has every step: gcloud compute instances get-serial-port-output ${replica} --zone ${zone}. ` +
    `Fix the cause (a release manifest with a wrong digest, an unreachable mirror, a missing data disk), then run operation: replace with replica-name: ${replica}`
  );
}

/**
 * Explains a replica that did not come up: throws its start-up failure if the script reported one,
 * else returns what it reports while still at work (e.g. a download being retried), or ''.
 */
export async function explainStartup(compute: ComputeApi, zone: string, replica: string): Promise<string> {
  const reported = await startupStatus(compute, zone, replica);
  if (reported?.startsWith('failed')) throw new Error(startupFailureMessage(replica, zone, reported));
  return reported && reported !== 'ok'
    ? `its start-up script reports "${reported}" (serial console: gcloud compute instances get-serial-port-output ${replica} --zone ${zone})`
    : '';
}
