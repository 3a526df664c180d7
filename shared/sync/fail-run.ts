import type { SyncDependencies } from './dependencies.js';
import { freeSlot } from './close-run.js';
import { removeWorkingFiles } from './staging.js';
import { isTerminal, type Run } from './run-model.js';

/**
 * Ends a run as failed, disabling no one, when its own jobs cannot: a message that went to a poison
 * queue, or a run that made no progress for too long (the watchdog). Frees the profile's slot so the
 * next run starts over. Does nothing to a run that has already ended.
 */
export async function failRun(deps: SyncDependencies, runId: string, error: { code: string; message: string }): Promise<Run | undefined> {
  const now = deps.clock().toISOString();
  let failedNow = false;
  const run = await deps.runs.update(runId, (current) => {
    failedNow = !isTerminal(current.state);
    return failedNow ? { ...current, state: 'failed', error, endedAt: now, warnings: [...current.warnings, 'The run was stopped before finalise, so no one was disabled.'] } : undefined;
  });
  if (!run || !failedNow) return undefined;
  if (!run.dryRun) {
    await deps.audit.write([{ runId, connection: run.connection, action: 'run-failed', subject: runId, reason: error.code, detail: error.message, at: now }]);
  }
  await freeSlot(deps, run, 'failed', now);
  if (!run.dryRun) deps.runFinished(run);
  await removeWorkingFiles(deps.runFiles, run, 'failed');
  deps.log(`run ${runId} failed: ${error.code}`);
  return run;
}
