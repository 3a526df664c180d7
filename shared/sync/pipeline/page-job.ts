import { describeError, isAppError, type RunError } from '../../errors/app-error.js';
import type { SyncDependencies } from '../dependencies.js';
import type { SourcePage } from '../directory-source.js';
import type { Delivery, PageJob } from './jobs.js';
import { decideShards } from './shard-plan.js';
import { isUnreadable } from '../model.js';
import { isTerminal, MAIN_CHAIN, type PageRecord, type Run } from '../run-model.js';
import { removeWorkingFiles, stageEntries } from './staging.js';
import { chainsOf, initialChains, resumeChains, startChains, withChainEnded, withPagesRead } from './listing-chains.js';
import { deferWhileThrottled, throttleOf, waitOutThrottle } from './listing-throttle.js';

/**
 * How long one page job goes on reading pages itself before it hands the rest of the listing to a new
 * message. Reading on (and fetching the next page while the current one is stored) saves a queue round
 * trip per page; handing over keeps every invocation well inside the host's function timeout.
 */
export const PAGE_CHAIN_BUDGET_MS = 30_000;

type Read = { page: SourcePage } | { error: unknown };

/**
 * Reads the job's chain of the listing page by page from the job's page: stages each page's entries by shard
 * and records the page, until the chain ends (then the next waiting chain starts, and after the last chain
 * one reconcile job per shard is queued) or the time budget is spent (then it queues the chain's next page).
 * A page already recorded (a redelivered job) is not read again. While the directory throttles the run
 * (listing-throttle.ts) the chain's next page waits in a delayed message instead of being read.
 */
export async function runPageJob(deps: SyncDependencies, job: PageJob, delivery: Delivery): Promise<void> {
  const run = await deps.runs.get(job.runId);
  if (!run || isTerminal(run.state)) return;
  if (run.listing !== 'in-progress') {
    // Redelivered after the listing ended: the shards may not have been queued before a crash.
    await queueShards(deps, run.runId);
    return;
  }
  const { chain } = job;
  const state = chainsOf(run)[chain]?.state;
  if (state !== 'listing') {
    // A chain that ended, or that is no longer the run's (an incremental run restarted as a full one): the
    // chains started in its place may not have been queued before a crash. A waiting chain starts later.
    if (state !== 'waiting') await resumeChains(deps, run);
    return;
  }
  if (await deferWhileThrottled(deps, run, job)) return;
  const source = deps.sources(run.profile);
  // Settled, not rejected: a read made ahead may fail while this job is still storing the previous page.
  const read = (page: number, cursor: unknown): Promise<Read> =>
    source.readPage({ run, chain, page, cursor }).then((result) => ({ page: result }), (error: unknown) => ({ error }));
  const deadline = deps.clock().getTime() + PAGE_CHAIN_BUDGET_MS;
  let page = job.page;
  let cursor = job.cursor ?? null;
  let ahead: { cursor: unknown; read: Promise<Read> } | undefined;

  // Pages recorded before (a redelivered job walks through them) are looked up; past the first page
  // without a record, a record can only come from a duplicate worker, and putPage returns that one.
  let walkingRecorded = true;

  /** One page: its record, read and staged now unless a delivery before did it; 'stop' when the job is over. */
  const listPage = async (at: number, from: unknown): Promise<{ record: PageRecord; staged: boolean } | 'stop'> => {
    if (walkingRecorded) {
      const recorded = await deps.runs.getPage(run.runId, chain, at);
      if (recorded) return { record: recorded, staged: false };
      walkingRecorded = false;
    }
    const result = await (ahead && sameCursor(ahead.cursor, from) ? ahead.read : read(at, from));
    ahead = undefined;
    if ('error' in result) {
      const retryAfterMs = throttleOf(result.error);
      if (retryAfterMs !== undefined) {
        await waitOutThrottle(deps, run.runId, { runId: run.runId, chain, page: at, cursor: from }, retryAfterMs, describeError(result.error).message);
        return 'stop';
      }
      if (at !== job.page) throw result.error;
      await pageFailed(deps, run, job, delivery, result.error);
      return 'stop';
    }
    const { entries, next, checkpoint } = result.page;
    if (next !== null && next !== undefined && deps.clock().getTime() < deadline) ahead = { cursor: next, read: read(at + 1, next) };
    await stageEntries(deps.runFiles, run.runId, at, entries, chain);
    const record = await deps.runs.putPage(run.runId, {
      ...(chain === MAIN_CHAIN ? {} : { chain }),
      page: at,
      entries: entries.length,
      unreadable: entries.filter(isUnreadable).length,
      ...(next === null || next === undefined ? {} : { next }),
      ...(checkpoint ? { checkpoint } : {}),
    });
    return { record, staged: true };
  };

  for (;;) {
    let listed: Awaited<ReturnType<typeof listPage>>;
    try {
      listed = await listPage(page, cursor);
    } catch (error) {
      if (page === job.page) throw error;
      // A later page of the chain failed: it gets its own message, and with it its own retries.
      await deps.queue.send('pages', { runId: run.runId, chain, page, cursor });
      return;
    }
    if (listed === 'stop') return;
    const { record, staged } = listed;
    const fetchedUpTo = page + 1;
    const latest = await deps.runs.update(run.runId, (current) => {
      if (isTerminal(current.state)) return undefined;
      const counted = withPagesRead(current, chain, fetchedUpTo);
      const nextCheckpoint = current.nextCheckpoint ?? record.checkpoint;
      if (!counted && nextCheckpoint === current.nextCheckpoint) return undefined;
      return { ...(counted ?? current), ...(nextCheckpoint ? { nextCheckpoint } : {}) };
    });
    if (!latest || isTerminal(latest.state)) {
      // A worker that stalled while another read this page and the run went on to its end has just
      // staged entries again after finalise removed them: remove them (they may hold passwords).
      if (staged) await removeWorkingFiles(deps.runFiles, run, latest?.state);
      return;
    }
    if (record.next === undefined) {
      await endChain(deps, run.runId, chain, 'complete');
      return;
    }
    const next = { runId: run.runId, chain, page: page + 1, cursor: record.next };
    // Another chain was throttled meanwhile: this one waits too.
    if (await deferWhileThrottled(deps, latest, next)) return;
    if (deps.clock().getTime() >= deadline) {
      await deps.queue.send('pages', next);
      return;
    }
    page += 1;
    cursor = record.next;
  }
}

