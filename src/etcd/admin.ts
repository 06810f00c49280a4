// etcd membership for the action: observe, add a learner, promote, move the leader, remove.
// Rules measured on etcd 3.4 (research/etcd-membership.md) that shape every function here:
// - every call carries a deadline: the server never times out a membership change;
// - a change refused by the strict reconfig check ("unhealthy cluster") was never proposed, so it
//   is repeated until the deadline; any other unclear outcome (a timeout) is followed by a fresh
//   member list before anything is sent again, and the list decides whether it is already done;
// - writes go to a member that answered the member list (learners refuse it), never to a learner
//   and never to the member being removed;
// - one client per endpoint, without etcd3's retries and circuit breaker (client.ts).
import type { Etcd3, IMember, IStatusResponse } from 'etcd3';
import { memberIdHex, type EtcdMember, type EtcdView } from '../model.ts';
import { classifyEtcdError, shortError } from './errors.ts';
import type { EtcdAdmin, EtcdTransport, TlsMaterial } from './types.ts';
import { writeSnapshot } from './snapshot.ts';
import type { SnapshotInfo } from './snapshot.ts';

export interface EtcdAdminOptions {
  /** Deadline of each single call (status, member list, one membership change). Default 5000. */
  callTimeoutMs?: number;
  /**
   * How long addLearner, removeMember and moveLeader keep retrying what is safe to retry, and how
   * long a snapshot stream may go without a byte. Default 30000.
   */
  membershipTimeoutMs?: number;
  /** Pause between retries. Default 200. */
  retryIntervalMs?: number;
  log?: (line: string) => void;
}

// A member list read through a member that is not the leader may be a little stale; a quorum
// read through the same member proves it is connected to a majority.
const QUORUM_PROBE_KEY = Buffer.from('ha-masters/quorum-probe');
// Absolute epoch values (ms) are far above any sensible duration: promote accepts either.
const EPOCH_THRESHOLD_MS = 1e12;
/** A failed call shorter than this was a refused or dropped connection, not a member too slow to answer. */
const FAST_FAILURE_MS = 1000;

type Attempt<T> = { done: T } | { retry: string };

