// projects.get: gcloud reads the project (default service account, common metadata) before some
// writes. Any project name exists in the emulator.
import type { Call } from '../context.ts';
import { defaultComputeServiceAccount, projectNumber } from '../project-number.ts';
import { link } from '../http/wire.ts';

export function getProject(c: Call) {
  const number = projectNumber(c.project);
  return {
    kind: 'compute#project',
    id: number,
    creationTimestamp: '2024-01-01T00:00:00.000-08:00',
    name: c.project,
    commonInstanceMetadata: { kind: 'compute#metadata', fingerprint: 'y1rBcqzl9GA=' },
    quotas: [
      { metric: 'FIREWALLS', limit: 200, usage: 0 },
      { metric: 'FORWARDING_RULES', limit: 45, usage: 0 },
    ],
    defaultServiceAccount: defaultComputeServiceAccount(c.project),
    xpnProjectStatus: 'UNSPECIFIED_XPN_PROJECT_STATUS',
    defaultNetworkTier: 'PREMIUM',
    vmDnsSetting: 'ZONAL_ONLY',
    selfLink: link(`projects/${c.project}`),
  };
}
