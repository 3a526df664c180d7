import pLimit from 'p-limit';
import type { AuditStamp } from '../../audit/audit-log.js';
import type { ErrorCode } from '../../errors/app-error.js';
import { disableGuardOf } from '../../connections/profile.js';
import type { SyncDependencies } from '../dependencies.js';
import type { FinaliseJob } from './jobs.js';
import { addCounts, emptyCounts, type Decision } from '../model.js';
import type { PlannedDecision } from '../rules/decide.js';
import { shardsOf } from '../rules/partitioning.js';
import { linkManagers } from './link-managers.js';
import { applyDecisions } from './apply-decisions.js';
import { activationOf, seatsFreed } from '../rules/licences.js';
import { isTerminal, summarise, type HeldDisables, type Run } from '../run-model.js';
import { disableGuardVerdict, HELD_SAMPLE_SIZE, heldWarning } from '../rules/disable-guard.js';
import { statusChange } from '../rules/field-changes.js';
import { readPlan, removeWorkingFiles, type ShardPlan } from './staging.js';
import { freeSlot } from './close-run.js';

/**
 * Runs once every shard is applied: disables the users missing from the listing — only when the
 * listing was complete and every record was readable — then closes the run and frees the profile.
 * Every step is idempotent, so a redelivered finalise repeats it safely.
 */
export async function runFinaliseJob(deps: SyncDependencies, job: FinaliseJob): Promise<void> {
  const run = await deps.runs.get(job.runId);
  if (!run || isTerminal(run.state)) return;
  const results = await deps.runs.listShardResults(run.runId);
  if (results.length < shardsOf(run)) return;

  const counts = emptyCounts();
  const skipReasons: Record<string, number> = {};
  const unreadableReasons: Record<string, number> = {};
  for (const result of results) {
    addCounts(counts, result.counts);
    addReasons(skipReasons, result.skipReasons);
    addReasons(unreadableReasons, result.unreadableReasons ?? {});
  }
  const unreadable = results.reduce((sum, result) => sum + result.unreadable, 0);
  const pending = results.reduce((sum, result) => sum + result.pendingDisables, 0);
  const shardError = results.find((result) => result.error)?.error;
  const warnings: string[] = [];

  // A failed shard contributes nothing (its plan may be the very file that could not be read): no one it
  // planned to disable is disabled and no one it held is activated.
  const plans = await shardPlans(deps, run, results.filter((result) => !result.error).map((result) => result.shard));
  // Plans are removed only after the run is closed: a plan missing for an applied shard means another
  // worker finalised the run while this one was starting; going on would rewrite its outcome without them.
  const planned = new Set(plans.map((plan) => plan.shard));
  if (results.some((result) => !result.error && !planned.has(result.shard))) return;
  const nothingUsable = run.listing === 'complete' && run.kind === 'full' ? allRowsSkipped(run, counts, skipReasons, plans) : undefined;
  const mayDisable = run.listing === 'complete' && !shardError && unreadable === 0 && !nothingUsable;
  if (pending > 0 && !mayDisable) {
    if (unreadable > 0) {
      warnings.push(
        `${unreadable} row(s) could not be read with certainty (${listReasons(unreadableReasons)}), ` +
          'so no one was disabled for being missing from the source.',
      );
    } else if (shardError && run.listing === 'complete') {
      warnings.push('A shard of the directory could not be reconciled, so no one was disabled for being missing from the source.');
    } else if (!nothingUsable) {
      warnings.push('The listing did not complete, so no one was disabled for being missing from the source.');
    }
  } else if (run.listing !== 'complete') {
    warnings.push('The listing did not complete, so no one was disabled for being missing from the source.');
  }
  const disables = [...plans.flatMap((plan) => plan.sourceDisables), ...(mayDisable ? plans.flatMap((plan) => plan.pendingDisables) : [])];
  const enabledBefore = await enabledUsersBefore(deps, run, plans, disables.length);
  const verdict = disableGuardVerdict(disableGuardOf(run.profile), disables.length, enabledBefore);
  const acting = await beginActing(deps, run);
  if (!acting) return;
  // Whether the run was confirmed is read from the marked row, not from `run`: a worker that read the run
  // before it was held and woke after an admin confirmed it must apply the confirm, not hold the run again.
  const { stamp, confirmedAt } = acting;
  const held: HeldDisables | undefined =
    verdict.trips && !confirmedAt
      ? {
          count: disables.length,
          enabledBefore,
          limit: verdict.limit,
          usernames: disables.flatMap((decision) => ('user' in decision ? [decision.user.username] : [])).sort().slice(0, HELD_SAMPLE_SIZE),
        }
      : undefined;
  if (held) {
    warnings.push(heldWarning(held, run.dryRun));
  } else if (disables.length) {
    if (!run.dryRun) {
      await applyDecisions(deps, run, confirmedAt ? await stillEnabled(deps, run, disables) : disables, stamp);
      await deps.licences.release(`${run.runId}:finalise:freed`, seatsFreed(disables));
    }
    counts.disabled += disables.length;
  }

  if (!run.dryRun) counts.activated += await activateBlocked(deps, run, plans, stamp);

  const error = run.error ?? shardError ?? nothingUsable;
  const state = error ? 'failed' : held && !run.dryRun ? 'needs-confirmation' : 'succeeded';
  const now = deps.clock().toISOString();
  // Links can only change when users did; an unchanged re-sync skips the directory scan. An incremental
  // run (a handful of changes) scans only when a change can move a link, not for a new job title.
  const linksMayMove =
    run.kind === 'full' ? counts.created + counts.updated + counts['re-enabled'] > 0 : plans.some((plan) => plan.movesLinks);
  // A confirmed run linked them before it was held; what the confirm applies (disables) moves no link.
  if (!run.dryRun && linksMayMove && !confirmedAt) await linkManagers(deps, run, stamp);
  const summary = summarise(counts);
  if (!run.dryRun) {
    await deps.audit.write([
      {
        runId: run.runId,
        connection: run.connection,
        action: RUN_END_ACTION[state],
        subject: run.runId,
        detail: error ? `${error.message} ${summary}` : held ? `${warnings.at(-1)} First ${held.usernames.length}: ${held.usernames.join(', ')}.` : summary,
        ...(error ? { reason: error.code } : held ? { reason: 'disable-guard' } : {}),
        ...stamp,
      },
    ]);
  }
  // Free the profile first: if we crash after this, the redelivered finalise completes the run.
  await freeSlot(deps, run, state, now);
  // Two workers finalising at once both get here; only the one whose write closes the run reports it.
  let closedHere = false;
  const finished = await deps.runs.update(run.runId, (current) => {
    closedHere = !isTerminal(current.state);
    if (!closedHere) return undefined;
    return {
      ...current,
      state,
      counts,
      skipReasons,
      unreadableRecords: unreadable,
      warnings: [...current.warnings, ...warnings],
      endedAt: now,
      ...(error ? { error } : {}),
      ...(held ? { heldDisables: held } : {}),
    };
  });
  if (finished && closedHere && !run.dryRun) deps.runFinished(finished);
  // Held disables are applied from the plans when an admin confirms, so those stay.
  await removeWorkingFiles(deps.runFiles, run, state);
  deps.log(`run ${run.runId} ${state}: ${summary}`);
}

