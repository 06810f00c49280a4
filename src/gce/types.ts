// The action's view of Compute Engine: plain data in and out, nothing from the client library
// leaks past src/gce/. Every write waits for its operation and throws a GceError on failure.

export interface AccessConfigInfo {
  name: string;
  natIP?: string;
}

export interface InstanceInfo {
  name: string;
  zone: string;
  status: string;
  internalIp?: string;
  /** Access configs of nic0. */
  accessConfigs: AccessConfigInfo[];
  labels: Record<string, string>;
  labelFingerprint: string;
  metadata: Record<string, string>;
  metadataFingerprint: string;
  tags: string[];
  /** The VM's service account, if it has one. */
  serviceAccount?: string;
  /** Its machine type's and nic0's network's names, and the size of its data disk `<vm>-pd`, as GCE reports them. */
  machineType?: string;
  network?: string;
  dataDiskSizeGb?: number;
  creationTimestamp: string;
  selfLink: string;
}

export interface AddressInfo {
  name: string;
  region: string;
  address: string;
  status: 'RESERVED' | 'IN_USE' | 'RESERVING';
  /** selfLinks of the resources using it. */
  users: string[];
  labels: Record<string, string>;
  labelFingerprint: string;
}

export interface TargetPoolInfo {
  name: string;
  region: string;
  /** Instance selfLinks. */
  instances: string[];
  /** Health check selfLinks. */
  healthChecks: string[];
  selfLink: string;
}

export interface ForwardingRuleInfo {
  name: string;
  region: string;
  IPAddress: string;
  target: string;
  portRange: string;
}

export interface ZoneRecord {
  name: string;
  region: string;
  status: 'UP' | 'DOWN';
}

export interface InstanceSpec {
  zone: string;
  name: string;
  machineType: string;
  /** e.g. `projects/debian-cloud/global/images/family/debian-12` */
  image: string;
  network: string;
  tags: string[];
  labels: Record<string, string>;
  metadata: Record<string, string>;
  /** Static external IP to put on nic0's access config; ephemeral when absent. */
  natIP?: string;
  dataDiskSizeGb: number;
  /** The VM's service account (scope cloud-platform: IAM alone decides what it may do). */
  serviceAccount: string;
}

export interface FirewallSpec {
  name: string;
  network: string;
  description: string;
  allowed: { IPProtocol: string; ports: string[] }[];
  targetTags: string[];
  sourceTags?: string[];
  sourceRanges?: string[];
}

/** A VPC firewall rule as the action reads it back (to explain a blocked IAP tunnel). */
export interface FirewallRule {
  name: string;
  /** The network's name (the last part of its URL). */
  network: string;
  direction: 'INGRESS' | 'EGRESS';
  priority: number;
  disabled: boolean;
  action: 'allow' | 'deny';
  /** IP protocol and ports ("2379", "2000-3000"; empty: every port). */
  rules: { protocol: string; ports: string[] }[];
  sourceRanges: string[];
  sourceTags: string[];
  targetTags: string[];
  /** Rules that name service accounts instead of tags. */
  byServiceAccount: boolean;
}

export interface HttpHealthCheckSpec {
  name: string;
  port: number;
  requestPath: string;
  checkIntervalSec: number;
  timeoutSec: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface ComputeApi {
  readonly project: string;

  listZones(): Promise<ZoneRecord[]>;
  getDefaultServiceAccount(): Promise<string>;
  /** Zone/instance names for `name` filter `<prefix>.*` across all zones (aggregatedList). */
  listInstances(namePrefix: string): Promise<InstanceInfo[]>;
  getInstance(zone: string, name: string): Promise<InstanceInfo | undefined>;
  /** A guest attribute `<namespace>/<key>` the VM wrote (its start-up progress); undefined if none. */
  getGuestAttribute(zone: string, name: string, variableKey: string): Promise<string | undefined>;
  insertInstance(spec: InstanceSpec): Promise<void>;
  deleteInstance(zone: string, name: string): Promise<void>;
  /** Power-cycles the VM (it boots and runs its start-up script again). */
  resetInstance(zone: string, name: string): Promise<void>;
  /** Replaces every metadata item; fails with conditionNotMet on a stale fingerprint. */
  setInstanceMetadata(zone: string, name: string, items: Record<string, string>, fingerprint: string): Promise<void>;
  setInstanceLabels(zone: string, name: string, labels: Record<string, string>, fingerprint: string): Promise<void>;
  deleteAccessConfig(zone: string, instance: string, accessConfig: string): Promise<void>;
  addAccessConfig(zone: string, instance: string, accessConfig: string, natIP?: string): Promise<void>;

  getAddress(region: string, name: string): Promise<AddressInfo | undefined>;
  /** Every regional address of the project, in every region (aggregatedList). */
  listAddresses(): Promise<AddressInfo[]>;
  insertAddress(region: string, name: string, labels: Record<string, string>): Promise<void>;
  setAddressLabels(region: string, name: string, labels: Record<string, string>, fingerprint: string): Promise<void>;
  deleteAddress(region: string, name: string): Promise<void>;

  getFirewall(name: string): Promise<{ name: string } | undefined>;
  insertFirewall(spec: FirewallSpec): Promise<void>;
  deleteFirewall(name: string): Promise<void>;
  /** Every firewall rule of the network (all pages). */
  listFirewalls(network: string): Promise<FirewallRule[]>;

  getHttpHealthCheck(name: string): Promise<{ name: string; selfLink: string } | undefined>;
  insertHttpHealthCheck(spec: HttpHealthCheckSpec): Promise<void>;
  deleteHttpHealthCheck(name: string): Promise<void>;

  getTargetPool(region: string, name: string): Promise<TargetPoolInfo | undefined>;
  insertTargetPool(region: string, name: string, instanceLinks: string[], healthCheckLinks: string[]): Promise<void>;
  addTargetPoolInstance(region: string, name: string, instanceLink: string): Promise<void>;
  removeTargetPoolInstance(region: string, name: string, instanceLink: string): Promise<void>;
  deleteTargetPool(region: string, name: string): Promise<void>;

  getForwardingRule(region: string, name: string): Promise<ForwardingRuleInfo | undefined>;
  insertForwardingRule(
    region: string,
    name: string,
    ip: string,
    targetLink: string,
    portRange: string,
    labels?: Record<string, string>,
  ): Promise<void>;
  deleteForwardingRule(region: string, name: string): Promise<void>;

  /** Node managed instance groups whose name starts with `namePrefix`, in every zone (aggregatedList). */
  listInstanceGroupManagers(namePrefix: string): Promise<{ name: string; zone: string }[]>;
  /** Deletes the group and the instances it manages. */
  deleteInstanceGroupManager(zone: string, name: string): Promise<void>;
  /** Instance templates whose name starts with `namePrefix`. */
  listInstanceTemplates(namePrefix: string): Promise<{ name: string }[]>;
  deleteInstanceTemplate(name: string): Promise<void>;

  /** selfLink of a zonal instance, as target pools want it. */
  instanceLink(zone: string, name: string): string;
  httpHealthCheckLink(name: string): string;
  targetPoolLink(region: string, name: string): string;
}
