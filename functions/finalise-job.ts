import type { QueueFunction } from '../shared/app/registry.js';
import type { SyncDependencies } from '../shared/sync/dependencies.js';
import { finaliseJobSchema } from '../shared/sync/pipeline/jobs.js';
import { runFinaliseJob } from '../shared/sync/pipeline/finalise-job.js';
import { decodeMessage } from './decode.js';

/** Finishes a run: disables users missing from a complete listing, records the outcome. */
export function finaliseJobFunction(deps: SyncDependencies, queueName: string): QueueFunction {
  return {
    name: 'finaliseJob',
    trigger: { kind: 'queue', queueName },
    handler: async (message) => runFinaliseJob(deps, decodeMessage(finaliseJobSchema, message)),
  };
}
