import { describeError, type RunError } from '../../errors/app-error.js';
import { applyDecisions } from './apply-decisions.js';
import type { SyncDependencies } from '../dependencies.js';
import type { Delivery, ReconcileJob } from './jobs.js';
import { seatsFreed } from '../rules/licences.js';
import { emptyCounts } from '../model.js';
import { shardsOf } from '../rules/partitioning.js';
import { isTerminal, type Run, type ShardResult } from '../run-model.js';
import { countPlan, countSkipReasons, loadOrMakePlan } from './shard-plan.js';
import { removeWorkingFiles } from './staging.js';

/**
 * Reconciles one shard of a run: plans once (source entries against the stored users of the shard's
 * partitions), then applies the plan — audit records first, then user rows — and records the shard's
 * counts. The last shard to finish queues finalise.
 */
export async function runReconcileJob(deps: SyncDependencies, job: ReconcileJob, delivery: Delivery): Promise<void> {
  const run = await deps.runs.get(job.runId);
  if (!run || isTerminal(run.state)) return;
  // Shards are queued only once the listing has ended; a stray earlier message must not plan on half a listing.
  if (run.listing === 'in-progress') return;
  // Not one of this run's shards (a message made up or damaged): a row for it would never be counted.
  if (job.shard >= shardsOf(run)) return;
  if (!(await shardRecorded(deps, run.runId, job.shard))) {
    try {
      const plan = await loadOrMakePlan(deps, run, job.shard);
      // A worker that stalled since the check above may find the run ended (its plans removed, so this
      // plan was just made again from users the run already changed) or the shard applied by another
      // worker: applying or counting again would undo finalise's work or overwrite the shard's counts.
      const latest = await deps.runs.get(run.runId);
      if (!latest || isTerminal(latest.state)) {
        await removeWorkingFiles(deps.runFiles, run, latest?.state);
        return;
      }
      if (!(await shardRecorded(deps, run.runId, job.shard))) {
        if (!run.dryRun) {
          await applyDecisions(deps, run, plan.decisions, { actor: run.startedBy, at: plan.plannedAt });
          await deps.licences.release(`${run.runId}:shard-${job.shard}:freed`, seatsFreed(plan.decisions));
        }
        await deps.runs.putShardResult(run.runId, {
          shard: job.shard,
          counts: countPlan(plan),
          skipReasons: countSkipReasons(plan),
          pendingDisables: plan.pendingDisables.length,
          unreadable: plan.unreadable,
          unreadableReasons: plan.unreadableReasons,
        });
      }
    } catch (error) {
      if (delivery.attempt < delivery.maxAttempts) throw error;
      // Out of retries: record the failure so the run can finish (as failed, disabling no one).
      await deps.runs.putShardResult(run.runId, failedShard(job.shard, describeError(error)));
    }
  }
  await countShards(deps, run);
}

/**
 * A reconcile job in the poison queue (its handler crashed on every delivery): the shard is recorded
 * as failed so the other shards' work still lands and the run finishes, disabling no one.
 */
export async function recordPoisonedShard(deps: SyncDependencies, job: ReconcileJob, error: RunError): Promise<void> {
  const run = await deps.runs.get(job.runId);
  if (!run || isTerminal(run.state) || run.listing === 'in-progress' || job.shard >= shardsOf(run)) return;
  if (!(await shardRecorded(deps, run.runId, job.shard))) {
    await deps.runs.putShardResult(run.runId, failedShard(job.shard, error));
  }
  await countShards(deps, run);
}

function failedShard(shard: number, error: RunError): ShardResult {
  return { shard, counts: emptyCounts(), skipReasons: {}, pendingDisables: 0, unreadable: 0, error };
}

/** Records how many shards are done; whoever completes the set queues finalise (twice is harmless). */
async function countShards(deps: SyncDependencies, run: Run): Promise<void> {
  const { runId } = run;
  const shards = shardsOf(run);
  const finished = (await deps.runs.listShardResults(runId)).length;
  // A run that ended meanwhile (cancelled, failed) stays ended: moving it to finalising would revive it.
  const updated = await deps.runs.update(runId, (current) =>
    current.shardsDone >= finished || isTerminal(current.state)
      ? undefined
      : { ...current, shardsDone: finished, ...(finished >= shards ? { state: 'finalising' as const } : {}) },
  );
  if (finished >= shards && updated && !isTerminal(updated.state)) await deps.queue.send('finalise', { runId });
}

async function shardRecorded(deps: SyncDependencies, runId: string, shard: number): Promise<boolean> {
  return (await deps.runs.listShardResults(runId)).some((result) => result.shard === shard);
}
