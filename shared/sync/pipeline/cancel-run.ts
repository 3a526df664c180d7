import { actorName } from '../../audit/audit-log.js';
import { AppError } from '../../errors/app-error.js';
import type { SyncDependencies } from '../dependencies.js';
import { stopRun } from './fail-run.js';
import { isTerminal, RUN_ID_PATTERN, type Run } from '../run-model.js';

/**
 * An admin ends an active run — one whose driver was killed, or one started by mistake — as `cancelled`.
 * It disables no one: a run can be cancelled only until finalise begins to act (finalise marks the run
 * first and stops if it finds it cancelled, so the two cannot both win). What its shards already applied
 * (creates, updates) stays. `actor` is who cancels it (`cli:ann`…): the audit record names them.
 */
export async function cancelRun(deps: SyncDependencies, runId: string, actor: string): Promise<Run> {
  const found = RUN_ID_PATTERN.test(runId) ? await deps.runs.get(runId) : undefined;
  if (!found) throw new AppError('run-not-found', `There is no run ${runId}.`);
  const { run, stopped } = await stopRun(
    deps,
    runId,
    {
      state: 'cancelled',
      warning: `Cancelled by ${actorName(actor)}, so no one was disabled; users it had already created or updated stay as they are.`,
      audit: { action: 'run-cancelled', detail: `Cancelled by ${actorName(actor)}; no one was disabled.` },
      actor,
    },
    (current) => current.finaliseStartedAt === undefined,
  );
  if (stopped && run) return run;
  throw refusal(run ?? found);
}

function refusal(run: Run): AppError {
  const details = { runId: run.runId, state: run.state };
  if (run.state === 'needs-confirmation') {
    return new AppError('run-not-active', `Run ${run.runId} has ended, holding its disables: it disables no one unless confirmed, and the next run of "${run.connection}" supersedes it.`, { details });
  }
  if (isTerminal(run.state)) return new AppError('run-not-active', `Run ${run.runId} has already ended (${run.state}); only an active run can be cancelled.`, { details });
  return new AppError('run-not-active', `Run ${run.runId} is finishing (finalise began at ${run.finaliseStartedAt}) and can no longer be cancelled; it ends on its own.`, { details });
}
