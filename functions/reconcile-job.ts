import type { QueueFunction } from '../shared/app/registry.js';
import type { SyncDependencies } from '../shared/sync/dependencies.js';
import { reconcileJobSchema } from '../shared/sync/pipeline/jobs.js';
import { runReconcileJob } from '../shared/sync/pipeline/reconcile-job.js';
import { deliveryOf } from './delivery.js';
import { decodeMessage } from './decode.js';

/** Reconciles one shard of a run's users against Table Storage. */
export function reconcileJobFunction(deps: SyncDependencies, queueName: string): QueueFunction {
  return {
    name: 'reconcileJob',
    trigger: { kind: 'queue', queueName },
    handler: async (message, context) => runReconcileJob(deps, decodeMessage(reconcileJobSchema, message), deliveryOf(context)),
  };
}
