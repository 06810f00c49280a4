// The job summary: what the cluster looks like after the run, and what the run did to get there.

import { WAIT_STEPS, memberIdHex, regionOfZone, type ClusterState, type RunFailure, type RunReport } from '../model.ts';
import { count } from '../words.ts';
import { clusterHealth, type ClusterHealth } from './health.ts';
import { replacedReplicas } from './outputs.ts';
import { cell, code, duration, table, text } from './markdown.ts';
import { isLeader, membersWithoutReplica, memberOfReplica, replicaViews } from './replica-view.ts';
import { describeStep } from './steps.ts';
import { leasesSection } from './leases.ts';

export function renderSummary(report: RunReport): string {
  const { state } = report;
  const health = clusterHealth(state);
  const sections = [
    `## ha-masters: ${report.plan ? 'dry run of ' : ''}${report.operation} ${code(state.names.master)} in project ${code(state.project)}: ${text(headline(report, health))}`,
    report.plan ? '**Dry run**: nothing was changed. The cluster as it is now, then the plan.' : verdict(report),
  ];
  if (health.healthy === false) sections.push('### Unhealthy', health.problems.map((p) => `- ${text(p)}`).join('\n'));
  if (clusterExists(state)) {
    sections.push(
      overview(state),
      '### Replicas per zone',
      zonesTable(state),
      '### etcd members',
      membersSection(state),
      '### Control plane leases',
      leasesSection(state),
    );
  } else {
    sections.push(`No cluster ${code(state.names.master)} exists in project ${code(state.project)}.`);
  }
  if (report.snapshot) {
    const s = report.snapshot;
    const when = report.operation === 'snapshot' ? 'etcd snapshot' : 'etcd snapshot before the membership change';
    const restore = s.path.startsWith('gs://')
      ? `restore with \`operation: recover\` and \`restore-from: ${s.path}\``
      : 'restore with `etcdctl snapshot restore`';
    sections.push(`${when}: ${code(s.path)} (${s.bytes} bytes, revision ${s.revision}, sha256 ${code(s.sha256)}); ${restore}.`);
  }
  if (report.plan) sections.push('### What a run would do', planSection(report));
  else sections.push('### What this run did', stepsSection(report));
  if (report.warnings.length > 0) {
    sections.push('### Warnings', report.warnings.map((w) => `- ${text(w)}`).join('\n'));
  }
  return `${sections.join('\n\n')}\n`;
}

function failureHeadline(failure: RunFailure, report: Pick<RunReport, 'changed' | 'steps'>): string {
  const writes = report.steps.filter((s) => !WAIT_STEPS.has(s.step.kind)).length;
  const changes = report.changed ? `after changing the cluster (${count(writes, 'write')})` : 'nothing was changed';
  switch (failure.kind) {
    case 'refused':
      return `REFUSED, ${changes}; a re-run refuses again until the cause below is fixed`;
    case 'lockBusy':
      return `NOT STARTED: another run holds the cluster's lock; ${changes}; re-run once that run is done`;
    case 'timedOut':
      return `TIMED OUT, ${changes}; a re-run with the same inputs continues from there`;
    case 'failed':
      return `FAILED, ${changes}; a re-run with the same inputs continues from there`;
  }
}

/**
 * The first line's verdict: how the run ended, what it changed, and what a re-run would do; for a
 * status, whether the cluster is healthy.
 */
function headline(report: RunReport, health: ClusterHealth): string {
  if (report.failure) return failureHeadline(report.failure, report);
  const writes = report.steps.filter((s) => !WAIT_STEPS.has(s.step.kind)).length;
  if (report.plan) {
    const planned = count(report.plan.steps.length, 'step');
    return report.plan.refused
      ? `dry run, nothing was changed; a run would take ${planned}, then stop`
      : `dry run, nothing was changed; a run would take ${planned}`;
  }
  const replicas = replicaViews(report.state);
  const judged =
    health.healthy === true
      ? `healthy (${count(replicas.length, 'replica')})`
      : health.healthy === false
        ? `UNHEALTHY: ${health.problems.join('; ')}`
        : 'no cluster exists';
  if (report.operation === 'status') return judged;
  const done = report.changed ? `done, changed the cluster (${count(writes, 'write')})` : 'done, no change was needed';
  return health.healthy === false ? `${done}, but the cluster is ${judged}` : done;
}

/** The summary of a run that stopped before it could observe the cluster: nothing was changed. */
export function renderFailureSummary(operation: string, failure: RunFailure): string {
  return `## ha-masters: ${text(operation)}: ${text(failureHeadline(failure, { changed: false, steps: [] }))}\n\n**${FAILURE_WORDS[failure.kind]}**: ${text(failure.message)}\n`;
}