/** The job's own page could not be read: retry a transient error while deliveries remain, else end its chain as failed. */
async function pageFailed(deps: SyncDependencies, run: Run, job: PageJob, delivery: Delivery, error: unknown): Promise<void> {
  if (isAppError(error) && error.code === 'checkpoint-expired' && run.kind === 'incremental' && job.page === 0 && job.chain === MAIN_CHAIN) {
    await restartAsFull(deps, run, error.message);
    return;
  }
  const retry = isAppError(error) ? error.transient : true;
  if (retry && delivery.attempt < delivery.maxAttempts) throw error;
  await endChain(deps, run.runId, job.chain, 'failed', describeError(error));
}

/** The stored record's cursor may come from another delivery that read the page too: a read made ahead must match it. */
function sameCursor(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A page job in the poison queue (its handler crashed on every delivery): its chain ends as failed, so the
 * listing does, and what was read is still reconciled, disabling no one.
 */
export async function recordPoisonedPage(deps: SyncDependencies, job: PageJob, error: RunError): Promise<void> {
  const run = await deps.runs.get(job.runId);
  if (!run || isTerminal(run.state)) return;
  if (run.listing === 'in-progress') await endChain(deps, run.runId, job.chain, 'failed', error);
  else await queueShards(deps, run.runId);
}

/**
 * Marks a chain complete or failed: starts the chains waiting for its place, and after the last chain
 * queues every shard. A failed listing still applies what was read (the other users still sync); finalise
 * then disables no one.
 */
async function endChain(deps: SyncDependencies, runId: string, chain: string, outcome: 'complete' | 'failed', error?: RunError): Promise<void> {
  let started: string[] | undefined;
  // A run that ended meanwhile (an admin cancelled it) stays ended, and no shard is queued for it.
  const latest = await deps.runs.update(runId, (current) => {
    started = undefined;
    if (current.listing !== 'in-progress' || isTerminal(current.state)) return undefined;
    const ended = withChainEnded(current, chain, outcome, error);
    started = ended?.started;
    return ended?.run;
  });
  if (!latest || isTerminal(latest.state)) return;
  if (error) deps.log(`run ${runId}: listing chain ${chain} failed: ${error.code}: ${error.message}`);
  if (latest.listing !== 'in-progress') await queueShards(deps, runId);
  else if (started) await startChains(deps, runId, started);
  // Another worker ended the chain first (a duplicate job), and may have crashed before starting the next.
  else await resumeChains(deps, latest);
}

/**
 * The checkpoint of an incremental run has expired (Graph keeps delta tokens about a week): the run
 * becomes a full run from its first page, as if it had been started as one.
 */
async function restartAsFull(deps: SyncDependencies, run: Run, reason: string): Promise<void> {
  const warning = `${reason} The run continued as a full sync.`;
  let started: string[] = [];
  const restarted = await deps.runs.update(run.runId, (current) => {
    started = [];
    if (current.kind === 'full') return undefined;
    const { checkpoint: _expired, ...rest } = current;
    const full: Run = { ...rest, kind: 'full', warnings: [...current.warnings, warning] };
    const chains = initialChains(deps, full);
    started = Object.keys(chains).filter((name) => chains[name]!.state === 'listing');
    return { ...full, chains };
  });
  if (restarted?.kind === 'full') await startChains(deps, run.runId, started);
  deps.log(`run ${run.runId}: checkpoint expired, continuing as a full sync`);
}

/** Queuing a shard twice is harmless: its plan is made once and applied once. */
async function queueShards(deps: SyncDependencies, runId: string): Promise<void> {
  const shards = (await decideShards(deps, runId)) ?? 0;
  await Promise.all(Array.from({ length: shards }, (_, shard) => deps.queue.send('reconcile', { runId, shard })));
}
