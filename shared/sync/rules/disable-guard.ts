import type { DisableGuard } from '../../connections/profile.js';
import type { HeldDisables } from '../run-model.js';

export interface GuardVerdict {
  /** True when the run must wait for an admin's confirmation before disabling anyone. */
  trips: boolean;
  /** The most users this run may disable without confirmation. */
  limit: number;
}

/**
 * The accidental-disable guard's decision: more than `maxCount` trips it, and so does more than both
 * `maxPercent` of the directory's enabled users (before the run) and `minCount` — a share alone is noise
 * in a small directory, and Entra counts deletions absolutely. An empty or truncated export looks like
 * "everyone left"; this is what stops it from disabling everyone.
 */
export function disableGuardVerdict(guard: DisableGuard, wouldDisable: number, enabledBefore: number): GuardVerdict {
  const share = Math.floor((enabledBefore * guard.maxPercent) / 100);
  const limit = Math.min(guard.maxCount, Math.max(guard.minCount, share));
  return { trips: wouldDisable > limit, limit };
}

/** How many of the held users a run lists by name (the rest are counted). */
export const HELD_SAMPLE_SIZE = 50;

/** The run's warning when the guard holds its disables (a dry run only says what a real run would do). */
export function heldWarning(held: HeldDisables, dryRun: boolean): string {
  const what = `disable ${held.count} of ${held.enabledBefore} enabled users, more than the disable guard allows (${held.limit})`;
  return dryRun
    ? `A real run would be held for confirmation: it would ${what}.`
    : `The run would ${what}; no one was disabled. Confirm the run to disable them, or fix the source and sync again.`;
}