function clusterExists(state: ClusterState): boolean {
  return state.replicas.length > 0 || state.address !== undefined || state.forwardingRule !== undefined || state.etcd.members.length > 0;
}

function verdict(report: RunReport): string {
  const writes = report.steps.filter((s) => !WAIT_STEPS.has(s.step.kind)).length;
  if (report.failure) return `**${FAILURE_WORDS[report.failure.kind]}**: ${text(report.failure.message)}`;
  if (!report.changed)
    return report.operation === 'status'
      ? 'A status only reads the cluster: nothing was changed.'
      : report.operation === 'snapshot'
        ? `A snapshot only reads the cluster: nothing was changed${report.snapshot ? `; the snapshot is ${code(report.snapshot.path)}` : ''}.`
        : '**No changes**: the cluster already matched the request.';
  const made = report.steps.flatMap((s) => (s.step.kind === 'createReplica' ? [s.step.replica] : []));
  const deleted = report.steps.flatMap((s) => (s.step.kind === 'deleteReplica' ? [s.step.replica] : []));
  // "Replaced" only when this run both removed a replica and made one: a half-done replace says which half.
  if (report.operation === 'repair' || report.operation === 'rollout') {
    const replaced = replacedReplicas(report).map(code).join(', ');
    const verb = report.operation === 'repair' ? 'Repaired' : 'Rolled out, replaced';
    return `**Changed** the cluster in ${count(writes, 'write')}.${replaced ? ` ${verb}: ${replaced}${made.length ? `; replacements ${made.map(code).join(', ')}` : ''}.` : ''}`;
  }
  const what =
    report.operation === 'down'
      ? 'removed'
      : report.operation === 'up'
        ? 'added'
        : made.length && deleted.length
          ? 'replaced'
          : deleted.length
            ? 'removed (its successor is not made yet)'
            : 'added (the one it replaces has not left yet)';
  const added = report.replicaName ? ` Replica ${what}: ${code(report.replicaName)}.` : '';
  return `**Changed** the cluster in ${count(writes, 'write')}.${added}`;
}

const FAILURE_WORDS: Record<RunFailure['kind'], string> = {
  refused: 'Refused',
  lockBusy: 'Not started',
  timedOut: 'Timed out',
  failed: 'Failed',
};

function overview(state: ClusterState): string {
  const views = replicaViews(state);
  const healthy = views.filter((v) => v.healthy).length;
  const ip = state.address?.ip ?? state.forwardingRule?.ip;
  const rows: string[][] = [
    ['External IP', ip ? `${code(ip)} (${code(state.names.address)})` : 'none reserved'],
    ['Load balancer', loadBalancer(state)],
    ['Replicas', `${views.length} (${healthy} healthy)`],
    ['etcd', etcdLine(state)],
  ];
  const releases = releaseLine(views);
  if (releases) rows.push(['Release', releases]);
  if (state.certExpiry)
    rows.push(['First certificate to expire', `${code(state.certExpiry.what)} on ${state.certExpiry.notAfter.slice(0, 10)}`]);
  if (state.settings) {
    rows.push(['Recorded settings', `MULTIZONE=${state.settings.multizone}, ENABLE_ETCD_QUORUM_READ=${state.settings.quorumRead}`]);
  }
  return table(['', ''], ['l', 'l'], rows);
}