/**
 * Marks the run before finalise's first write, unless it has ended (an admin cancelled it): a cancel
 * and a finalise race on the run row's ETag, so either the cancel wins and this finalise stops here,
 * disabling no one, or the mark wins and the cancel is refused. A redelivered finalise finds its mark.
 * Answers what finalise's audit records carry: the mark's time (the same on every delivery), and who
 * acts — who confirmed the run, with when, if it was confirmed, else who started it.
 */
async function beginActing(deps: SyncDependencies, run: Run): Promise<{ stamp: AuditStamp; confirmedAt?: string } | undefined> {
  const now = deps.clock().toISOString();
  const latest = await deps.runs.update(run.runId, (current) =>
    isTerminal(current.state) || current.finaliseStartedAt ? undefined : { ...current, finaliseStartedAt: now },
  );
  if (!latest || isTerminal(latest.state)) return undefined;
  const at = latest.finaliseStartedAt ?? now;
  if (latest.confirmedBy && latest.confirmedAt) return { stamp: { actor: latest.confirmedBy, at, confirmedAt: latest.confirmedAt }, confirmedAt: latest.confirmedAt };
  return { stamp: { actor: latest.startedBy, at } };
}

const RUN_END_ACTION = {
  succeeded: 'run-succeeded',
  failed: 'run-failed',
  'needs-confirmation': 'run-needs-confirmation',
} as const;

/**
 * Confirmed disables are applied to the users as they are now (an admin may have changed them since
 * the run was planned); users disabled meanwhile are left alone.
 */
async function stillEnabled(deps: SyncDependencies, run: Run, disables: readonly PlannedDecision[]): Promise<Decision[]> {
  const limit = pLimit(16);
  const refreshed = await Promise.all(
    disables.map((decision) =>
      limit(async (): Promise<Decision[]> => {
        if (decision.action !== 'disable') return [];
        const user = await deps.users.get(run.directoryKey, decision.key);
        if (!user || user.status === 'disabled') return [];
        const { disabledReason } = decision.user;
        return [
          {
            ...decision,
            user: { ...user, status: 'disabled', updatedAt: decision.user.updatedAt, ...(disabledReason ? { disabledReason } : {}) },
            changes: [statusChange(user.status, 'disabled')],
          },
        ];
      }),
    ),
  );
  return refreshed.flat();
}

/**
 * The disable guard's base: the directory's users not disabled before the run. A full run's shards
 * scanned every partition and counted them; an incremental run read only the users it was told about,
 * so when it has anyone to disable the directory is counted (users it created are not disabled yet
 * and count too: a delta that adds and removes as many is no accident).
 */
