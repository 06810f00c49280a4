// The boundary between the emulator's REST layer (emulator/*, which owns the resource store) and
// its runtime (emulator/runtime/*, which owns processes, sockets and health). The REST layer calls
// `apply` with the whole desired world after every change; the runtime makes reality match,
// idempotently (start what is missing, stop what is gone, restart what changed).
import type { Socket } from 'node:net';

export interface RuntimeInstance {
  /** `<zone>/<name>`: unique key. */
  key: string;
  name: string;
  zone: string;
  /** GCE status string: only RUNNING instances have processes. */
  status: string;
  internalIp: string;
  /** External IPs currently on nic0's access config (ephemeral or static). */
  externalIps: string[];
  /** Metadata items as key -> value (see docs/vm-contract.md). */
  metadata: Record<string, string>;
  /** Directory standing for the data disk `<name>-pd`: etcd's data dir lives under it. */
  dataDiskDir: string;
  project: string;
  /** GCE's numeric id of the instance. */
  id: string;
  /** nic0's network (short name) and the region of the zone. */
  network: string;
  region: string;
  /** Source image of the boot disk (a link), '' when unknown. */
  bootImage: string;
  /** Directory of the boot disk resource ('' when none). */
  bootDiskDir: string;
  /** The first non-boot disk, as a VM sees it. */
  dataDisk?: { deviceName: string; dir: string; sizeGb: number };
  serviceAccountEmail?: string;
  /** Network tags (firewall rules select targets and sources by them). */
  tags: string[];
}

export interface RuntimeHealthCheck {
  port: number;
  requestPath: string;
  checkIntervalSec: number;
  timeoutSec: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface RuntimeForwardingRule {
  /** `<region>/<name>` */
  key: string;
  ip: string;
  portLow: number;
  portHigh: number;
  /** Instance keys (`<zone>/<name>`) of the target pool. */
  backends: string[];
  /** The pool's legacy HTTP health check, if it has one. */
  healthCheck?: RuntimeHealthCheck;
  /** When the rule was created/last changed (ms epoch): it serves after the programming delay. */
  changedAt: number;
}

/** One VPC firewall rule, as the runtime enforces it (only the Debian runtime has a VPC to enforce it in). */
export interface RuntimeFirewall {
  name: string;
  /** Short name of the VPC network it belongs to. */
  network: string;
  direction: 'INGRESS' | 'EGRESS';
  /** 0..65535; the lowest number wins, and at equal priority a deny wins. */
  priority: number;
  disabled: boolean;
  action: 'allow' | 'deny';
  /** The allowed or denied protocols, each with its ports ([] = every port). */
  rules: { protocol: string; ports: string[] }[];
  sourceRanges: string[];
  sourceTags: string[];
  /** [] = every instance of the network. */
  targetTags: string[];
}

export interface RuntimeWorld {
  instances: RuntimeInstance[];
  forwardingRules: RuntimeForwardingRule[];
  firewalls: RuntimeFirewall[];
}

/**
 * A VM's read of a Secret Manager version (`projects/P/secrets/S/versions/V`) as its service account
 * (docs/vm-contract.md, "Private keys"): the payload's text, or the HTTP status it met.
 */
export type VmSecretRead = (
  version: string,
  serviceAccount: string,
) => Promise<{ status: 200; data: string } | { status: number; data?: undefined }>;

/** A VM's download of one generation of a Cloud Storage object as its service account: the bytes, or the HTTP status it met. */
export type VmObjectRead = (
  bucket: string,
  object: string,
  generation: string,
  serviceAccount: string,
) => Promise<{ status: 200; data: Buffer } | { status: number; data?: undefined }>;

export interface RuntimeOptions {
  /** Root for per-VM files (certs, logs). */
  stateDir: string;
  /** ms before a new/changed forwarding rule carries traffic (GCE once needed ~20 min). */
  lbProgrammingDelayMs: number;
  /** Identity lease renew interval (kube-apiserver default 10 s). */
  leaseRenewIntervalMs: number;
  /** Path of the etcd binary (default `etcd` on PATH). */
  etcdBinary: string;
  /** How master VMs read the secrets their metadata names (KEYS_SECRET); without it every read is 503. */
  readSecret?: VmSecretRead;
  /** How master VMs download the snapshot `etcd-restore-from` names; without it every read is 503. */
  readObject?: VmObjectRead;
  log: (line: string) => void;
}

export interface VmRuntime {
  apply(world: RuntimeWorld): Promise<void>;
  /** HEALTHY / UNHEALTHY of one backend of a forwarding rule's pool, as last probed. */
  backendHealth(instanceKey: string, check: RuntimeHealthCheck): 'HEALTHY' | 'UNHEALTHY';
  /** Fault: SIGKILL one VM's etcd (the runtime restarts it with back-off, as the kubelet would, unless `keepDown`). */
  killEtcd(instanceKey: string, keepDown: boolean): Promise<void>;
  /** PIDs of every process it runs, for tests that check nothing leaks. */
  pids(): number[];
  /** How internal IPs are handed out: loopback (127.B.1.N) or GCE's region subnets in a VPC. */
  readonly addressing?: 'loopback' | 'vpc';
  /** What the VM printed on its serial console since it was created (instances.getSerialPortOutput). */
  serialOutput?(instanceKey: string): Buffer;
  /** Guest attributes the VM wrote, `<namespace>/<key>` -> value (instances.getGuestAttributes). */
  guestAttributes?(instanceKey: string): Map<string, string>;
  /**
   * Opens a TCP connection to a VM as IAP's TCP forwarding does (from 35.235.240.1, through the
   * VPC's firewall), resolved once it is up (paused, nothing read from it yet); rejects when refused,
   * or not up within timeoutMs. A runtime without it has its VMs on host addresses, which the IAP
   * relay dials directly.
   */
  connectForIap?(target: { network: string; internalIp: string }, port: number, timeoutMs: number): Promise<Socket>;
  stop(): Promise<void>;
}
