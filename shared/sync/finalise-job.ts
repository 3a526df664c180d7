import pLimit from 'p-limit';
import type { SyncDependencies } from './dependencies.js';
import type { FinaliseJob } from './jobs.js';
import { addCounts, emptyCounts, type Decision } from './model.js';
import { SHARD_COUNT } from './partitioning.js';
import { linkManagers } from './link-managers.js';
import { applyDecisions } from './apply-decisions.js';
import { seatsFreed } from './licences.js';
import { isTerminal, type Run } from './run-model.js';
import { paths, type ShardPlan } from './staging.js';

/**
 * Runs once every shard is applied: disables the users missing from the listing — only when the
 * listing was complete and every record was readable — then closes the run and frees the profile.
 * Every step is idempotent, so a redelivered finalise repeats it safely.
 */
export async function runFinaliseJob(deps: SyncDependencies, job: FinaliseJob): Promise<void> {
  const run = await deps.runs.get(job.runId);
  if (!run || isTerminal(run.state)) return;
  const results = await deps.runs.listShardResults(run.runId);
  if (results.length < SHARD_COUNT) return;

  const counts = emptyCounts();
  const skipReasons: Record<string, number> = {};
  for (const result of results) {
    addCounts(counts, result.counts);
    for (const [reason, count] of Object.entries(result.skipReasons)) skipReasons[reason] = (skipReasons[reason] ?? 0) + count;
  }
  const unreadable = results.reduce((sum, result) => sum + result.unreadable, 0);
  const pending = results.reduce((sum, result) => sum + result.pendingDisables, 0);
  const shardError = results.find((result) => result.error)?.error;
  const warnings: string[] = [];

  const plans = await shardPlans(deps, run);
  const mayDisable = run.listing === 'complete' && !shardError && unreadable === 0;
  if (pending > 0 && mayDisable) {
    const disables = plans.flatMap((plan) => plan.pendingDisables);
    if (!run.dryRun) {
      await applyDecisions(deps, run, disables);
      await deps.licences.release(`${run.runId}:finalise:freed`, seatsFreed(disables));
    }
    counts.disabled += disables.length;
  } else if (pending > 0 || run.listing !== 'complete') {
    warnings.push(
      unreadable > 0
        ? `${unreadable} record(s) could not be read, so no one was disabled for being missing from the source.`
        : 'The listing did not complete, so no one was disabled for being missing from the source.',
    );
  }

  if (!run.dryRun) counts.activated += await activateBlocked(deps, run, plans);

  const error = run.error ?? shardError;
  const state = error ? 'failed' : 'succeeded';
  const now = deps.clock().toISOString();
  // Links can only change when users did; an unchanged re-sync skips the directory scan. An incremental
  // run (a handful of changes) scans only when a change can move a link, not for a new job title.
  const linksMayMove =
    run.kind === 'full' ? counts.created + counts.updated + counts['re-enabled'] > 0 : plans.some((plan) => plan.movesLinks);
  if (!run.dryRun && linksMayMove) await linkManagers(deps, run, now);
  const summary = summarise(counts);
  if (!run.dryRun) {
    await deps.audit.write([
      {
        runId: run.runId,
        connection: run.connection,
        action: state === 'succeeded' ? 'run-succeeded' : 'run-failed',
        subject: run.runId,
        detail: error ? `${error.message} ${summary}` : summary,
        ...(error ? { reason: error.code } : {}),
        at: now,
      },
    ]);
  }
  // Free the profile first: if we crash after this, the redelivered finalise completes the run.
  await deps.connections.updateState(run.connection, (current) => {
    if (current.state.activeRunId !== run.runId) return undefined;
    const { activeRunId: _active, activeRunSince: _since, ...rest } = current.state;
    if (run.dryRun) return rest;
    const finished = { ...rest, lastRunId: run.runId, lastRunEndedAt: now, lastRunStatus: state };
    // Only a successful run moves the checkpoint: a failed one is read again from where it started.
    if (state !== 'succeeded') return finished;
    return {
      ...finished,
      ...(run.nextCheckpoint ? { checkpoint: run.nextCheckpoint } : {}),
      ...(run.kind === 'full' ? { lastFullRunAt: run.startedAt } : {}),
    };
  });
  const finished = await deps.runs.update(run.runId, (current) =>
    isTerminal(current.state)
      ? undefined
      : { ...current, state, counts, skipReasons, unreadableRecords: unreadable, warnings: [...current.warnings, ...warnings], endedAt: now, ...(error ? { error } : {}) },
  );
  if (finished && !run.dryRun) deps.runFinished(finished);
  // Staged pages may hold initial passwords from the source: remove them. Dry runs keep their plans to show.
  await deps.runFiles.deletePrefix(paths.pages(run.runId));
  await deps.runFiles.deletePrefix(paths.utf8Input(run.runId));
  if (!run.dryRun) await deps.runFiles.deletePrefix(paths.plans(run.runId));
  deps.log(`run ${run.runId} ${state}: ${summary}`);
}

/** A user that is new, back, renamed or has another manager can change whose manager resolves to whom. */
function movesLinks(decision: Decision): boolean {
  if (decision.action === 'create' || decision.action === 're-enable') return true;
  return decision.action === 'update' && decision.changedFields.some((field) => field === 'username' || field === 'manager');
}

/** What finalise needs of a shard's plan; not its decisions, which hold every changed user in full. */
type PlanSummary = Pick<ShardPlan, 'pendingDisables' | 'blockedInScope'> & { movesLinks: boolean };

/**
 * The shards' plans, read two at a time and cut down to what finalise uses: holding all sixteen whole
 * plans of a first 100,000-user sync at once took hundreds of megabytes.
 */
async function shardPlans(deps: SyncDependencies, run: Run): Promise<PlanSummary[]> {
  const limit = pLimit(2);
  const plans = await Promise.all(
    Array.from({ length: SHARD_COUNT }, (_, shard) =>
      limit(async (): Promise<PlanSummary | undefined> => {
        const content = await deps.runFiles.get(paths.plan(run.runId, shard));
        if (!content) return undefined;
        const plan = JSON.parse(String(content)) as ShardPlan;
        return { pendingDisables: plan.pendingDisables, blockedInScope: plan.blockedInScope, movesLinks: plan.decisions.some(movesLinks) };
      }),
    ),
  );
  return plans.filter((plan): plan is PlanSummary => plan !== undefined);
}

/**
 * Blocked users still in scope become active as licences allow, oldest first. The licences are taken
 * under one operation id, so a redelivered finalise activates the same users and counts them once.
 */
async function activateBlocked(deps: SyncDependencies, run: Run, plans: readonly PlanSummary[]): Promise<number> {
  const candidates = plans
    .flatMap((plan) => plan.blockedInScope ?? [])
    .sort((a, b) => (a.createdAt === b.createdAt ? (a.key < b.key ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
  if (!candidates.length) return 0;
  const granted = await deps.licences.take(`${run.runId}:activate`, candidates.length);
  const now = deps.clock().toISOString();
  const activations: Decision[] = [];
  for (const candidate of candidates.slice(0, granted)) {
    const user = await deps.users.get(run.directoryKey, candidate.key);
    if (!user) continue;
    activations.push({ action: 'activate', key: user.key, ref: user.sourceRef, user: { ...user, status: 'active', updatedAt: now }, changedFields: ['status'], reason: 'licence-available' });
  }
  await applyDecisions(deps, run, activations);
  return activations.length;
}

export function summarise(counts: Run['counts']): string {
  return Object.entries(counts)
    .map(([action, count]) => `${count} ${action}`)
    .join(', ');
}
