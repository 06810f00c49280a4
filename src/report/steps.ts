// One sentence per step for the job summary, naming every resource the step touches.

import { memberIdHex, type ClusterState, type Step } from '../model.ts';

export function describeStep(step: Step, state: ClusterState): string {
  const n = state.names;
  const member = (id: string): string => {
    const m = state.etcd.members.find((x) => x.id === id);
    return m?.name ? `${m.name} (${memberIdHex(id)})` : memberIdHex(id);
  };
  switch (step.kind) {
    case 'createAddress':
      return `reserve static IP ${n.address}`;
    case 'createFirewall':
      return `create firewall ${step.name}`;
    case 'createHealthCheck':
      return `create HTTP health check ${n.healthCheck}`;
    case 'createReplica':
      return step.first
        ? `create VM ${step.replica} in ${step.zone} (first master: a new one-member etcd cluster)`
        : `create VM ${step.replica} in ${step.zone} (joins etcd through ${step.seeds.join(', ')})`;
    case 'setMemberCerts':
      return `give ${step.replica} its etcd member certificate`;
    case 'addLearner':
      return `add ${step.replica} to etcd as a learner (${step.peerUrl})`;
    case 'promoteLearner':
      return `promote ${step.replica} (member ${memberIdHex(step.memberId)}) to voter`;
    case 'waitReady':
      return `wait until ${step.replica} is a healthy etcd voter with a ready apiserver`;
    case 'createTargetPool':
      return `create target pool ${n.targetPool} with ${step.instances.map((i) => i.name).join(', ')}`;
    case 'addToTargetPool':
      return `add ${step.replica} to target pool ${n.targetPool}`;
    case 'removeFromTargetPool':
      return `remove ${step.replica} from target pool ${n.targetPool}`;
    case 'detachStaticIp':
      return `take static IP ${n.address} off ${step.replica}`;
    case 'attachStaticIp':
      return `put static IP ${n.address} on ${step.replica}`;
    case 'attachEphemeralIp':
      return `give ${step.replica} an ephemeral external IP`;
    case 'createForwardingRule':
      return `create forwarding rule ${n.forwardingRule}: ${n.address} tcp:443 to target pool ${n.targetPool}`;
    case 'deleteForwardingRule':
      return `delete forwarding rule ${n.forwardingRule}`;
    case 'deleteTargetPool':
      return `delete target pool ${n.targetPool}`;
    case 'moveLeader':
      return `move etcd leadership from ${member(step.fromId)} to ${member(step.toId)}`;
    case 'removeMember':
      return `remove etcd member ${step.memberName || '(never started)'} (${memberIdHex(step.memberId)})`;
    case 'deleteReplica':
      return `delete VM ${step.replica} in ${step.zone} with its disks`;
    case 'deleteIdentityLease':
      return `delete kube-apiserver identity lease kube-system/${step.name} of ${step.replica}`;
    case 'deleteFirewall':
      return `delete firewall ${step.name}`;
    case 'deleteHealthCheck':
      return `delete HTTP health check ${n.healthCheck}`;
    case 'deleteAddress':
      return `release static IP ${n.address}`;
    case 'deleteNodeGroup':
      return `delete node group ${step.name} in ${step.zone}`;
    case 'deleteNodeTemplate':
      return `delete node template ${step.name}`;
    case 'moveKeys':
      return `move the private keys in the metadata of ${step.replica} to Secret Manager`;
    case 'deleteSecret':
      return `delete secret ${step.name} and its versions`;
    case 'waitRunning':
      return `wait until VM ${step.replica} in ${step.zone}, still being created, runs`;
    case 'writeRecovery':
      return step.record
        ? `record the recovery on ${n.address}: rebuild etcd from ${step.record.survivor}, back to ${step.record.count} replicas (${step.record.phase === 'p' ? 'prepared' : 'forced'})`
        : `clear the recovery record on ${n.address}`;
    case 'forceNewCluster':
      return `set etcd-force-new-cluster on ${step.replica} in ${step.zone}, reset it, and wait until it serves as a one-member etcd cluster`;
    case 'restoreSnapshot':
      return `set etcd-restore-from on ${step.replica} in ${step.zone} (gs://${step.source.bucket}/${step.source.object}, generation ${step.source.generation ?? '?'}), reset it, and wait until it serves the restored data as a one-member etcd cluster`;
    case 'pause':
      return `wait ${Math.round(step.ms / 1000)} s and look again (${step.why})`;
    case 'waitForLock':
      return `wait for run ${step.holder} to finish and let go of the lock on ${n.master}`;
    case 'writeJournal':
      return `record request ${step.entry.request}: ${step.entry.phase} ${step.entry.replica}`;
    case 'labelCluster':
      return `label ${n.master}'s VMs and address ${n.address} with ${Object.entries(step.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ')}`;
    case 'reclaimEtcdSpace':
      return `reclaim etcd's space: compact, defragment ${step.defragOrder.map((id) => member(id)).join(', ')} in turn, disarm NOSPACE`;
    default:
      return unknownStep(step);
  }
}

// A kind added to the model later still gets a line (and tsc points here).
function unknownStep(step: never): string {
  return (step as { kind: string }).kind;
}
