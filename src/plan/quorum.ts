// Quorum projection: a membership change is allowed only if the cluster it leaves behind still
// has a healthy majority of voters. A member being added is counted unhealthy (the worst case:
// it may never start), except when growing from zero or one voter, where no majority can be kept
// anyway. Learners never vote and are not counted.
import { memberIdHex, type EtcdMember } from '../model.ts';
import { count } from '../words.ts';

export function quorumOf(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

export interface Projection {
  ok: boolean;
  votersAfter: number;
  healthyAfter: number;
  needed: number;
  /** One sentence with the numbers, for logs and refusals. */
  explanation: string;
}

function project(votersAfter: number, healthyAfter: number, change: string): Projection {
  const needed = quorumOf(votersAfter);
  const ok = votersAfter > 0 && healthyAfter >= needed;
  return {
    ok,
    votersAfter,
    healthyAfter,
    needed,
    explanation: `${change} leaves ${count(votersAfter, 'voting member')} with ${healthyAfter} healthy; quorum needs ${needed}`,
  };
}

/** Removing `target` (a voter or a learner) from `members`. */
export function projectRemoval(members: EtcdMember[], targetId: string): Projection {
  const target = members.find((m) => m.id === targetId);
  const rest = members.filter((m) => m.id !== targetId && !m.isLearner);
  const change = target ? `removing ${target.name || memberIdHex(target.id)}` : `removing member ${memberIdHex(targetId)}`;
  return project(rest.length, rest.filter((m) => m.healthy).length, change);
}

/** Promoting a learner to voter: it is counted healthy only if it answers right now. */
export function projectPromotion(members: EtcdMember[], learnerId: string): Projection {
  const learner = members.find((m) => m.id === learnerId);
  const voters = members.filter((m) => !m.isLearner);
  const healthy = voters.filter((m) => m.healthy).length + (learner?.healthy ? 1 : 0);
  return project(voters.length + 1, healthy, `promoting ${learner?.name || memberIdHex(learnerId)}`);
}

/** Adding a learner changes no vote, but etcd (strict reconfig) refuses it unless every voter is connected. */
export function canAddLearner(members: EtcdMember[]): { ok: boolean; why?: string } {
  const learner = members.find((m) => m.isLearner);
  if (learner)
    return {
      ok: false,
      why: `learner ${learner.name || memberIdHex(learner.id)} must be promoted or removed first (etcd allows one learner)`,
    };
  const sick = members.filter((m) => !m.isLearner && !m.healthy);
  if (sick.length > 0) {
    return {
      ok: false,
      why: `${sick.length === 1 ? 'voting member' : 'voting members'} ${sick.map((m) => m.name || memberIdHex(m.id)).join(', ')} ${sick.length === 1 ? 'is' : 'are'} unhealthy; etcd refuses to add a member until every voter is connected`,
    };
  }
  return { ok: true };
}
