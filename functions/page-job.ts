import type { QueueFunction } from '../shared/app/registry.js';
import type { SyncDependencies } from '../shared/sync/dependencies.js';
import { pageJobSchema } from '../shared/sync/pipeline/jobs.js';
import { runPageJob } from '../shared/sync/pipeline/page-job.js';
import { deliveryOf } from './delivery.js';
import { decodeMessage } from './decode.js';

/** Reads one page of a directory and stages it for reconciliation. */
export function pageJobFunction(deps: SyncDependencies, queueName: string): QueueFunction {
  return {
    name: 'pageJob',
    trigger: { kind: 'queue', queueName },
    handler: async (message, context) => runPageJob(deps, decodeMessage(pageJobSchema, message), deliveryOf(context)),
  };
}
