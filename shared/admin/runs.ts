import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import { addCounts, emptyCounts, type ActionCounts, type Decision } from '../sync/model.js';
import { cancelRun } from '../sync/pipeline/cancel-run.js';
import { throttledUntil } from '../sync/pipeline/listing-throttle.js';
import { confirmRun } from '../sync/pipeline/confirm-run.js';
import { startOrResumeRun } from '../sync/pipeline/resume-run.js';
import { readPlan, runFilesExpired } from '../sync/pipeline/staging.js';
import { startRun } from '../sync/pipeline/start-run.js';
import { shardsOf } from '../sync/rules/partitioning.js';
import { isTerminal, RUN_ID_PATTERN, type Run } from '../sync/run-model.js';
import { flag, pageLimit, runId, segment, text } from './fields.js';
import { ADMIN, defineOperation, READER, type AdminContext, type HttpBinding, type Role } from './operation.js';

/** Runs: start one (or take over the one still going), confirm, cancel, list, show, and read a kept plan. */

export async function existingRun(deps: SyncDependencies, id: string): Promise<Run> {
  const run = RUN_ID_PATTERN.test(id) ? await deps.runs.get(id) : undefined;
  if (!run) throw new AppError('run-not-found', `There is no run ${id}.`);
  return run;
}

/** How far a run has come: what `GET /runs/{id}` adds to the run, and `usersync sync` shows while it waits. */
export interface RunProgress {
  pagesRead: number;
  shardsDone: number;
  /** Shards a run reconciles (16). */
  shards: number;
  /**
   * Counts so far: the shards' (their rows, summed as they land) while the run goes on — finalise's disables
   * and activations come at its end —, the run's own once it has ended.
   */
  counts: ActionCounts;
  /** While the directory throttles the listing: until when every chain waits (the run's throttledUntil, in the future). */
  throttledUntil?: string;
}

export type RunView = Run & { progress: RunProgress };

/** A run with its progress. Summing the shard rows on read (a row a shard, in the run's partition) costs a reconcile job no extra write. */
export async function runView(deps: SyncDependencies, run: Run): Promise<RunView> {
  const ongoing = !isTerminal(run.state) && run.listing !== 'in-progress';
  const counts = ongoing ? (await deps.runs.listShardResults(run.runId)).reduce((sum, shard) => addCounts(sum, shard.counts), emptyCounts()) : run.counts;
  const throttled = run.listing === 'in-progress' && !isTerminal(run.state) && throttledUntil(deps, run) !== undefined;
  return { ...run, progress: { pagesRead: run.pagesFetched, shardsDone: run.shardsDone, shards: shardsOf(run), counts, ...(throttled ? { throttledUntil: run.throttledUntil } : {}) } };
}

/** An operation on the run its route names, answered by one use case. */
function onRun<O>(role: Role, http: HttpBinding<{ id: string }, NoInfer<O>>, use: (context: AdminContext, id: string) => Promise<O>) {
  return defineOperation({ role, input: z.strictObject({ id: segment }), http, run: (context, { id }) => use(context, id) });
}
const location = ({ runId }: { runId: string }) => `/api/runs/${runId}`;

/** One change a plan holds: what would happen (or happens) to whom, and why. */
export interface PlannedChange {
  action: Exclude<Decision['action'], 'unchanged'>;
  ref: string;
  username?: string;
  changedFields?: string[];
  reason?: string;
  detail?: string;
}

function plannedChange(decision: Exclude<Decision, { action: 'unchanged' }>): PlannedChange {
  const { action, ref } = decision;
  if (action === 'skip') return { action, ref, reason: decision.reason, detail: decision.detail };
  if (action === 'conflict') return { action, ref, username: decision.username, reason: decision.reason, detail: decision.detail };
  return { action, ref, username: decision.user.username, changedFields: decision.changedFields, ...(decision.reason ? { reason: decision.reason } : {}) };
}

