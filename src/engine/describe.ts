// One short line per step for logs and the job summary.
import type { Step } from '../model.ts';

export function describeStep(s: Step): string {
  switch (s.kind) {
    case 'createReplica': return `create VM ${s.replica} in ${s.zone}${s.first ? ' (first master)' : ''}`;
    case 'setMemberCerts': return `issue etcd certificate for ${s.replica}`;
    case 'addLearner': return `add ${s.replica} to etcd as learner (${s.peerUrl})`;
    case 'promoteLearner': return `promote ${s.replica} to voter`;
    case 'waitReady': return `wait for ${s.replica} to be ready`;
    case 'createTargetPool': return `create target pool with ${s.instances.map((i) => i.name).join(', ')}`;
    case 'addToTargetPool': return `add ${s.replica} to target pool`;
    case 'removeFromTargetPool': return `remove ${s.replica} from target pool`;
    case 'detachStaticIp': return `detach static IP from ${s.replica}`;
    case 'attachStaticIp': return `attach static IP to ${s.replica}`;
    case 'attachEphemeralIp': return `attach ephemeral IP to ${s.replica}`;
    case 'moveLeader': return `move etcd leadership ${s.fromId} -> ${s.toId}`;
    case 'removeMember': return `remove etcd member ${s.memberName}`;
    case 'deleteReplica': return `delete VM ${s.replica} in ${s.zone}`;
    case 'createFirewall': return `create firewall ${s.name}`;
    case 'deleteFirewall': return `delete firewall ${s.name}`;
    case 'deleteNodeGroup': return `delete node group ${s.name} in ${s.zone}`;
    case 'deleteNodeTemplate': return `delete node template ${s.name}`;
    case 'writeJournal': return `journal: request ${s.entry.request} ${s.entry.phase} ${s.entry.replica}`;
    case 'dropJournal': return `journal: drop request ${s.request}`;
    default: return s.kind.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);
  }
}
