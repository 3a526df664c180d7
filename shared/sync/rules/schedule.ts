import type { Schedule } from '../../connections/profile.js';
import type { ConnectionState } from '../ports.js';

const HOUR = 3_600_000;

/**
 * Whether a profile's scheduled run is due, decided from stored state alone, so a missed tick or a
 * restarted host neither loses nor doubles a run. Pure.
 */
export function isDue(schedule: Schedule, state: ConnectionState, now: Date): boolean {
  if (state.resetRequestedAt) return true;
  const lastStart = state.lastRunStartedAt ? Date.parse(state.lastRunStartedAt) : undefined;
  switch (schedule.kind) {
    case 'off':
      return false;
    case 'hourly':
      return lastStart === undefined || now.getTime() - lastStart >= HOUR;
    case 'interval':
      return lastStart === undefined || now.getTime() - lastStart >= schedule.minutes * 60_000;
    case 'daily': {
      const slot = latestDailySlot(now, schedule.hour, schedule.timeZone);
      if (lastStart !== undefined && lastStart >= slot.getTime()) return false;
      // The reference product's rule: a manual sync in the 24 hours before the slot replaces it.
      const lastManual = state.lastManualRunAt ? Date.parse(state.lastManualRunAt) : undefined;
      return !(lastManual !== undefined && slot.getTime() - lastManual < 24 * HOUR);
    }
  }
}

/**
 * The daily slot a recent manual sync replaced, if it has not been reported yet: the timer records it
 * in the run list so an admin sees why no scheduled run happened.
 */
export function skippedDailySlot(schedule: Schedule, state: ConnectionState, now: Date): string | undefined {
  if (schedule.kind !== 'daily' || state.resetRequestedAt) return undefined;
  const slot = latestDailySlot(now, schedule.hour, schedule.timeZone);
  const lastStart = state.lastRunStartedAt ? Date.parse(state.lastRunStartedAt) : undefined;
  const lastManual = state.lastManualRunAt ? Date.parse(state.lastManualRunAt) : undefined;
  if (lastManual === undefined || (lastStart !== undefined && lastStart >= slot.getTime())) return undefined;
  const replaced = slot.getTime() - lastManual < 24 * HOUR && slot.getTime() >= lastManual;
  return replaced && state.lastSkippedSlot !== slot.toISOString() ? slot.toISOString() : undefined;
}

/**
 * When the scheduler will next find the profile due (on its first tick from then): `now` when it is due
 * already, undefined when it never will (`off`, no reset asked). Found by asking isDue itself at the only
 * instants its answer can change — the end of an interval, a daily slot — so the two cannot disagree.
 * The state is taken as it is: a run that starts meanwhile (manual or not) moves it. Pure.
 */
export function nextRunAt(schedule: Schedule, state: ConnectionState, now: Date): Date | undefined {
  if (isDue(schedule, state, now)) return now;
  const lastStart = state.lastRunStartedAt ? Date.parse(state.lastRunStartedAt) : undefined;
  const after = (ms: number) => (lastStart === undefined ? [] : [new Date(lastStart + ms)]);
  const candidates =
    schedule.kind === 'off'
      ? []
      : schedule.kind === 'hourly'
        ? after(HOUR)
        : schedule.kind === 'interval'
          ? after(schedule.minutes * 60_000)
          : // A manual sync can replace the next slot; on a 23-hour (DST) day, the one after too.
            dailySlotsAfter(now, schedule.hour, schedule.timeZone, 3);
  return candidates.find((instant) => instant.getTime() > now.getTime() && isDue(schedule, state, instant));
}

/** The most recent moment, at or before `now`, when the wall clock in `timeZone` read `hour`:00. */
export function latestDailySlot(now: Date, hour: number, timeZone: string): Date {
  const local = wallClock(now, timeZone);
  let day = Date.UTC(local.year, local.month - 1, local.day);
  for (let back = 0; back < 3; back++, day -= 24 * HOUR) {
    const slot = instantOf(day + hour * HOUR, timeZone);
    if (slot.getTime() <= now.getTime()) return slot;
  }
  return instantOf(day + hour * HOUR, timeZone);
}

/** The next `count` moments after `now` when the wall clock in `timeZone` reads `hour`:00. */
function dailySlotsAfter(now: Date, hour: number, timeZone: string, count: number): Date[] {
  const local = wallClock(now, timeZone);
  const slots: Date[] = [];
  for (let day = Date.UTC(local.year, local.month - 1, local.day); slots.length < count; day += 24 * HOUR) {
    const slot = instantOf(day + hour * HOUR, timeZone);
    if (slot.getTime() > now.getTime()) slots.push(slot);
  }
  return slots;
}

/** The instant at which the wall clock in `timeZone` shows the given UTC-encoded local time. */
function instantOf(localAsUtc: number, timeZone: string): Date {
  let guess = localAsUtc;
  // Two corrections settle the offset, also across a DST change.
  for (let i = 0; i < 2; i++) {
    const shown = wallClock(new Date(guess), timeZone);
    const shownAsUtc = Date.UTC(shown.year, shown.month - 1, shown.day, shown.hour, shown.minute);
    guess += localAsUtc - shownAsUtc;
  }
  return new Date(guess);
}

function wallClock(instant: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  }).formatToParts(instant);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: part('year'), month: part('month'), day: part('day'), hour: part('hour'), minute: part('minute') };
}