async function enabledUsersBefore(deps: SyncDependencies, run: Run, plans: readonly PlanSummary[], disabling: number): Promise<number> {
  if (run.kind === 'full') return plans.reduce((sum, plan) => sum + plan.enabledBefore, 0);
  if (disabling === 0) return 0;
  let enabled = 0;
  for await (const user of deps.users.list(run.directoryKey)) if (user.status !== 'disabled') enabled++;
  return enabled;
}

function addReasons(into: Record<string, number>, from: Record<string, number>): void {
  for (const [reason, count] of Object.entries(from)) into[reason] = (into[reason] ?? 0) + count;
}

function byFrequency(reasons: Record<string, number>): [string, number][] {
  return Object.entries(reasons).sort(([a, countA], [b, countB]) => countB - countA || (a < b ? -1 : 1));
}

/** "column-count 2, malformed-row 1": most frequent first. */
function listReasons(reasons: Record<string, number>): string {
  return byFrequency(reasons)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
}

/** What to fix when every row was skipped for one of these reasons. */
const ALL_SKIPPED_HINTS: Record<string, string> = {
  'missing-password':
    'New accounts need a password: name a default password in the profile (defaultPasswordSecret) or add a password column. ',
  'column-count':
    'The rows do not have as many columns as the header: check the delimiter (the profile\'s "delimiter" setting) and the file\'s line endings. ',
};

/**
 * A full listing that had rows but none the run could use (every one skipped, and none merely inactive
 * in the source): a profile or export gone wrong, not a directory where everyone left. The run fails
 * and disables no one. An empty listing is not this: CSV fails it as csv-empty, and the disable guard
 * weighs a directory that lists no one.
 */
function allRowsSkipped(run: Run, counts: Run['counts'], skipReasons: Record<string, number>, plans: readonly PlanSummary[]): { code: ErrorCode; message: string } | undefined {
  const inactive = skipReasons['inactive-in-source'] ?? 0;
  const used = counts.created + counts.updated + counts.unchanged + counts['re-enabled'] + counts.blocked + counts.conflict + inactive;
  if (counts.skipped === 0 || used > 0 || plans.some((plan) => plan.sourceDisables.length > 0)) return undefined;
  const [top] = byFrequency(skipReasons);
  return {
    code: 'all-rows-skipped',
    message:
      `Every ${run.profile.type === 'csv' ? 'row' : 'user'} the source listed (${counts.skipped}) was skipped (${listReasons(skipReasons)}), ` +
      'so nothing was synced and no one was disabled. ' +
      `${(top && ALL_SKIPPED_HINTS[top[0]]) ?? ''}Fix the source or the profile and sync again; \`usersync audit --run ${run.runId}\` lists the reason for each.`,
  };
}

/** A user that is new, back, renamed or has another manager can change whose manager resolves to whom. */
function movesLinks(decision: Decision): boolean {
  if (decision.action === 'create' || decision.action === 're-enable') return true;
  return decision.action === 'update' && decision.changedFields.some((field) => field === 'username' || field === 'manager');
}

/** What finalise needs of a shard's plan; not its decisions, which hold every changed user in full. */
type PlanSummary = Pick<ShardPlan, 'shard' | 'sourceDisables' | 'pendingDisables' | 'enabledBefore' | 'blockedInScope'> & { movesLinks: boolean };

/**
 * The shards' plans, read two at a time and cut down to what finalise uses: holding all the whole
 * plans of a first 100,000-user sync at once took hundreds of megabytes.
 */
async function shardPlans(deps: SyncDependencies, run: Run, shards: readonly number[]): Promise<PlanSummary[]> {
  const limit = pLimit(2);
  const plans = await Promise.all(
    shards.map((shard) =>
      limit(async (): Promise<PlanSummary | undefined> => {
        const plan = await readPlan(deps.runFiles, run.runId, shard);
        if (!plan) return undefined;
        const { sourceDisables, pendingDisables, enabledBefore, blockedInScope } = plan;
        return { shard, sourceDisables, pendingDisables, enabledBefore, blockedInScope, movesLinks: plan.decisions.some(movesLinks) };
      }),
    ),
  );
  return plans.filter((plan): plan is PlanSummary => plan !== undefined);
}

/**
 * Blocked users still in scope become active as licences allow, oldest first. The licences are taken
 * under one operation id, so a redelivered finalise activates the same users and counts them once.
 */
async function activateBlocked(deps: SyncDependencies, run: Run, plans: readonly PlanSummary[], stamp: AuditStamp): Promise<number> {
  const candidates = plans
    .flatMap((plan) => plan.blockedInScope ?? [])
    .sort((a, b) => (a.createdAt === b.createdAt ? (a.key < b.key ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
  if (!candidates.length) return 0;
  const granted = await deps.licences.take(`${run.runId}:activate`, candidates.length);
  const activations: Decision[] = [];
  let activated = 0;
  for (const candidate of candidates.slice(0, granted)) {
    const user = await deps.users.get(run.directoryKey, candidate.key);
    if (!user) continue;
    activated++;
    // Activated before the run was held (this is its confirm's finalise): counted, but recorded then.
    if (user.status !== 'blocked') continue;
    activations.push(activationOf(user, stamp.at));
  }
  await applyDecisions(deps, run, activations, stamp);
  return activated;
}
