import { isAppError } from '../../errors/app-error.js';
import type { SyncDependencies } from '../dependencies.js';
import { randomBytes } from 'node:crypto';
import type { StoredConnection } from '../ports.js';
import { emptyCounts } from '../model.js';
import { isTerminal, newRunId } from '../run-model.js';
import { withoutActiveRun } from './close-run.js';
import { failRun } from './fail-run.js';
import { isDue, skippedDailySlot } from '../rules/schedule.js';
import { expireRunFiles } from './staging.js';
import { startRun } from './start-run.js';

/** The actor of what the timer does: the runs it starts, the stalled runs it fails. */
export const TIMER = 'timer';

/**
 * The timer's fan-out: starts a run for every enabled profile that is due and not already running;
 * then deletes the files of runs older than USERSYNC_ARCHIVE_DAYS.
 */
export async function runTimerTick(deps: SyncDependencies): Promise<{ started: string[] }> {
  const now = deps.clock();
  const started: string[] = [];
  for (const connection of await deps.connections.list()) {
    const { profile, state } = connection;
    if (state.activeRunId) await watchActiveRun(deps, connection, now);
    // A `scim` connection has no schedule: its changes are pushed.
    if (!profile.enabled || profile.type === 'scim') continue;
    const skipped = skippedDailySlot(profile.schedule, state, now);
    if (skipped) await recordSkippedRun(deps, connection, skipped, now);
    if (!isDue(profile.schedule, state, now)) continue;
    try {
      // Hourly and interval schedules run incrementally between the daily full reconciliations.
      const incremental = profile.schedule.kind === 'interval' || profile.schedule.kind === 'hourly';
      const run = await startRun(deps, { connection: profile.name, trigger: 'schedule', startedBy: TIMER, incremental });
      started.push(run.runId);
    } catch (error) {
      // One profile's problem (a run still active, a missing secret) must not stop the others.
      if (!isAppError(error)) throw error;
      if (error.code !== 'run-active') deps.log(`scheduled run of ${profile.name} not started: ${error.code}: ${error.message}`);
    }
  }
  const expired = await expireRunFiles(deps.runFiles, now, deps.archiveDays);
  if (expired) deps.log(`deleted ${expired} file(s) of runs older than ${deps.archiveDays} days`);
  return { started };
}

/**
 * The watchdog: a run whose row has not changed for this long has lost its queue messages (or its
 * jobs crash faster than they are retried). Far above the slowest step seen (finalise of a large
 * directory takes minutes), so a slow run is never cut short.
 */
export const STALLED_AFTER_MS = 60 * 60_000;

/** Frees a slot whose run ended or vanished, and fails a run that stalled, so the profile syncs again. */
async function watchActiveRun(deps: SyncDependencies, { profile, state }: StoredConnection, now: Date): Promise<void> {
  const runId = state.activeRunId;
  if (!runId) return;
  const run = await deps.runs.get(runId);
  if (run && !isTerminal(run.state)) {
    const lastWritten = await deps.runs.lastWrittenAt(runId);
    if (!lastWritten || now.getTime() - lastWritten.getTime() < STALLED_AFTER_MS) return;
    const minutes = Math.round((now.getTime() - lastWritten.getTime()) / 60_000);
    await failRun(
      deps,
      runId,
      {
        code: 'run-stalled',
        message: `The run made no progress for ${minutes} minutes (its queue messages were lost, or its jobs keep crashing), so the watchdog stopped it.`,
      },
      TIMER,
    );
    return;
  }
  // A slot taken a moment ago may belong to a run being confirmed (it turns non-terminal right after).
  if (now.getTime() - Date.parse(state.activeRunSince ?? '') < 5 * 60_000) return;
  await deps.connections.updateState(profile.name, (current) => (current.state.activeRunId === runId ? withoutActiveRun(current.state) : undefined));
}

/** The reference product's rule, made visible: a manual sync within 24 hours replaces the daily run. */
async function recordSkippedRun(deps: SyncDependencies, connection: StoredConnection, slot: string, now: Date): Promise<void> {
  const { profile, state } = connection;
  // Two hosts ticking at once: only the one whose write records the slot lists it.
  let mine = false;
  await deps.connections.updateState(profile.name, (current) => {
    mine = current.state.lastSkippedSlot !== slot;
    return mine ? { ...current.state, lastSkippedSlot: slot } : undefined;
  });
  if (!mine) return;
  await deps.runs.create({
    runId: newRunId(now, randomBytes(3).toString('hex')),
    connection: profile.name,
    directoryKey: connection.directoryKey,
    trigger: 'schedule',
    startedBy: TIMER,
    kind: 'full',
    dryRun: false,
    profile,
    state: 'skipped',
    pagesFetched: 0,
    listing: 'complete',
    shardsDone: 0,
    counts: emptyCounts(),
    skipReasons: {},
    unreadableRecords: 0,
    warnings: [`The daily run of ${slot} was skipped: a manual sync ran at ${state.lastManualRunAt}, within the 24 hours before it.`],
    startedAt: now.toISOString(),
    endedAt: now.toISOString(),
  });
}
