// The action's outputs (action.yml `outputs:`), as the exact strings core.setOutput gets.

import type { RunReport } from '../model.ts';
import { clusterHealth } from './health.ts';
import { replicaViews } from './replica-view.ts';
import { describeStep } from './steps.ts';

/** `kubeconfigPath`: the admin kubeconfig main.ts wrote after the run, if any. */
export function outputsFor(report: RunReport, kubeconfigPath = ''): Record<string, string> {
  const { state } = report;
  const { healthy } = clusterHealth(state);
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
    // Empty when no replica exists: there is nothing to judge.
    healthy: healthy === undefined ? '' : String(healthy),
    'plan-json': report.plan ? planJson(report) : '',
    repaired: report.operation === 'repair' ? replacedReplicas(report).join(',') : '',
  };
}

/** The replicas a repair or rollout run replaced: those whose removal it recorded as done (their VM may have been gone already). */
export function replacedReplicas(report: RunReport): string[] {
  return report.steps.flatMap((s) =>
    s.step.kind === 'writeJournal' && s.step.entry.phase === 'done' && /-r\d*$/.test(s.step.entry.request) ? [s.step.entry.replica] : [],
  );
}

/** A dry run's plan for later steps of a workflow: each step as the planner made it, in words, and why. */
function planJson(report: RunReport): string {
  const plan = report.plan!;
  return JSON.stringify({
    operation: report.operation,
    master: report.state.names.master,
    steps: plan.steps.map((s) => ({ kind: s.step.kind, description: describeStep(s.step, report.state), reason: s.reason, step: s.step })),
    outcome: plan.outcome,
    refused: plan.refused,
  });
}
