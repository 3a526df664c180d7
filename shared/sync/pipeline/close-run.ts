import type { ConnectionState } from '../ports.js';
import type { SyncDependencies } from '../dependencies.js';
import type { Run, RunState } from '../run-model.js';

/**
 * Frees the profile's active-run slot held by `run` and records how it ended. Only a successful run
 * moves the checkpoint and the last full run: any other is read again from where it started.
 */
export async function freeSlot(deps: SyncDependencies, run: Run, state: RunState, now: string): Promise<void> {
  await deps.connections.updateState(run.connection, (current) => {
    if (current.state.activeRunId !== run.runId) return undefined;
    const rest = withoutActiveRun(current.state);
    if (run.dryRun) return rest;
    const finished = { ...rest, lastRunId: run.runId, lastRunEndedAt: now, lastRunStatus: state };
    if (state !== 'succeeded') return finished;
    return {
      ...finished,
      ...(run.nextCheckpoint ? { checkpoint: run.nextCheckpoint } : {}),
      ...(run.kind === 'full' ? { lastFullRunAt: run.startedAt } : {}),
    };
  });
}

/** The state with the profile's active-run slot freed. */
export function withoutActiveRun(state: ConnectionState): ConnectionState {
  const { activeRunId: _active, activeRunSince: _since, ...rest } = state;
  return rest;
}
