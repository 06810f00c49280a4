// What the engine needs from the outside world. main.ts wires the real ones; tests wire the same
// real ones against the emulator (never fakes of GCE or etcd).
import type { ComputeApi, InstanceInfo } from '../gce/types.ts';
import type { EtcdAdmin, TlsMaterial } from '../etcd/types.ts';
import type { ReadyzResult } from '../kube/apiserver.ts';
import type { KeyStore } from './key-store.ts';
import type { RunEndedCheck, WorkflowRunRef } from '../github/workflow-run.ts';

export interface EngineDeps {
  compute: ComputeApi;
  /** The cluster's private keys in Secret Manager. */
  keys: KeyStore;
  /** An etcd admin client for the cluster's client certificate. */
  etcd: (tls: TlsMaterial) => EtcdAdmin;
  /** GET <url>/readyz verified against `caPem`, expecting a certificate for `serverName`. */
  probeReadyz: (baseUrl: string, caPem: string, timeoutMs: number, tls: { serverName: string }) => Promise<ReadyzResult>;
  /** Told each pass's replica VMs before anything dials them (the IAP transport finds VMs by IP). */
  sawReplicas?: (vms: InstanceInfo[]) => void;
  /** A failure of the way the runner reaches replicas that no retry mends (IAP: credentials, permission, a firewall that keeps IAP out). */
  reachProblem?: () => Promise<{ problem: string; fix: string } | undefined>;
  /** This job's GitHub workflow run (written beside the lock), and how to ask whether another run has ended. */
  workflowRun?: { mine?: WorkflowRunRef; ended?: RunEndedCheck };
  log: (line: string) => void;
  /** Registers a secret so that no log line can show it (core.setSecret). */
  mask: (secret: string) => void;
  now: () => Date;
  limits: EngineLimits;
}

export interface EngineLimits {
  /** Longest wait for a replica's etcd and apiserver to be ready. */
  readyTimeoutMs: number;
  /** Longest a whole run may take. */
  runTimeoutMs: number;
  /** Most steps one run applies (a guard against a planner loop). */
  maxSteps: number;
  /** Longest wait for another run's lock on the cluster before giving up. */
  lockWaitMs: number;
}

export const DEFAULT_LIMITS: EngineLimits = {
  readyTimeoutMs: 10 * 60_000,
  runTimeoutMs: 30 * 60_000,
  maxSteps: 200,
  lockWaitMs: 5 * 60_000,
};