/** What the replicas run, one group per release: "Kubernetes v1.35.4, etcd v3.6.14 (3)". */
function releaseLine(views: ReturnType<typeof replicaViews>): string | undefined {
  const groups = new Map<string, number>();
  for (const v of views) {
    const key = v.kubernetesVersion ? `Kubernetes ${v.kubernetesVersion}, etcd ${v.etcdVersion}` : 'not recorded';
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  if (groups.size === 0) return undefined;
  return [...groups].map(([what, n]) => `${what} (${n})`).join('; ');
}

function loadBalancer(state: ClusterState): string {
  const rule = state.forwardingRule;
  if (rule) {
    const pool = state.targetPool;
    const members = pool ? count(pool.instances.length, 'instance') : 'missing';
    const check = state.healthCheck ? `, health check ${code(state.healthCheck)}` : '';
    return `yes: forwarding rule ${code(rule.name)} tcp:443 to target pool ${code(state.names.targetPool)} (${members}${check})`;
  }
  const holder = state.replicas.find((r) => r.hasStaticIp);
  if (holder) return `no: the static IP is on ${code(holder.name)}`;
  return 'no';
}

function etcdLine(state: ClusterState): string {
  const etcd = state.etcd;
  if (!etcd.reachable) return `unreachable${etcd.error ? `: ${cell(etcd.error)}` : ''}`;
  const voters = etcd.members.filter((m) => !m.isLearner);
  const learners = etcd.members.length - voters.length;
  const leader = etcd.members.find((m) => isLeader(state, m));
  const quorum = Math.floor(voters.length / 2) + 1;
  return [
    `${count(voters.length, 'voter')} (quorum ${quorum})`,
    count(learners, 'learner'),
    leader ? `leader ${code(leader.name || memberIdHex(leader.id))}` : 'no leader',
  ].join(', ');
}

function zonesTable(state: ClusterState): string {
  const region = state.region ?? (state.replicas[0] ? regionOfZone(state.replicas[0].zone) : undefined);
  const zoneNames = new Set<string>(state.replicas.map((r) => r.zone));
  for (const z of state.zones) if (region === undefined || z.region === region) zoneNames.add(z.name);
  const rows = [...zoneNames].sort().map((zone) => {
    const info = state.zones.find((z) => z.name === zone);
    const here = replicaViews(state).filter((v) => v.zone === zone);
    const names = here.map((v) => `${code(v.name)}${v.healthy ? '' : ' (unhealthy)'}`).join(', ');
    return [`${code(zone)}${info?.status === 'DOWN' ? ' (zone DOWN)' : ''}`, String(here.length), names];
  });
  return table(['Zone', 'Replicas', 'Names'], ['l', 'r', 'l'], rows);
}

function membersSection(state: ClusterState): string {
  const rows: string[][] = [];
  for (const v of replicaViews(state)) {
    const replica = state.replicas.find((r) => r.name === v.name)!;
    const m = memberOfReplica(state, v.name);
    const vm = `${code(v.name)} ${v.status}${replica.apiserverReady === false ? ', apiserver not ready' : ''}`;
    if (!m) {
      rows.push(['none', '', vm, code(v.zone), 'none', '', 'no', '', '', '']);
      continue;
    }
    rows.push(memberRow(state, m, vm, code(v.zone)));
  }
  for (const m of membersWithoutReplica(state)) rows.push(memberRow(state, m, 'no VM', ''));
  const body = table(
    ['Member', 'ID', 'VM', 'Zone', 'Role', 'Leader', 'Healthy', 'Applied index', 'DB size (free)', 'Alarms'],
    ['l', 'l', 'l', 'l', 'l', 'l', 'l', 'r', 'r', 'l'],
    rows,
  );
  return state.etcd.reachable ? body : `etcd could not be read${state.etcd.error ? `: ${text(state.etcd.error)}` : ''}.\n\n${body}`;
}

function memberRow(state: ClusterState, m: ClusterState['etcd']['members'][number], vm: string, zone: string): string[] {
  return [
    m.name ? code(m.name) : '(not started)',
    code(memberIdHex(m.id)),
    vm,
    zone,
    m.isLearner ? 'learner' : 'voter',
    isLeader(state, m) ? 'leader' : '',
    m.healthy ? 'yes' : 'no',
    m.appliedIndex === undefined ? '' : String(m.appliedIndex),
    dbSize(m),
    cell(m.alarms.join(', ')),
  ];
}

/** The database file's size, and how much of it compaction and defragmentation would give back. */
function dbSize(m: ClusterState['etcd']['members'][number]): string {
  if (m.dbSize === undefined) return '';
  if (m.dbSizeInUse === undefined) return bytes(m.dbSize);
  const free = Math.max(0, m.dbSize - m.dbSizeInUse);
  return `${bytes(m.dbSize)} (${bytes(free)}, ${Math.round((100 * free) / Math.max(1, m.dbSize))}%)`;
}

function bytes(n: number): string {
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function planSection(report: RunReport): string {
  const plan = report.plan!;
  const end = `${plan.refused ? 'Then it would stop' : 'Then'}: ${text(plan.outcome)}`;
  if (plan.steps.length === 0) return `No step.\n\n${end}`;
  const rows = plan.steps.map((s, i) => [String(i + 1), cell(describeStep(s.step, report.state)), cell(s.reason)]);
  return `${table(['#', 'Step', 'Why'], ['r', 'l', 'l'], rows)}\n\n${end}\n\nNames and addresses GCE assigns at creation show as placeholders (\`ip-of-...\`).`;
}

function stepsSection(report: RunReport): string {
  if (report.steps.length === 0) return report.failure ? 'Nothing: it stopped before its first step.' : 'Nothing: no step was needed.';
  const rows = report.steps.map((s, i) => [String(i + 1), cell(describeStep(s.step, report.state)), cell(s.reason), duration(s.ms)]);
  const total = report.steps.reduce((sum, s) => sum + s.ms, 0);
  return `${table(['#', 'Step', 'Why', 'Time'], ['r', 'l', 'l', 'r'], rows)}\n\nTotal: ${duration(total)}.`;
}
