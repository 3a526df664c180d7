import { describeError, isAppError } from '../errors/app-error.js';
import type { SyncDependencies } from './dependencies.js';
import type { Delivery, PageJob } from './jobs.js';
import { SHARD_COUNT } from './partitioning.js';
import { isTerminal, type Run } from './run-model.js';
import { removeWorkingFiles, stageEntries } from './staging.js';

/**
 * Reads one page of the directory, stages its entries by shard and queues the next page; after the
 * last page (or a listing that cannot go on) it queues one reconcile job per shard.
 */
export async function runPageJob(deps: SyncDependencies, job: PageJob, delivery: Delivery): Promise<void> {
  const run = await deps.runs.get(job.runId);
  if (!run || isTerminal(run.state)) return;
  if (run.listing !== 'in-progress') {
    // Redelivered after the listing ended: the shards may not have been queued before a crash.
    await queueShards(deps, run.runId);
    return;
  }

  let record = await deps.runs.getPage(run.runId, job.page);
  if (!record) {
    let page;
    try {
      page = await deps.sources(run.profile).readPage({ run, page: job.page, cursor: job.cursor ?? null });
    } catch (error) {
      if (isAppError(error) && error.code === 'checkpoint-expired' && run.kind === 'incremental' && job.page === 0) {
        await restartAsFull(deps, run, error.message);
        return;
      }
      const retry = isAppError(error) ? error.transient : true;
      if (retry && delivery.attempt < delivery.maxAttempts) throw error;
      await endListing(deps, run, 'failed', describeError(error));
      return;
    }
    await stageEntries(deps.runFiles, run.runId, job.page, page.entries);
    record = await deps.runs.putPage(run.runId, {
      page: job.page,
      entries: page.entries.length,
      unreadable: page.entries.filter((entry) => entry.key === undefined).length,
      ...(page.next === null || page.next === undefined ? {} : { next: page.next }),
      ...(page.checkpoint ? { checkpoint: page.checkpoint } : {}),
    });
    // A worker that stalled while another read this page and the run went on to its end has just
    // staged entries again after finalise removed them: remove them (they may hold passwords).
    const latest = await deps.runs.get(run.runId);
    if (!latest || isTerminal(latest.state)) {
      await removeWorkingFiles(deps.runFiles, run, latest?.state);
      return;
    }
  }
  await deps.runs.update(run.runId, (current) =>
    current.pagesFetched > job.page ? undefined : { ...current, pagesFetched: job.page + 1 },
  );
  if (record.checkpoint && !run.nextCheckpoint) {
    const checkpoint = record.checkpoint;
    await deps.runs.update(run.runId, (current) => (current.nextCheckpoint ? undefined : { ...current, nextCheckpoint: checkpoint }));
  }
  if (record.next !== undefined) {
    await deps.queue.send('pages', { runId: run.runId, page: job.page + 1, cursor: record.next });
  } else {
    await endListing(deps, run, 'complete');
  }
}

/**
 * A page job in the poison queue (its handler crashed on every delivery): the listing ends as failed,
 * and what was read is still reconciled, disabling no one.
 */
export async function recordPoisonedPage(deps: SyncDependencies, job: PageJob, error: { code: string; message: string }): Promise<void> {
  const run = await deps.runs.get(job.runId);
  if (!run || isTerminal(run.state)) return;
  if (run.listing === 'in-progress') await endListing(deps, run, 'failed', error);
  else await queueShards(deps, run.runId);
}

/**
 * Marks the listing complete or failed and queues every shard. A failed listing still applies what
 * was read (the other users still sync); finalise then disables no one.
 */
async function endListing(
  deps: SyncDependencies,
  run: Run,
  listing: 'complete' | 'failed',
  error?: { code: string; message: string },
): Promise<void> {
  await deps.runs.update(run.runId, (current) =>
    current.listing !== 'in-progress'
      ? undefined
      : { ...current, listing, state: 'reconciling', ...(error ? { error } : {}) },
  );
  if (error) deps.log(`run ${run.runId}: listing failed: ${error.code}: ${error.message}`);
  await queueShards(deps, run.runId);
}

/**
 * The checkpoint of an incremental run has expired (Graph keeps delta tokens about a week): the run
 * becomes a full run from its first page, as if it had been started as one.
 */
async function restartAsFull(deps: SyncDependencies, run: Run, reason: string): Promise<void> {
  const warning = `${reason} The run continued as a full sync.`;
  const restarted = await deps.runs.update(run.runId, (current) => {
    if (current.kind === 'full') return undefined;
    const { checkpoint: _expired, ...rest } = current;
    return { ...rest, kind: 'full', warnings: [...current.warnings, warning] };
  });
  if (restarted?.kind === 'full') await deps.queue.send('pages', { runId: run.runId, page: 0, cursor: null });
  deps.log(`run ${run.runId}: checkpoint expired, continuing as a full sync`);
}

/** Queuing a shard twice is harmless: its plan is made once and applied once. */
async function queueShards(deps: SyncDependencies, runId: string): Promise<void> {
  await Promise.all(Array.from({ length: SHARD_COUNT }, (_, shard) => deps.queue.send('reconcile', { runId, shard })));
}
