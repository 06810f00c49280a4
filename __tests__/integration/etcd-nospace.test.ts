// etcd's NOSPACE alarm through the engine against the emulator with real etcd: the alarm (raised on
// a member through etcd's own Alarm API, as etcd raises it when the database reaches its quota)
// makes `status` report the cluster unhealthy and stops writes; `repair` reclaims the space
// (compaction, defragmentation member by member with the leader last, disarm) instead of replacing
// replicas, after which writes work again and every key written before reads back.
import type { Etcd3 } from 'etcd3';
import { createMemberClient } from '../../src/etcd/client.ts';
import { etcdClientTls } from '../../src/engine/secrets.ts';
import type { Intent, RunReport } from '../../src/model.ts';
import { clusterHealth } from '../../src/report/health.ts';
import { intent as baseIntent, M } from '../support/cluster-builder.ts';
import { PROJECT, startEngineWorld } from '../support/engine-world.ts';
import type { EngineWorld } from '../support/engine-world.ts';

const B = 'europe-west1-b',
  C = 'europe-west1-c',
  D = 'europe-west1-d';
const intent = (over: Partial<Intent>) =>
  baseIntent({ project: PROJECT, requestId: `req-${Math.random().toString(16).slice(2, 10)}`, ...over });
const REPAIR = { maxRetries: 3, retryPeriodMs: 0, minHealthyPeriodMs: 3_600_000, zonePolicy: 'same' as const, learnerGraceMs: 600_000 };

let world: EngineWorld;
let client: Etcd3 | undefined;
beforeAll(async () => {
  world = await startEngineWorld({ vmRuntime: 'process' });
}, 60_000);
afterAll(async () => {
  client?.close();
  await world?.stop();
}, 60_000);

test('NOSPACE: status says unhealthy; repair reclaims the space and disarms, replacing nothing; data survives', async () => {
  await world.run(intent({ operation: 'up', zone: B }));
  await world.run(intent({ operation: 'up', zone: B, replicas: 3, zones: [B, C, D] }));
  const { secrets, vms } = await world.secrets();
  const first = vms.find((vm) => vm.name === M)!;
  const url = `https://${first.internalIp}:2379`;
  client = createMemberClient(etcdClientTls(secrets), url, await world.dialUrl(url));
  // Old revisions for the compaction to drop.
  for (let i = 0; i < 50; i++) await client.put('/registry/test/key').value(`value-${i}`);
  await client.put('/registry/test/kept').value('before the alarm');
  const self = (await client.maintenance.status()).header.member_id;
  await client.maintenance.alarm({ action: 'Activate', memberID: self, alarm: 'Nospace' });
  await expect(client.put('/registry/test/blocked').value('x')).rejects.toThrow(/database space exceeded/);

  const status = await world.run(intent({ operation: 'status' }));
  const health = clusterHealth(status.state);
  expect(health.healthy).toBe(false);
  expect(health.problems).toEqual([`${M}: etcd alarms: NOSPACE`]);
  const sizeBefore = status.state.etcd.members.find((m) => m.id === self)!.dbSize!;
  expect(sizeBefore).toBeGreaterThan(0);

  const repaired = await world.run(intent({ operation: 'repair', repair: REPAIR }));
  expect(repaired.steps.map((s) => s.step.kind)).toEqual(['reclaimEtcdSpace']);
  const step = repaired.steps[0]!.step as Extract<RunReport['steps'][number]['step'], { kind: 'reclaimEtcdSpace' }>;
  const leaderId = status.state.etcd.leaderId;
  expect(step.defragOrder).toHaveLength(3);
  expect(step.defragOrder.at(-1)).toBe(leaderId);
  expect(step.disarm).toEqual([self]);
  expect(clusterHealth(repaired.state).healthy).toBe(true);
  expect(repaired.state.replicas.map((r) => r.name).sort()).toEqual(status.state.replicas.map((r) => r.name).sort());
  expect(world.logs.some((l) => /etcd: compacted at revision \d+/.test(l))).toBe(true);

  await client.put('/registry/test/after').value('writes work again');
  expect(await client.get('/registry/test/kept').string()).toBe('before the alarm');
  expect(await client.get('/registry/test/key').string()).toBe('value-49');
}, 240_000);
