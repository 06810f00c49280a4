// Compute v1 REST resources as they travel, with only the fields the adapter reads or writes
// (https://cloud.google.com/compute/docs/reference/rest/v1). Every field may be absent in an answer.
// int64 fields travel as decimal strings; int32 fields as numbers.

export type Labels = Record<string, string>;

export interface Operation {
  name?: string;
  /** URL of the zone (zonal operations) or region (regional ones); neither for global ones. */
  zone?: string;
  region?: string;
  status?: 'PENDING' | 'RUNNING' | 'DONE';
  httpErrorStatusCode?: number;
  error?: { errors?: { code?: string; message?: string }[] };
}

/** One page of a `list` call. */
export interface ListPage<T> {
  items?: T[];
  nextPageToken?: string;
}

/** One page of an `aggregatedList` call: `items` keyed by scope (`zones/us-central1-a`). */
export interface AggregatedPage<K extends string, T> {
  items?: Record<string, { [key in K]?: T[] }>;
  nextPageToken?: string;
}

export interface Zone {
  name?: string;
  region?: string;
  status?: string;
}

export interface Project {
  defaultServiceAccount?: string;
}

export interface MetadataItem {
  key: string;
  value?: string;
}

export interface Metadata {
  fingerprint?: string;
  items?: MetadataItem[];
}

export interface AccessConfig {
  name?: string;
  type?: 'ONE_TO_ONE_NAT';
  natIP?: string;
}

export interface Instance {
  name?: string;
  zone?: string;
  status?: string;
  machineType?: string;
  tags?: { items?: string[] };
  labels?: Labels;
  labelFingerprint?: string;
  metadata?: Metadata;
  disks?: {
    boot?: boolean;
    autoDelete?: boolean;
    deviceName?: string;
    initializeParams?: { diskName?: string; sourceImage?: string; diskType?: string; /** int64 */ diskSizeGb?: string };
    /** Output only: the attached disk's size (int64). */
    diskSizeGb?: string;
  }[];
  networkInterfaces?: { network?: string; networkIP?: string; accessConfigs?: AccessConfig[] }[];
  serviceAccounts?: { email?: string; scopes?: string[] }[];
  scheduling?: { automaticRestart?: boolean; onHostMaintenance?: string };
  creationTimestamp?: string;
  selfLink?: string;
}

export interface GuestAttributes {
  variableValue?: string;
}

export interface Address {
  name?: string;
  region?: string;
  address?: string;
  addressType?: 'EXTERNAL' | 'INTERNAL';
  status?: string;
  users?: string[];
  labels?: Labels;
  labelFingerprint?: string;
}

/** The body of `setLabels` on instances and regional resources. */
export interface SetLabelsRequest {
  labels: Labels;
  labelFingerprint: string;
}

export interface FirewallEntry {
  IPProtocol?: string;
  ports?: string[];
}

export interface Firewall {
  name?: string;
  network?: string;
  description?: string;
  direction?: 'INGRESS' | 'EGRESS';
  priority?: number;
  disabled?: boolean;
  allowed?: FirewallEntry[];
  denied?: FirewallEntry[];
  sourceRanges?: string[];
  sourceTags?: string[];
  targetTags?: string[];
  sourceServiceAccounts?: string[];
  targetServiceAccounts?: string[];
}

export interface HttpHealthCheck {
  name?: string;
  port?: number;
  requestPath?: string;
  checkIntervalSec?: number;
  timeoutSec?: number;
  healthyThreshold?: number;
  unhealthyThreshold?: number;
  selfLink?: string;
}

export interface TargetPool {
  name?: string;
  region?: string;
  instances?: string[];
  healthChecks?: string[];
  selfLink?: string;
}

/** The body of `addInstance` / `removeInstance` on a target pool. */
export interface TargetPoolInstances {
  instances: { instance: string }[];
}

export interface ForwardingRule {
  name?: string;
  region?: string;
  IPAddress?: string;
  IPProtocol?: 'TCP' | 'UDP';
  portRange?: string;
  target?: string;
  loadBalancingScheme?: 'EXTERNAL';
  labels?: Labels;
}

export interface InstanceGroupManager {
  name?: string;
  /** Set on zonal groups; a regional group has `region` instead. */
  zone?: string;
  region?: string;
}

export interface InstanceTemplate {
  name?: string;
}
