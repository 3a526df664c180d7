import { actorName } from '../../audit/audit-log.js';
import { AppError } from '../../errors/app-error.js';
import type { ConnectionState } from '../ports.js';
import type { SyncDependencies } from '../dependencies.js';
import { RUN_ID_PATTERN, type Run } from '../run-model.js';
import { paths, runFilesExpired } from './staging.js';
import { heldWarning } from '../rules/disable-guard.js';

/**
 * An admin confirms the disables a run held back (the disable guard tripped): the run takes its
 * profile's slot again and finalise applies them. Only the profile's latest run can be confirmed —
 * once a newer run has started, that one re-evaluated who is missing. `actor` is who confirms: the run
 * records them and when, and so do the records of what finalise then applies.
 */
export async function confirmRun(deps: SyncDependencies, runId: string, actor: string): Promise<Run> {
  const run = RUN_ID_PATTERN.test(runId) ? await deps.runs.get(runId) : undefined;
  if (!run) throw new AppError('run-not-found', `There is no run ${runId}.`);
  if (run.state === 'superseded') {
    throw new AppError('run-superseded', `Run ${runId} was superseded by a later run of "${run.connection}", which re-evaluated who is missing.`);
  }
  if (run.state !== 'needs-confirmation') {
    throw new AppError('run-not-awaiting-confirmation', `Run ${runId} is ${run.state}; only a run that needs confirmation can be confirmed.`);
  }
  if (runFilesExpired(run.startedAt, deps.clock(), deps.archiveDays)) {
    throw new AppError(
      'run-files-expired',
      `Run ${runId}'s plans were deleted with its files after ${deps.archiveDays} days (USERSYNC_ARCHIVE_DAYS); sync "${run.connection}" again to re-evaluate who is missing.`,
    );
  }
  const now = deps.clock().toISOString();
  let claimed = false;
  const stored = await deps.connections.updateState(run.connection, (current) => {
    claimed = !refusalFor(current.state, runId, run.connection);
    return claimed ? { ...current.state, activeRunId: runId, activeRunSince: now } : undefined;
  });
  if (!stored) throw new AppError('connection-not-found', `There is no connection profile named "${run.connection}".`);
  // Not claimed: `stored` is the state the refusal was decided on.
  if (!claimed) throw refusalFor(stored.state, runId, run.connection);

  // Finalise acts anew: until it does, the confirmed run can still be cancelled. The warning that no one
  // was disabled is no longer true once finalise disables them; the run says it was confirmed instead.
  const confirmed = await deps.runs.update(runId, ({ finaliseStartedAt: _begun, ...current }) => {
    if (current.state !== 'needs-confirmation') return undefined;
    const held = current.heldDisables ? heldWarning(current.heldDisables, false) : undefined;
    const note = `The disable guard held ${current.heldDisables?.count ?? 0} disable(s); ${actorName(actor)} confirmed them at ${now}.`;
    return { ...current, state: 'finalising', confirmedAt: now, confirmedBy: actor, warnings: [...current.warnings.filter((warning) => warning !== held), note] };
  });
  await deps.audit.write([
    {
      runId,
      connection: run.connection,
      action: 'run-confirmed',
      subject: runId,
      detail: `${actorName(actor)} confirmed disabling ${run.heldDisables?.count ?? 0} user(s).`,
      actor,
      at: now,
    },
  ]);
  await deps.queue.send('finalise', { runId });
  deps.log(`run ${runId} confirmed; finalising`);
  return confirmed ?? run;
}

/** Why the profile's state does not let `runId` take the slot again, if it does not. */
function refusalFor(state: ConnectionState, runId: string, connection: string): AppError | undefined {
  if (state.activeRunId) {
    return new AppError('run-active', `A run of "${connection}" is active (${state.activeRunId}); confirm when it has ended.`, { details: { runId: state.activeRunId } });
  }
  if (state.lastRunId !== runId) {
    return new AppError('run-superseded', `Run ${runId} was superseded by run ${state.lastRunId}, which re-evaluated who is missing.`, { details: { runId: state.lastRunId } });
  }
  return undefined;
}

/**
 * A new run of the profile re-evaluates who is missing, so a run still waiting for confirmation is
 * superseded: it can no longer be confirmed, and its plans are removed (recorded as the new run's doing).
 */
export async function supersedeHeldRun(deps: SyncDependencies, heldRunId: string, by: Pick<Run, 'runId' | 'startedBy' | 'startedAt'>): Promise<void> {
  const byRunId = by.runId;
  const superseded = await deps.runs.update(heldRunId, (current) =>
    current.state === 'needs-confirmation'
      ? { ...current, state: 'superseded', warnings: [...current.warnings, `Superseded by run ${byRunId}, which re-evaluated who is missing.`] }
      : undefined,
  );
  if (superseded?.state !== 'superseded') return;
  await deps.audit.write([
    { runId: heldRunId, connection: superseded.connection, action: 'run-superseded', subject: heldRunId, detail: `Run ${byRunId} re-evaluates who is missing.`, actor: by.startedBy, at: by.startedAt },
  ]);
  await deps.runFiles.deletePrefix(paths.plans(heldRunId));
}
