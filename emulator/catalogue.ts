// The fixed part of the world: regions, zones, images, machine types, disk types and the default
// network. Enough of GCE's catalogue for the calls `gcloud compute instances create` and the action make.

export interface ZoneInfo {
  name: string;
  region: string;
  id: string;
}
export interface RegionInfo {
  name: string;
  id: string;
  description: string;
}

export const REGIONS: RegionInfo[] = [
  { name: 'europe-west1', id: '1100', description: 'europe-west1' },
  { name: 'us-central1', id: '1000', description: 'us-central1' },
  { name: 'us-east1', id: '1230', description: 'us-east1' },
];

export const ZONES: ZoneInfo[] = [
  { name: 'europe-west1-b', region: 'europe-west1', id: '2101' },
  { name: 'europe-west1-c', region: 'europe-west1', id: '2102' },
  { name: 'europe-west1-d', region: 'europe-west1', id: '2103' },
  { name: 'us-central1-a', region: 'us-central1', id: '2000' },
  { name: 'us-central1-b', region: 'us-central1', id: '2001' },
  { name: 'us-central1-c', region: 'us-central1', id: '2002' },
  { name: 'us-central1-f', region: 'us-central1', id: '2004' },
  { name: 'us-east1-b', region: 'us-east1', id: '2231' },
  { name: 'us-east1-c', region: 'us-east1', id: '2232' },
  { name: 'us-east1-d', region: 'us-east1', id: '2233' },
];

export const zoneInfo = (name: string): ZoneInfo | undefined => ZONES.find((z) => z.name === name);
export const regionInfo = (name: string): RegionInfo | undefined => REGIONS.find((r) => r.name === name);

export interface ImageInfo {
  project: string;
  name: string;
  family: string;
  id: string;
  diskSizeGb: string;
  description: string;
}

export const IMAGES: ImageInfo[] = [
  {
    project: 'debian-cloud',
    name: 'debian-12-bookworm-v20250610',
    family: 'debian-12',
    id: '5383591893411893281',
    diskSizeGb: '10',
    description: 'Debian, Debian GNU/Linux, 12 (bookworm), amd64 built on 20250610',
  },
  {
    project: 'debian-cloud',
    name: 'debian-11-bullseye-v20250610',
    family: 'debian-11',
    id: '3119304103419386385',
    diskSizeGb: '10',
    description: 'Debian, Debian GNU/Linux, 11 (bullseye), amd64 built on 20250610',
  },
  {
    project: 'cos-cloud',
    name: 'cos-stable-121-18867-90-38',
    family: 'cos-stable',
    id: '7420837475398743172',
    diskSizeGb: '10',
    description: 'Google, Container-Optimized OS, 121-18867.90.38 stable',
  },
  {
    project: 'ubuntu-os-cloud',
    name: 'ubuntu-2204-jammy-v20250606',
    family: 'ubuntu-2204-lts',
    id: '1984230972234612331',
    diskSizeGb: '10',
    description: 'Canonical, Ubuntu, 22.04 LTS, amd64 jammy image built on 2025-06-06',
  },
];

export interface MachineTypeInfo {
  name: string;
  guestCpus: number;
  memoryMb: number;
  id: string;
  description: string;
  isSharedCpu?: boolean;
}

export const MACHINE_TYPES: MachineTypeInfo[] = [
  { name: 'e2-micro', guestCpus: 2, memoryMb: 1024, id: '334001', description: '0.25 CPU (2 vCPU burst), 1 GB RAM', isSharedCpu: true },
  { name: 'e2-small', guestCpus: 2, memoryMb: 2048, id: '334002', description: '0.5 CPU (2 vCPU burst), 2 GB RAM', isSharedCpu: true },
  { name: 'e2-medium', guestCpus: 2, memoryMb: 4096, id: '334003', description: '1 CPU (2 vCPU burst), 4 GB RAM', isSharedCpu: true },
  { name: 'e2-standard-2', guestCpus: 2, memoryMb: 8192, id: '334004', description: '2 vCPUs, 8 GB RAM' },
  { name: 'e2-standard-4', guestCpus: 4, memoryMb: 16384, id: '334005', description: '4 vCPUs, 16 GB RAM' },
  { name: 'n1-standard-1', guestCpus: 1, memoryMb: 3840, id: '3001', description: '1 vCPU, 3.75 GB RAM' },
  { name: 'n1-standard-2', guestCpus: 2, memoryMb: 7680, id: '3002', description: '2 vCPUs, 7.5 GB RAM' },
  { name: 'n1-standard-4', guestCpus: 4, memoryMb: 15360, id: '3004', description: '4 vCPUs, 15 GB RAM' },
  { name: 'n2-standard-2', guestCpus: 2, memoryMb: 8192, id: '901002', description: '2 vCPUs, 8 GB RAM' },
];

export const DISK_TYPES = ['pd-standard', 'pd-balanced', 'pd-ssd'];
export const NETWORKS = ['default'];