export function createEtcdAdmin(tls: TlsMaterial, transport: EtcdTransport, opts: EtcdAdminOptions = {}): EtcdAdmin {
  const callTimeoutMs = opts.callTimeoutMs ?? 5000;
  const membershipTimeoutMs = opts.membershipTimeoutMs ?? 30_000;
  const retryIntervalMs = opts.retryIntervalMs ?? 200;
  const log = opts.log ?? (() => {});
  const clients = new Map<string, Etcd3>();

  async function clientFor(endpoint: string): Promise<Etcd3> {
    const dialUrl = await transport.dialUrl(endpoint);
    const key = `${endpoint} ${dialUrl}`;
    let client = clients.get(key);
    if (!client) {
      // Loaded on first use: etcd3 parses its .proto files as it loads (~30 ms of every start).
      // `eager` keeps it in dist/index.js rather than a chunk of its own (see scripts/bundle.sh).
      const { createMemberClient } = await import(/* webpackMode: "eager" */ './client.ts');
      client = createMemberClient(tls, endpoint, dialUrl);
      clients.set(key, client);
    }
    return client;
  }

  function callOptions(cap = Infinity): { deadline: number } {
    return { deadline: Math.min(Date.now() + callTimeoutMs, cap) };
  }

  async function listMembers(endpoint: string, cap?: number): Promise<IMember[]> {
    const res = await (await clientFor(endpoint)).cluster.memberList({ linearizable: true }, callOptions(cap));
    return res.members;
  }

  async function status(endpoint: string, cap?: number): Promise<IStatusResponse> {
    return (await clientFor(endpoint)).maintenance.status(callOptions(cap));
  }

  /**
   * A member's status, or undefined when it does not answer. A call that fails at once is asked
   * again once: a connection that dropped under it (tunnels and NATs drop idle ones) says nothing
   * about the member, and a member must not count as sick, which blocks every change, for that.
   * A call that timed out is not repeated: that member is slow or gone.
   */
  async function memberStatus(endpoint: string): Promise<IStatusResponse | undefined> {
    const started = Date.now();
    try {
      return await status(endpoint);
    } catch (err) {
      log(`etcd: status of ${endpoint} failed after ${Date.now() - started} ms: ${shortError(err)}`);
      if (Date.now() - started >= FAST_FAILURE_MS) return undefined;
    }
    await sleep(retryIntervalMs);
    return status(endpoint).catch((err: unknown) => {
      log(`etcd: status of ${endpoint} failed again: ${shortError(err)}`);
      return undefined;
    });
  }

  async function quorumRead(endpoint: string, cap?: number): Promise<void> {
    await (await clientFor(endpoint)).kv.range({ key: QUORUM_PROBE_KEY, serializable: false, count_only: true }, callOptions(cap));
  }

  /**
   * Finds a member that answers the member list (so it is a voter), skipping `avoid` (a member about
   * to be removed), and runs one attempt through it with the fresh list. Repeats what the attempt
   * marks as retryable, and what timed out, until `deadline`.
   */
  async function reconfigure<T>(
    what: string,
    endpoints: string[],
    deadline: number,
    attempt: (endpoint: string, members: IMember[]) => Promise<Attempt<T>>,
    avoid?: (members: IMember[]) => string[],
    stop?: AbortSignal,
  ): Promise<T> {
    if (endpoints.length === 0) throw new Error(`${what}: no etcd endpoints given`);
    let problem = '';
    let retries = 0;
    for (;;) {
      stop?.throwIfAborted();
      let tried = false;
      for (const endpoint of endpoints) {
        let members: IMember[];
        try {
          members = await listMembers(endpoint, deadline);
        } catch (err) {
          problem = `${endpoint}: ${shortError(err)}`;
          continue;
        }
        const learnerUrls = members.filter((m) => m.isLearner).flatMap((m) => m.clientURLs);
        if (learnerUrls.includes(endpoint) || (avoid?.(members) ?? []).includes(endpoint)) continue;
        tried = true;
        try {
          const outcome = await attempt(endpoint, members);
          if ('done' in outcome) {
            if (retries > 0) log(`etcd: ${what}: done after ${retries} retries`);
            return outcome.done;
          }
          problem = outcome.retry;
        } catch (err) {
          const kind = classifyEtcdError(err);
          if (kind !== 'unhealthyCluster' && kind !== 'deadline' && kind !== 'unreachable' && kind !== 'notLeader' && kind !== 'noLeader') {
            throw new Error(`${what} through ${endpoint} failed: ${shortError(err)}`, { cause: err });
          }
          // A timeout leaves the outcome unknown: the next pass starts with a fresh member list.
          problem = `${endpoint}: ${shortError(err)}`;
        }
        break;
      }
      if (!tried && problem === '') problem = 'no voting member among the endpoints answered';
      if (Date.now() + retryIntervalMs >= deadline) {
        throw new Error(`${what}: gave up after ${membershipTimeoutMs} ms; last problem: ${problem}`);
      }
      if (retries === 0) log(`etcd: ${what}: will retry until the deadline: ${problem}`);
      retries++;
      await sleep(retryIntervalMs);
    }
  }

  async function observe(endpoints: string[]): Promise<EtcdView> {
    if (endpoints.length === 0) return { reachable: false, members: [], error: 'no etcd endpoints to ask' };
    const phaseDeadline = Date.now() + callTimeoutMs;
    const reads = await Promise.all(
      endpoints.map(async (endpoint) => {
        try {
          const members = await listMembers(endpoint, phaseDeadline);
          // Retried within the phase: right after a leader dies the read fails until the election ends.
          for (;;) {
            try {
              await quorumRead(endpoint, phaseDeadline);
              return { endpoint, members, quorum: true };
            } catch (err) {
              const kind = classifyEtcdError(err);
              const retryable =
                kind === 'noLeader' || kind === 'notLeader' || (kind === 'deadline' && !/Deadline exceeded/i.test(shortError(err)));
              if (!retryable || Date.now() + retryIntervalMs >= phaseDeadline) {
                return { endpoint, members, quorum: false, error: `${endpoint}: quorum read: ${shortError(err)}` };
              }
              await sleep(retryIntervalMs);
            }
          }
        } catch (err) {
          return { endpoint, members: undefined, quorum: false, error: `${endpoint}: member list: ${shortError(err)}` };
        }
      }),
    );
    const withQuorum = reads.find((r) => r.quorum);
    const source = withQuorum ?? reads.find((r) => r.members !== undefined);
    if (!source?.members) {
      return { reachable: false, members: [], error: reads.map((r) => r.error).join('; ') };
    }
    const listed = source.members;
    const statuses = await Promise.all(
      listed.map(async (m) => {
        const url = m.clientURLs[0];
        if (!url) return undefined;
        const st = await memberStatus(url);
        // Another member now behind that URL (an address reused) does not speak for this one.
        return st?.header.member_id === m.ID ? st : undefined;
      }),
    );
    const alarms = new Map<string, string[]>();
    const addAlarm = (memberId: string, alarm: string) => {
      const list = alarms.get(memberId) ?? [];
      if (!list.includes(alarm)) list.push(alarm);
      alarms.set(memberId, list);
    };
    for (const st of statuses) {
      for (const text of st?.errors ?? []) {
        const match = /memberID:(\d+) alarm:(\w+)/.exec(text);
        if (match) addAlarm(match[1]!, match[2]!.toUpperCase());
      }
    }
    if (withQuorum) {
      try {
        const res = await (
          await clientFor(withQuorum.endpoint)
        ).maintenance.alarm({ action: 'Get', memberID: 0, alarm: 'None' }, callOptions());
        // The client names them `Nospace`, a member's status `NOSPACE`: one spelling, etcdctl's.
        for (const a of res.alarms) addAlarm(a.memberID, String(a.alarm).toUpperCase());
      } catch (err) {
        log(`etcd: alarm list through ${withQuorum.endpoint} failed: ${shortError(err)}`);
      }
    }
    const leaderId = mostCommonLeader(statuses);
    const members: EtcdMember[] = listed.map((m, i) => {
      const st = statuses[i];
      const memberAlarms = alarms.get(m.ID) ?? [];
      const member: EtcdMember = {
        id: m.ID,
        name: m.name,
        peerUrls: [...m.peerURLs],
        clientUrls: [...m.clientURLs],
        isLearner: m.isLearner,
        healthy: st !== undefined && memberAlarms.length === 0,
        isLeader: leaderId !== undefined && m.ID === leaderId,
        alarms: memberAlarms,
      };
      if (st) {
        member.appliedIndex = Number(st.raftAppliedIndex);
        member.dbSize = Number(st.dbSize);
        // etcd 3.4+; what compaction and defragmentation would leave.
        if (st.dbSizeInUse !== undefined && st.dbSizeInUse !== '') member.dbSizeInUse = Number(st.dbSizeInUse);
      }
      return member;
    });
    const view: EtcdView = { reachable: withQuorum !== undefined, members };
    if (leaderId !== undefined) view.leaderId = leaderId;
    if (!withQuorum) view.error = `no member answered a quorum read: ${reads.map((r) => r.error).join('; ')}`;
    return view;
  }

  async function addLearner(endpoints: string[], peerUrl: string): Promise<{ id: string }> {
    const what = `add learner ${peerUrl}`;
    return reconfigure<{ id: string }>(what, endpoints, Date.now() + membershipTimeoutMs, async (endpoint, members) => {
      const existing = members.find((m) => m.peerURLs.includes(peerUrl));
      if (existing) return { done: { id: existing.ID } };
      const client = await clientFor(endpoint);
      try {
        const res = await client.cluster.memberAdd({ peerURLs: [peerUrl], isLearner: true }, callOptions());
        log(`etcd: added learner ${memberIdHex(res.member.ID)} with peer URL ${peerUrl}`);
        return { done: { id: res.member.ID } };
      } catch (err) {
        const kind = classifyEtcdError(err);
        // Added meanwhile (by us before a timeout, or by a parallel run): the next list shows it.
        if (kind === 'peerUrlExists') return { retry: `${peerUrl} exists already; reading the member list again` };
        if (kind === 'tooManyLearners') {
          const learner = members.find((m) => m.isLearner);
          throw new Error(
            `${what}: etcd allows one learner at a time and member ${learner ? memberIdHex(learner.ID) : '?'} (${learner?.peerURLs.join(',') ?? '?'}) ` +
              'is still a learner: promote it or remove it first',
            { cause: err },
          );
        }
        throw err;
      }
    });
  }

  async function promote(endpoints: string[], memberId: string, deadlineMs: number, stop?: AbortSignal): Promise<void> {
    const deadline = deadlineMs >= EPOCH_THRESHOLD_MS ? deadlineMs : Date.now() + deadlineMs;
    const what = `promote member ${memberIdHex(memberId)}`;
    await reconfigure(
      what,
      endpoints,
      deadline,
      async (endpoint, members) => {
        const member = members.find((m) => m.ID === memberId);
        if (!member) throw new Error(`${what}: no such member (members: ${members.map((m) => memberIdHex(m.ID)).join(', ')})`);
        if (!member.isLearner) return { done: undefined };
        try {
          await (await clientFor(endpoint)).cluster.memberPromote({ ID: memberId }, callOptions(deadline));
          log(`etcd: promoted member ${memberIdHex(memberId)}`);
          return { done: undefined };
        } catch (err) {
          const kind = classifyEtcdError(err);
          if (kind === 'learnerNotInSync') return { retry: 'the learner has not caught up with the leader yet' };
          if (kind === 'notALearner') return { retry: 'already promoted; reading the member list again' };
          throw err;
        }
      },
      undefined,
      stop,
    );
  }

  async function moveLeader(leaderEndpoint: string, toId: string): Promise<void> {
    const deadline = Date.now() + membershipTimeoutMs;
    const what = `move etcd leadership to ${memberIdHex(toId)}`;
    await reconfigure(what, [leaderEndpoint], deadline, async (endpoint, members) => {
      const target = members.find((m) => m.ID === toId);
      if (!target) throw new Error(`${what}: no such member`);
      if (target.isLearner) throw new Error(`${what}: it is a learner; promote it first`);
      const st = await status(endpoint, deadline);
      if (st.leader === toId) return { done: undefined };
      if (st.leader === '0') return { retry: `${endpoint} knows no leader` };
      // The request must reach the leader itself; if leadership moved since the caller looked, follow it.
      let via = endpoint;
      if (st.header.member_id !== st.leader) {
        const leader = members.find((m) => m.ID === st.leader);
        const url = leader?.clientURLs[0];
        if (!url) return { retry: `leader ${st.leader} has no client URL in the member list` };
        log(`etcd: ${endpoint} is not the leader; sending the move to the leader ${st.leader} at ${url}`);
        via = url;
      }
      const from = st.leader;
      await (await clientFor(via)).maintenance.moveLeader({ targetID: toId }, callOptions(deadline));
      log(`etcd: moved leadership from ${memberIdHex(from)} to ${memberIdHex(toId)}`);
      return { done: undefined };
    });
  }

  async function removeMember(endpoints: string[], memberId: string): Promise<void> {
    const what = `remove member ${memberIdHex(memberId)}`;
    const victimUrls = (members: IMember[]) => members.find((m) => m.ID === memberId)?.clientURLs ?? [];
    await reconfigure(
      what,
      endpoints,
      Date.now() + membershipTimeoutMs,
      async (endpoint, members) => {
        if (!members.some((m) => m.ID === memberId)) return { done: undefined };
        try {
          await (await clientFor(endpoint)).cluster.memberRemove({ ID: memberId }, callOptions());
          log(`etcd: removed member ${memberIdHex(memberId)}`);
          return { done: undefined };
        } catch (err) {
          if (classifyEtcdError(err) === 'memberNotFound') return { done: undefined };
          throw err;
        }
      },
      victimUrls,
    );
  }

  /** A snapshot is only as good as its source: try each endpoint until one streams a whole one. */
  async function snapshot(endpoints: string[], path: string, deadline = Infinity): Promise<SnapshotInfo> {
    const problems: string[] = [];
    for (const endpoint of endpoints) {
      // Past the run's deadline no other member is tried: the run must end within its timeout.
      if (Date.now() >= deadline) {
        problems.push(`the run's timeout passed before ${endpoint} was tried`);
        break;
      }
      try {
        return await writeSnapshot(await clientFor(endpoint), endpoint, path, membershipTimeoutMs, deadline);
      } catch (err) {
        problems.push(shortError(err));
      }
    }
    throw new Error(`no etcd member could stream a snapshot: ${problems.join('; ') || 'no endpoints given'}`);
  }

  /** Compacts the keyspace at the revision `endpoint` reports now (every member applies it), waiting until it is physically done. */
  async function compact(endpoint: string): Promise<string> {
    const client = await clientFor(endpoint);
    const revision = (await status(endpoint)).header.revision;
    await client.kv.compact({ revision, physical: true }, callOptions());
    log(`etcd: compacted at revision ${revision} through ${endpoint}`);
    return revision;
  }

  /** Defragments the one member at `endpoint` (it stalls that member while it runs: one at a time). */
  async function defragment(endpoint: string): Promise<void> {
    await (await clientFor(endpoint)).maintenance.defragment({ deadline: Date.now() + membershipTimeoutMs });
    log(`etcd: defragmented ${endpoint}`);
  }

  /** Clears `alarm` (etcdctl's name, e.g. NOSPACE) of `memberId`, through `endpoint`. */
  async function disarm(endpoint: string, memberId: string, alarm: string): Promise<void> {
    const name = (alarm.charAt(0) + alarm.slice(1).toLowerCase()) as 'Nospace' | 'Corrupt';
    await (await clientFor(endpoint)).maintenance.alarm({ action: 'Deactivate', memberID: memberId, alarm: name }, callOptions());
    log(`etcd: disarmed ${alarm} of member ${memberIdHex(memberId)}`);
  }

  async function close(): Promise<void> {
    for (const client of clients.values()) client.close();
    clients.clear();
  }

  return { observe, addLearner, promote, moveLeader, removeMember, snapshot, compact, defragment, disarm, close };
}

function mostCommonLeader(statuses: (IStatusResponse | undefined)[]): string | undefined {
  const votes = new Map<string, number>();
  for (const st of statuses) {
    if (st && st.leader !== '0') votes.set(st.leader, (votes.get(st.leader) ?? 0) + 1);
  }
  let best: string | undefined;
  for (const [id, count] of votes) if (best === undefined || count > votes.get(best)!) best = id;
  return best;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
