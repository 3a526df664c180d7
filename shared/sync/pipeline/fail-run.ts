import type { AuditAction } from '../../audit/audit-log.js';
import type { RunError } from '../../errors/app-error.js';
import type { SyncDependencies } from '../dependencies.js';
import { freeSlot } from './close-run.js';
import { removeWorkingFiles } from './staging.js';
import { isTerminal, type Run } from '../run-model.js';

/** How a run its own jobs will not finish is ended. */
export interface RunStop {
  state: 'failed' | 'cancelled';
  error?: RunError;
  /** Added to the run's warnings: what the admin should know about how it ended. */
  warning: string;
  audit: { action: AuditAction; reason?: string; detail: string };
  /** Who ends it, when not the run itself (its record then names who started it). */
  actor?: string;
}

/**
 * Ends a run that has not ended yet, disabling no one, unless `mayStop` refuses it as it is now. Frees
 * the profile's slot so the next run starts over. `run` is the run as stopped, or as found when it was not.
 */
export async function stopRun(
  deps: SyncDependencies,
  runId: string,
  stop: RunStop,
  mayStop: (current: Run) => boolean = () => true,
): Promise<{ run: Run | undefined; stopped: boolean }> {
  const now = deps.clock().toISOString();
  let stopped = false;
  const run = await deps.runs.update(runId, (current) => {
    stopped = !isTerminal(current.state) && mayStop(current);
    if (!stopped) return undefined;
    return { ...current, state: stop.state, ...(stop.error ? { error: stop.error } : {}), endedAt: now, warnings: [...current.warnings, stop.warning] };
  });
  if (!run || !stopped) return { run, stopped: false };
  if (!run.dryRun) {
    const { action, reason, detail } = stop.audit;
    await deps.audit.write([{ runId, connection: run.connection, action, subject: runId, ...(reason ? { reason } : {}), detail, actor: stop.actor ?? run.startedBy, at: now }]);
  }
  await freeSlot(deps, run, stop.state, now);
  if (!run.dryRun) deps.runFinished(run);
  await removeWorkingFiles(deps.runFiles, run, stop.state);
  deps.log(`run ${runId} ${stop.state}${stop.error ? `: ${stop.error.code}` : ''}`);
  return { run, stopped: true };
}

/**
 * Ends a run as failed, disabling no one, when its own jobs cannot: a message that went to a poison
 * queue, or a run that made no progress for too long (the watchdog: `actor` is then the timer). Does
 * nothing to a run that has already ended.
 */
export async function failRun(deps: SyncDependencies, runId: string, error: RunError, actor?: string): Promise<Run | undefined> {
  const { run, stopped } = await stopRun(deps, runId, {
    state: 'failed',
    error,
    warning: 'The run was stopped before finalise, so no one was disabled.',
    audit: { action: 'run-failed', reason: error.code, detail: error.message },
    ...(actor ? { actor } : {}),
  });
  return stopped ? run : undefined;
}
