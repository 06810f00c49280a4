// The zones engine tests place replicas in, and a request of their world's project (or of one lane's
// project and prefix, EngineWorld.inProject) with a fresh request id (each call is a new request;
// keep the value to re-run the same one).
import type { Intent } from '../../src/model.ts';
import { intent as baseIntent } from './cluster-builder.ts';
import { PROJECT } from './engine-world.ts';
import type { EngineWorld } from './engine-world.ts';

export const B = 'europe-west1-b';
export const C = 'europe-west1-c';
export const D = 'europe-west1-d';

export const newRequest = (over: Partial<Intent>): Intent =>
  baseIntent({ project: PROJECT, requestId: `req-${Math.random().toString(16).slice(2, 10)}`, ...over });

export const laneRequest = (lane: Pick<EngineWorld, 'project' | 'instancePrefix'>, over: Partial<Intent>): Intent =>
  newRequest({ project: lane.project, instancePrefix: lane.instancePrefix, ...over });
