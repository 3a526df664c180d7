import { AppError, isAppError } from '../../errors/app-error.js';
import type { SyncDependencies } from '../dependencies.js';
import { isTerminal, type Run } from '../run-model.js';
import { startRun, type StartRunRequest } from './start-run.js';

/**
 * Starts a run, or — when the profile's run is still going (the CLI that drove it was killed, or a host
 * is working it) — hands that run back to be driven to its end, instead of refusing. Only the same kind
 * of run is taken over: a real sync is not answered with a dry run, nor a roll-back with a fresh read.
 */
export async function startOrResumeRun(deps: SyncDependencies, request: StartRunRequest): Promise<{ run: Run; resumed: boolean }> {
  try {
    return { run: await startRun(deps, request), resumed: false };
  } catch (error) {
    const activeId = isAppError(error) && error.code === 'run-active' ? error.details?.runId : undefined;
    const active = typeof activeId === 'string' ? await deps.runs.get(activeId) : undefined;
    if (!active || isTerminal(active.state)) throw error;
    if (active.dryRun !== (request.dryRun ?? false) || active.fromRunId !== request.fromRunId) {
      const flags = [active.dryRun ? ' --dry-run' : '', active.fromRunId ? ` --from-run ${active.fromRunId}` : ''].join('');
      throw new AppError(
        'run-active',
        `Run ${active.runId} of "${active.connection}" (sync${flags || ' without flags'}) is still going, and this asks for another kind of run: ` +
          `drive it to its end with \`usersync sync "${active.connection}"${flags}\`, or cancel it with \`usersync run cancel ${active.runId}\`.`,
        { details: { runId: active.runId } },
      );
    }
    return { run: active, resumed: true };
  }
}
