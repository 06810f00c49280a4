// machineTypes.get / list / aggregatedList: the same shapes in every zone.
import type { Call } from '../context.ts';
import type { Resource } from '../store/store.ts';
import { MACHINE_TYPES, type MachineTypeInfo } from '../catalogue.ts';
import { notFound } from '../http/errors.ts';
import { link } from '../http/wire.ts';
import { aggregatedResponse, checkZone, listResponse } from './common.ts';

function machineTypeResource(project: string, zone: string, mt: MachineTypeInfo): Resource {
  return {
    kind: 'compute#machineType',
    id: mt.id,
    creationTimestamp: '1969-12-31T16:00:00.000-08:00',
    name: mt.name,
    description: mt.description,
    guestCpus: mt.guestCpus,
    memoryMb: mt.memoryMb,
    imageSpaceGb: 0,
    maximumPersistentDisks: 128,
    maximumPersistentDisksSizeGb: '263168',
    zone,
    isSharedCpu: mt.isSharedCpu ?? false,
    architecture: 'X86_64',
    selfLink: link(`projects/${project}/zones/${zone}/machineTypes/${mt.name}`),
  };
}

export function machineTypeExists(name: string): boolean {
  return MACHINE_TYPES.some((m) => m.name === name) || /^(e2|n1|n2)-custom-\d+-\d+$/.test(name);
}

export function getMachineType(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  const mt = MACHINE_TYPES.find((m) => m.name === c.params.machineType);
  if (!mt) throw notFound(`projects/${c.project}/zones/${zone}/machineTypes/${c.params.machineType}`);
  return machineTypeResource(c.project, zone, mt);
}

export function listMachineTypes(c: Call) {
  const zone = c.params.zone as string;
  checkZone(zone);
  return listResponse(
    c,
    `projects/${c.project}/zones/${zone}/machineTypes`,
    'machineTypes',
    MACHINE_TYPES.map((m) => machineTypeResource(c.project, zone, m)),
  );
}

export const aggregatedMachineTypes = (c: Call) =>
  aggregatedResponse(c, 'machineTypes', 'zones', (zone) => MACHINE_TYPES.map((m) => machineTypeResource(c.project, zone, m)));
