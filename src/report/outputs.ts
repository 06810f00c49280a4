// The action's outputs (action.yml `outputs:`), as the exact strings core.setOutput gets.

import type { RunReport } from '../model.ts';
import { replicaViews } from './replica-view.ts';

/** `kubeconfigPath`: the admin kubeconfig main.ts wrote after the run, if any. */
export function outputsFor(report: RunReport, kubeconfigPath = ''): Record<string, string> {
  const { state } = report;
  return {
    // With a load balancer the forwarding rule holds the static IP, so both name one address.
    'external-ip': state.address?.ip ?? state.forwardingRule?.ip ?? '',
    'replica-count': String(state.replicas.length),
    'replicas-json': JSON.stringify(replicaViews(state)),
    'load-balancer': String(state.forwardingRule !== undefined),
    changed: String(report.changed),
    'replica-name': report.replicaName ?? '',
    'etcd-snapshot': report.snapshot?.path ?? '',
    kubeconfig: kubeconfigPath,
    'cert-expiry': state.certExpiry?.notAfter ?? '',
  };
}
