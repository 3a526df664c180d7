import { z } from 'zod';
import { MAX_SHARDS } from '../rules/partitioning.js';
import { MAIN_CHAIN, RUN_ID_PATTERN } from '../run-model.js';

/** Queue message shapes, decoded with zod by the triggers. */
const runId = z.string().regex(RUN_ID_PATTERN, 'a run id');

/** A chain's name is part of table and blob keys: lower-case letters, digits and dashes. */
export const chainName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a chain name');

export const pageJobSchema = z.object({
  runId,
  /** Which of the listing's chains the page is of; messages queued before chains existed are of the one chain. */
  chain: chainName.default(MAIN_CHAIN),
  page: z.number().int().min(0),
  cursor: z.unknown().optional(),
});
export type PageJob = z.infer<typeof pageJobSchema>;

export const reconcileJobSchema = z.object({
  runId,
  /** Of the run's shards (its `shards`): the job checks it against the run. */
  shard: z.number().int().min(0).max(MAX_SHARDS - 1),
});
export type ReconcileJob = z.infer<typeof reconcileJobSchema>;

export const finaliseJobSchema = z.object({ runId });
export type FinaliseJob = z.infer<typeof finaliseJobSchema>;

/** Which delivery of a queue message this is: the last one may not throw its work away. */
export interface Delivery {
  attempt: number;
  maxAttempts: number;
}
