import type { TimerFunction } from '../shared/app/registry.js';
import type { SyncDependencies } from '../shared/sync/dependencies.js';
import { runTimerTick } from '../shared/sync/pipeline/timer-tick.js';

/** Every minute: start a run for each enabled connection profile that is due. */
export function timerTickFunction(deps: SyncDependencies, schedule: string): TimerFunction {
  return {
    name: 'timerTick',
    trigger: { kind: 'timer', schedule },
    handler: async (_timer, context) => {
      const { started } = await runTimerTick(deps);
      if (started.length) context.log(`started runs: ${started.join(', ')}`);
    },
  };
}
