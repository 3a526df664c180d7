import type { z } from 'zod';
import type { AppConfig } from '../shared/config/settings.js';
import type { QueueFunction } from '../shared/app/registry.js';
import type { SyncDependencies } from '../shared/sync/dependencies.js';
import { finaliseJobSchema, pageJobSchema, reconcileJobSchema } from '../shared/sync/pipeline/jobs.js';
import { recordPoisonedFinaliseJob, recordPoisonedPageJob, recordPoisonedReconcileJob } from '../shared/sync/pipeline/poison-job.js';
import { decodeMessage } from './decode.js';

/** One trigger per poison queue (`<queue>-poison`, the Functions host's name): ends the job's run as failed. */
export function poisonJobFunctions(deps: SyncDependencies, names: AppConfig['names']): QueueFunction[] {
  return [
    poisonTrigger('pageJobPoison', names.pagesQueue, pageJobSchema, (job) => recordPoisonedPageJob(deps, job)),
    poisonTrigger('reconcileJobPoison', names.reconcileQueue, reconcileJobSchema, (job) => recordPoisonedReconcileJob(deps, job)),
    poisonTrigger('finaliseJobPoison', names.finaliseQueue, finaliseJobSchema, (job) => recordPoisonedFinaliseJob(deps, job)),
  ];
}

function poisonTrigger<T>(name: string, queueName: string, schema: z.ZodType<T>, record: (job: T) => Promise<void>): QueueFunction {
  return { name, trigger: { kind: 'queue', queueName: `${queueName}-poison` }, handler: async (message) => record(decodeMessage(schema, message)) };
}
