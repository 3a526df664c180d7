import type { DisableGuard } from '../connections/profile.js';

export interface GuardVerdict {
  /** True when the run must wait for an admin's confirmation before disabling anyone. */
  trips: boolean;
  /** The most users this run may disable without confirmation. */
  limit: number;
}

/**
 * The accidental-disable guard's decision: more than `maxPercent` of the directory's enabled users
 * (before the run), or more than `maxCount`, trips it. An empty or truncated export looks like
 * "everyone left"; this is what stops it from disabling everyone.
 */
export function disableGuardVerdict(guard: DisableGuard, wouldDisable: number, enabledBefore: number): GuardVerdict {
  const limit = Math.min(guard.maxCount, Math.floor((enabledBefore * guard.maxPercent) / 100));
  return { trips: wouldDisable > limit, limit };
}

/** How many of the held users a run lists by name (the rest are counted). */
export const HELD_SAMPLE_SIZE = 50;
