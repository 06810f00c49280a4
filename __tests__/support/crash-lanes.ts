// Crash tests run their k values on several clusters side by side ("lanes"): each lane is its own
// cluster in its own project of one emulator (EngineWorld.inProject), so that the waiting of one
// lane overlaps the work of another.
import { afterAll, beforeAll } from '@jest/globals';
import { B, C, D, laneRequest } from './engine-intents.ts';
import { PROJECT, startEngineWorld } from './engine-world.ts';
import type { EngineWorld } from './engine-world.ts';

/**
 * For one test file: `count` lanes of three replicas (B, C, D, process VMs), made before its tests
 * and stopped after them. GCE's operations take 20 ms instead of the emulator's 100: no crash test
 * looks at one under way.
 */
export function threeReplicaLanes(count: number): EngineWorld[] {
  let world: EngineWorld | undefined;
  const lanes: EngineWorld[] = [];
  beforeAll(async () => {
    world = await startEngineWorld({ vmRuntime: 'process', operationLatencyMs: 20 });
    for (let i = 0; i < count; i++) lanes.push(await world.inProject(`${PROJECT}-lane${i}`, i === 0 ? 'kubernetes' : `lane${i}`));
    await Promise.all(
      lanes.map(async (lane) => {
        await lane.run(laneRequest(lane, { zone: B }));
        await lane.run(laneRequest(lane, { replicas: 3, zones: [B, C, D] }));
      }),
    );
  }, 180_000);
  afterAll(async () => {
    for (const lane of lanes) await lane.stop();
    await world?.stop();
  }, 60_000);
  return lanes;
}

/** Runs `round(lane, k)` for k = 1..n, each lane taking every lanes.length-th k in turn; fails once every lane has stopped. */
export async function everyK(lanes: EngineWorld[], n: number, round: (lane: EngineWorld, k: number) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(
    lanes.map(async (lane, i) => {
      for (let k = i + 1; k <= n; k += lanes.length) await round(lane, k);
    }),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}
