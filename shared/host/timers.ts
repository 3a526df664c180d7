import type { Timer } from '@azure/functions';
import type { TimerFunction } from '../app/registry.js';
import { errorMessage, type Invocations, type Outcome } from './invocations.js';
import { parseSchedule, tryNextOccurrence, type Schedule } from './ncrontab.js';

/**
 * The timer triggers: each fires on its NCRONTAB schedule, one run of a timer at a time, with the Timer
 * object the Functions host passes; fire() runs them now, schedule or not.
 */
export class Timers {
  private readonly lastRun = new Map<string, Date>();
  private readonly handles = new Set<NodeJS.Timeout>();

  constructor(
    private readonly definitions: TimerFunction[],
    private readonly invocations: Invocations,
    private readonly emit: (line: string) => void,
    private readonly signal: AbortSignal,
  ) {}

  /** Every schedule, parsed: throws for one the local host cannot run, so start() fails before any side effect. */
  schedules(): { def: TimerFunction; schedule: Schedule }[] {
    return this.definitions.map((def) => ({ def, schedule: parseSchedule(def.name, def.trigger.schedule) }));
  }

  start(schedules: { def: TimerFunction; schedule: Schedule }[]): void {
    for (const { def, schedule } of schedules) this.scheduleNext(def, schedule);
  }

  stop(): void {
    for (const handle of this.handles) clearTimeout(handle);
    this.handles.clear();
  }

  /** Runs the timer function(s) once now; rejects if a handler throws. */
  async fire(name?: string): Promise<void> {
    const timers = this.definitions.filter((def) => name === undefined || def.name === name);
    if (name !== undefined && timers.length === 0) throw new Error(`LocalHost: no timer function named "${name}"`);
    await Promise.all(
      timers.map(async (def) => {
        const outcome = await this.invocations.track(this.run(def, tryNextOccurrence(def.trigger.schedule)));
        if (!outcome.ok) throw outcome.error;
      }),
    );
  }

  private scheduleNext(def: TimerFunction, schedule: Schedule): void {
    const next = schedule.next(new Date());
    const handle = setTimeout(() => {
      this.handles.delete(handle);
      // The next occurrence is computed after this run ends, so runs of one timer never overlap.
      void this.invocations.track(this.run(def, schedule.next(new Date()))).then(() => {
        if (!this.signal.aborted) this.scheduleNext(def, schedule);
      });
    }, next.getTime() - Date.now());
    this.handles.add(handle);
  }

  private async run(def: TimerFunction, next: Date | undefined): Promise<Outcome<void>> {
    const now = new Date();
    const timer: Timer = {
      isPastDue: false,
      schedule: { adjustForDST: true },
      scheduleStatus: {
        last: (this.lastRun.get(def.name) ?? now).toISOString(),
        next: (next ?? now).toISOString(),
        lastUpdated: now.toISOString(),
      },
    };
    this.lastRun.set(def.name, now);
    const outcome = await this.invocations.invoke(def.name, undefined, (context) => def.handler(timer, context));
    this.emit(
      outcome.ok
        ? `${def.name} succeeded in ${outcome.ms} ms`
        : `${def.name} failed in ${outcome.ms} ms: ${errorMessage(outcome.error)}`,
    );
    return outcome;
  }
}