export const runOperations = {
  /**
   * Starts a run now. With `resume`, a run of the profile that is still going — of the same kind — is
   * answered instead of refused (`resumed: true`): its driver was stopped, or a host is working it.
   */
  'connections.sync': defineOperation({
    role: ADMIN,
    input: z.strictObject({ name: segment, dryRun: flag.optional(), incremental: flag.optional(), fromRun: runId.optional(), resume: flag.optional() }),
    http: { method: 'POST', path: 'connections/:name/sync', query: ['dryRun', 'incremental', 'fromRun', 'resume'], status: () => 202, location },
    run: async ({ deps, caller }, { name, dryRun = false, incremental = false, fromRun, resume = false }) => {
      const request = { connection: name, trigger: 'manual' as const, startedBy: caller.actor, dryRun, incremental, ...(fromRun ? { fromRunId: fromRun } : {}) };
      const { run, resumed } = resume ? await startOrResumeRun(deps, request) : { run: await startRun(deps, request), resumed: false };
      return { runId: run.runId, connection: run.connection, state: run.state, kind: run.kind, dryRun: run.dryRun, startedAt: run.startedAt, resumed };
    },
  }),

  'runs.list': defineOperation({
    role: READER,
    input: z.strictObject({ connection: text.optional(), limit: pageLimit.default(50) }),
    http: { method: 'GET', path: 'runs', query: ['connection', 'limit'] },
    run: ({ deps }, { connection, limit }) => deps.runs.list({ ...(connection ? { connection } : {}), limit }),
  }),

  'runs.get': onRun(READER, { method: 'GET', path: 'runs/:id' }, async ({ deps }, id) => runView(deps, await existingRun(deps, id))),

  /** Applies the disables a run held back (the disable guard tripped). */
  'runs.confirm': onRun(ADMIN, { method: 'POST', path: 'runs/:id/confirm', status: () => 202, location }, async ({ deps, caller }, id) => {
    const run = await confirmRun(deps, id, caller.actor);
    return { runId: run.runId, state: run.state, confirmedAt: run.confirmedAt, confirmedBy: run.confirmedBy, disabling: run.heldDisables?.count ?? 0 };
  }),

  'runs.cancel': onRun(ADMIN, { method: 'POST', path: 'runs/:id/cancel' }, ({ deps, caller }, id) => cancelRun(deps, id, caller.actor)),

  /**
   * What a run planned, read again from the plans kept by a dry run (what it would do) or a held run (its
   * creates and updates are applied, its disables wait for confirmation), for USERSYNC_ARCHIVE_DAYS.
   * Other runs keep no plan: what they did is in the audit trail.
   */
  'runs.plan': onRun(READER, { method: 'GET', path: 'runs/:id/plan' }, async ({ deps }, id) => {
    const run = await existingRun(deps, id);
    if (!isTerminal(run.state)) throw new AppError('run-active', `Run ${run.runId} is still ${run.state}; read its plan once it has ended.`, { details: { runId: run.runId } });
    if (!run.dryRun && run.state !== 'needs-confirmation') {
      throw new AppError('not-found', `Run ${run.runId} keeps no plan: only a dry run or a run held for confirmation does. What it did: the audit trail of the run.`);
    }
    if (runFilesExpired(run.startedAt, deps.clock(), deps.archiveDays)) {
      throw new AppError('run-files-expired', `Run ${run.runId}'s plan was deleted with its files after ${deps.archiveDays} days (USERSYNC_ARCHIVE_DAYS).`);
    }
    const changes: PlannedChange[] = [];
    for (let shard = 0; shard < shardsOf(run); shard++) {
      const plan = await readPlan(deps.runFiles, run.runId, shard);
      for (const decision of plan ? [...plan.decisions, ...plan.sourceDisables, ...plan.pendingDisables] : []) {
        if (decision.action !== 'unchanged') changes.push(plannedChange(decision));
      }
    }
    return { runId: run.runId, connection: run.connection, state: run.state, dryRun: run.dryRun, changes };
  }),
};
