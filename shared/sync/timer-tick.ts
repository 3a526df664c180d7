import { isAppError } from '../errors/app-error.js';
import type { SyncDependencies } from './dependencies.js';
import { isDue } from './schedule.js';
import { startRun } from './start-run.js';

/** The timer's fan-out: starts a run for every enabled profile that is due and not already running. */
export async function runTimerTick(deps: SyncDependencies): Promise<{ started: string[] }> {
  const now = deps.clock();
  const started: string[] = [];
  for (const connection of await deps.connections.list()) {
    const { profile, state } = connection;
    if (!profile.enabled || !isDue(profile.schedule, state, now)) continue;
    try {
      // Interval schedules run incrementally between the daily full reconciliations.
      const run = await startRun(deps, { connection: profile.name, trigger: 'schedule', incremental: profile.schedule.kind === 'interval' });
      started.push(run.runId);
    } catch (error) {
      // One profile's problem (a run still active, a missing secret) must not stop the others.
      if (!isAppError(error)) throw error;
      if (error.code !== 'run-active') deps.log(`scheduled run of ${profile.name} not started: ${error.code}: ${error.message}`);
    }
  }
  return { started };
}
