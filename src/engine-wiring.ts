// The engine's wiring for one cluster: the way to its replicas (IAP or direct, checked before any
// use) and the EngineDeps around it. A run wires one cluster; the janitor one per cluster it deletes.
import * as core from '@actions/core';
import type { ComputeApiHandle } from './gce/client.ts';
import { createEtcdAdmin } from './etcd/admin.ts';
import { createReach } from './reach.ts';
import type { Reach } from './reach.ts';
import { clusterNames } from './model.ts';
import type { ActionInputs } from './inputs.ts';
import { RefusedError } from './errors.ts';
import { IapError } from './iap/errors.ts';
import { DEFAULT_LIMITS } from './engine/deps.ts';
import type { EngineDeps } from './engine/deps.ts';
import { currentRunRef, workflowRunEndedCheck } from './github/workflow-run.ts';
import type { KeyStore } from './engine/key-store.ts';
import type { RunnerAuth } from './auth/adc.ts';

/** The caller closes `reach` when the cluster's run is over (also when this throws, it is closed here). */
export async function wireCluster(
  inputs: ActionInputs,
  compute: ComputeApiHandle,
  keys: KeyStore,
  prefix: string,
  { token, mask }: RunnerAuth,
): Promise<{ deps: EngineDeps; reach: Reach }> {
  const { intent } = inputs;
  const names = clusterNames(prefix);
  const reach = createReach({
    kind: intent.transport ?? 'direct',
    compute,
    master: names.master,
    network: intent.network,
    iapFirewall: names.firewallIap,
    iapEndpoint: inputs.iapEndpoint,
    token,
    mask,
    log: (l) => core.debug(l),
  });
  try {
    await reach.preflight();
  } catch (err) {
    await reach.close();
    throw err instanceof IapError ? new RefusedError(err.problem, err.fix, true) : err;
  }
  const deps: EngineDeps = {
    compute,
    keys,
    etcd: (tls) => createEtcdAdmin(tls, reach.transport, { log: (l) => core.debug(l) }),
    probeReadyz: reach.probeReadyz,
    reachProblem: reach.problem,
    sawReplicas: (vms) => reach.learn(vms),
    workflowRun: {
      mine: currentRunRef(process.env),
      ...(inputs.githubToken ? { ended: workflowRunEndedCheck(inputs.githubToken, process.env, (l) => core.info(l)) } : {}),
    },
    log: (l) => core.info(l),
    mask,
    now: () => new Date(),
    limits: { ...DEFAULT_LIMITS, runTimeoutMs: inputs.timeoutMs },
  };
  return { deps, reach };
}
