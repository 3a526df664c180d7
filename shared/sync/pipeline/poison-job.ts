import { MAX_DEQUEUE_COUNT } from '../../config/settings.js';
import type { RunError } from '../../errors/app-error.js';
import type { SyncDependencies } from '../dependencies.js';
import { failRun } from './fail-run.js';
import type { FinaliseJob, PageJob, ReconcileJob } from './jobs.js';
import { recordPoisonedPage } from './page-job.js';
import { recordPoisonedShard } from './reconcile-job.js';

/*
 * A job whose handler crashed on every delivery lands in `<queue>-poison` (host.json `maxDequeueCount`).
 * Its run must not wait forever: the failure is recorded where the job left off, the rest of the run's
 * work still lands, and the run ends as failed with the reason, disabling no one.
 */

function poisonError(what: string): RunError {
  return {
    code: 'poison-message',
    message: `${what} failed ${MAX_DEQUEUE_COUNT} times and was moved to the poison queue; the function logs hold its error.`,
  };
}

export async function recordPoisonedPageJob(deps: SyncDependencies, job: PageJob): Promise<void> {
  await recordPoisonedPage(deps, job, poisonError(`Reading page ${job.page + 1} of the listing`));
}

export async function recordPoisonedReconcileJob(deps: SyncDependencies, job: ReconcileJob): Promise<void> {
  await recordPoisonedShard(deps, job, poisonError(`Reconciling shard ${job.shard}`));
}

export async function recordPoisonedFinaliseJob(deps: SyncDependencies, job: FinaliseJob): Promise<void> {
  await failRun(deps, job.runId, poisonError('Finalising the run'));
}
