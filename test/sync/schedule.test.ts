import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../shared/connections/profile.js';
import { isDue, latestDailySlot, nextRunAt } from '../../shared/sync/rules/schedule.js';
import type { ConnectionState } from '../../shared/sync/ports.js';

const at = (iso: string) => new Date(iso);
const slot = (now: string, hour: number, timeZone: string) => latestDailySlot(at(now), hour, timeZone).toISOString();

describe('isDue: off', () => {
  const off: Schedule = { kind: 'off' };
  it.each<[string, ConnectionState]>([
    ['never run', {}],
    ['run long ago', { lastRunStartedAt: '2020-01-01T00:00:00.000Z' }],
    ['manual run long ago', { lastManualRunAt: '2020-01-01T00:00:00.000Z' }],
  ])('is never due (%s)', (_name, state) => {
    expect(isDue(off, state, at('2026-11-21T10:00:00.000Z'))).toBe(false);
  });

  it('is due when a reset was requested', () => {
    expect(isDue(off, { resetRequestedAt: '2026-11-21T09:59:00.000Z' }, at('2026-11-21T10:00:00.000Z'))).toBe(true);
  });
});

describe('isDue: interval', () => {
  const every30: Schedule = { kind: 'interval', minutes: 30 };
  const now = at('2026-11-21T10:00:00.000Z');

  it.each<[string, ConnectionState, boolean]>([
    ['first run (never started)', {}, true],
    ['first run, only a manual run recorded', { lastManualRunAt: '2026-11-21T09:59:00.000Z' }, true],
    ['started 1 minute ago', { lastRunStartedAt: '2026-11-21T09:59:00.000Z' }, false],
    ['started 29:59.999 ago', { lastRunStartedAt: '2026-11-21T09:30:00.001Z' }, false],
    ['started exactly 30 minutes ago', { lastRunStartedAt: '2026-11-21T09:30:00.000Z' }, true],
    ['started 31 minutes ago', { lastRunStartedAt: '2026-11-21T09:29:00.000Z' }, true],
    ['started days ago', { lastRunStartedAt: '2026-11-18T10:00:00.000Z' }, true],
    ['started 1 minute ago but reset requested', { lastRunStartedAt: '2026-11-21T09:59:00.000Z', resetRequestedAt: '2026-11-21T09:59:30.000Z' }, true],
  ])('%s → %s', (_name, state, due) => {
    expect(isDue(every30, state, now)).toBe(due);
  });

  it('uses the schedule minutes', () => {
    const state = { lastRunStartedAt: '2026-11-21T09:00:00.000Z' };
    expect(isDue({ kind: 'interval', minutes: 60 }, state, now)).toBe(true);
    expect(isDue({ kind: 'interval', minutes: 61 }, state, now)).toBe(false);
    expect(isDue({ kind: 'interval', minutes: 7 * 24 * 60 }, state, now)).toBe(false);
  });
});

describe('isDue: hourly', () => {
  const hourly: Schedule = { kind: 'hourly' };
  it.each([
    [undefined, true],
    ['2026-11-21T09:00:00.000Z', true],
    ['2026-11-21T09:00:00.001Z', false],
  ])('last run started at %s → due %s', (lastRunStartedAt, due) => {
    expect(isDue(hourly, lastRunStartedAt ? { lastRunStartedAt } : {}, new Date('2026-11-21T10:00:00.000Z'))).toBe(due);
  });
});

describe('isDue: daily', () => {
  // Daily at 02:00 UTC: on 2026-11-21 the slot is 02:00Z.
  const daily: Schedule = { kind: 'daily', hour: 2, timeZone: 'UTC' };

  it.each<[string, string, ConnectionState, boolean]>([
    ['never run, before the hour: the previous day’s slot is still owed', '2026-11-21T01:59:00.000Z', {}, true],
    ['before the hour, ran after yesterday’s slot', '2026-11-21T01:59:00.000Z', { lastRunStartedAt: '2026-11-20T02:00:00.000Z' }, false],
    ['after the hour, last ran yesterday', '2026-11-21T02:00:00.000Z', { lastRunStartedAt: '2026-11-20T02:00:00.000Z' }, true],
    ['well after the hour, last ran yesterday', '2026-11-21T23:00:00.000Z', { lastRunStartedAt: '2026-11-20T02:01:00.000Z' }, true],
    ['after the hour, already ran exactly at the slot', '2026-11-21T02:05:00.000Z', { lastRunStartedAt: '2026-11-21T02:00:00.000Z' }, false],
    ['after the hour, already ran since the slot', '2026-11-21T09:00:00.000Z', { lastRunStartedAt: '2026-11-21T02:01:00.000Z' }, false],
    ['after the hour, last run 1 ms before the slot', '2026-11-21T02:01:00.000Z', { lastRunStartedAt: '2026-11-21T01:59:59.999Z' }, true],
    [
      'reset requested overrides a run since the slot',
      '2026-11-21T09:00:00.000Z',
      { lastRunStartedAt: '2026-11-21T08:59:00.000Z', resetRequestedAt: '2026-11-21T08:59:30.000Z' },
      true,
    ],
    [
      'reset requested overrides a recent manual run',
      '2026-11-21T02:00:00.000Z',
      { lastRunStartedAt: '2026-11-21T01:00:00.000Z', lastManualRunAt: '2026-11-21T01:00:00.000Z', resetRequestedAt: '2026-11-21T01:30:00.000Z' },
      true,
    ],
    [
      'manual run 1 hour before the slot replaces it',
      '2026-11-21T02:00:00.000Z',
      { lastRunStartedAt: '2026-11-21T01:00:00.000Z', lastManualRunAt: '2026-11-21T01:00:00.000Z' },
      false,
    ],
    [
      'manual run 23 h 59 m before the slot replaces it',
      '2026-11-21T03:00:00.000Z',
      { lastRunStartedAt: '2026-11-20T02:01:00.000Z', lastManualRunAt: '2026-11-20T02:01:00.000Z' },
      false,
    ],
    [
      'manual run exactly 24 h before the slot does not',
      '2026-11-21T03:00:00.000Z',
      { lastRunStartedAt: '2026-11-20T02:00:00.000Z', lastManualRunAt: '2026-11-20T02:00:00.000Z' },
      true,
    ],
    [
      'manual run more than 24 h before the slot does not',
      '2026-11-21T03:00:00.000Z',
      { lastRunStartedAt: '2026-11-20T01:00:00.000Z', lastManualRunAt: '2026-11-20T01:00:00.000Z' },
      true,
    ],
    [
      'manual run within 24 h but the scheduled run is older still',
      '2026-11-21T02:30:00.000Z',
      { lastRunStartedAt: '2026-11-19T02:00:00.000Z', lastManualRunAt: '2026-11-20T12:00:00.000Z' },
      false,
    ],
  ])('%s → %s', (_name, now, state, due) => {
    expect(isDue(daily, state, at(now))).toBe(due);
  });

  it('works in the profile’s time zone (02:00 in New York is 07:00Z in winter)', () => {
    const ny: Schedule = { kind: 'daily', hour: 2, timeZone: 'America/New_York' };
    const state = { lastRunStartedAt: '2026-11-20T07:00:00.000Z' };
    expect(isDue(ny, state, at('2026-11-21T06:59:00.000Z'))).toBe(false);
    expect(isDue(ny, state, at('2026-11-21T07:00:00.000Z'))).toBe(true);
  });

  /** Ticks every 15 minutes, starting a run whenever due: the instants runs start at. */
  function simulate(schedule: Schedule, from: string, to: string, lastRunStartedAt: string): string[] {
    const runs: string[] = [];
    let state: ConnectionState = { lastRunStartedAt };
    for (let t = Date.parse(from); t < Date.parse(to); t += 15 * 60_000) {
      const now = new Date(t);
      if (isDue(schedule, state, now)) {
        runs.push(now.toISOString());
        state = { lastRunStartedAt: now.toISOString() };
      }
    }
    return runs;
  }

  it.each<[string, number, string, string, string, string[]]>([
    ['UTC', 2, '2026-11-20T12:00:00Z', '2026-11-22T12:00:00Z', '2026-11-20T02:00:00Z', ['2026-11-21T02:00:00.000Z', '2026-11-22T02:00:00.000Z']],
    ['Europe/London', 1, '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z', '2026-03-28T01:00:00Z', ['2026-03-29T01:00:00.000Z', '2026-03-30T00:00:00.000Z']],
    ['Europe/London', 2, '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z', '2026-03-28T02:00:00Z', ['2026-03-29T01:00:00.000Z', '2026-03-30T01:00:00.000Z']],
    ['Europe/London', 1, '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z', '2026-10-24T00:00:00Z', ['2026-10-25T01:00:00.000Z', '2026-10-26T01:00:00.000Z']],
    ['America/New_York', 1, '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z', '2026-10-31T05:00:00Z', ['2026-11-01T05:00:00.000Z', '2026-11-02T06:00:00.000Z']],
    ['America/New_York', 3, '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z', '2026-03-07T08:00:00Z', ['2026-03-08T07:00:00.000Z', '2026-03-09T07:00:00.000Z']],
  ])('runs exactly once a day across a DST change: %s at %i:00', (timeZone, hour, from, to, last, runs) => {
    expect(simulate({ kind: 'daily', hour, timeZone }, from, to, last)).toEqual(runs);
  });
});

describe('latestDailySlot', () => {
  it.each<[string, number, string]>([
    ['2026-11-21T10:00:00.000Z', 10, '2026-11-21T10:00:00.000Z'],
    ['2026-11-21T10:00:00.000Z', 9, '2026-11-21T09:00:00.000Z'],
    ['2026-11-21T10:00:00.000Z', 11, '2026-11-20T11:00:00.000Z'],
    ['2026-11-21T09:59:59.999Z', 10, '2026-11-20T10:00:00.000Z'],
    ['2026-11-21T10:00:00.000Z', 0, '2026-11-21T00:00:00.000Z'],
    ['2026-11-21T10:00:00.000Z', 23, '2026-11-20T23:00:00.000Z'],
    ['2026-01-01T00:30:00.000Z', 1, '2025-12-31T01:00:00.000Z'],
    ['2026-03-01T00:30:00.000Z', 1, '2026-02-28T01:00:00.000Z'],
    ['2028-03-01T00:30:00.000Z', 1, '2028-02-29T01:00:00.000Z'],
  ])('UTC: at %s, hour %i → %s', (now, hour, expected) => {
    expect(slot(now, hour, 'UTC')).toBe(expected);
  });

  it.each<[string, number, string]>([
    // Winter (GMT = UTC) and summer (BST = UTC+1).
    ['2026-01-15T12:00:00.000Z', 2, '2026-01-15T02:00:00.000Z'],
    ['2026-07-15T12:00:00.000Z', 2, '2026-07-15T01:00:00.000Z'],
    ['2026-07-15T00:30:00.000Z', 1, '2026-07-15T00:00:00.000Z'],
    // 2026-03-29: at 01:00Z the clocks jump from 01:00 GMT to 02:00 BST, so 01:00 local never happens.
    ['2026-03-29T12:00:00.000Z', 0, '2026-03-29T00:00:00.000Z'],
    ['2026-03-29T12:00:00.000Z', 1, '2026-03-29T01:00:00.000Z'],
    ['2026-03-29T12:00:00.000Z', 2, '2026-03-29T01:00:00.000Z'],
    ['2026-03-29T12:00:00.000Z', 3, '2026-03-29T02:00:00.000Z'],
    ['2026-03-29T01:00:00.000Z', 2, '2026-03-29T01:00:00.000Z'],
    ['2026-03-29T00:59:00.000Z', 2, '2026-03-28T02:00:00.000Z'],
    ['2026-03-29T00:30:00.000Z', 1, '2026-03-28T01:00:00.000Z'],
    ['2026-03-28T12:00:00.000Z', 1, '2026-03-28T01:00:00.000Z'],
    ['2026-03-30T12:00:00.000Z', 1, '2026-03-30T00:00:00.000Z'],
    // 2026-10-25: at 01:00Z the clocks go back from 02:00 BST to 01:00 GMT, so 01:00 local happens twice
    // (00:00Z and 01:00Z); the slot is the later one, so the day still has one slot.
    ['2026-10-25T12:00:00.000Z', 1, '2026-10-25T01:00:00.000Z'],
    ['2026-10-25T01:30:00.000Z', 1, '2026-10-25T01:00:00.000Z'],
    ['2026-10-25T00:30:00.000Z', 1, '2026-10-24T00:00:00.000Z'],
    ['2026-10-25T12:00:00.000Z', 2, '2026-10-25T02:00:00.000Z'],
    ['2026-10-25T12:00:00.000Z', 0, '2026-10-24T23:00:00.000Z'],
    ['2026-10-26T12:00:00.000Z', 1, '2026-10-26T01:00:00.000Z'],
  ])('Europe/London: at %s, hour %i → %s', (now, hour, expected) => {
    expect(slot(now, hour, 'Europe/London')).toBe(expected);
  });

  it.each<[string, number, string]>([
    ['2026-01-15T12:00:00.000Z', 2, '2026-01-15T07:00:00.000Z'],
    ['2026-07-15T12:00:00.000Z', 2, '2026-07-15T06:00:00.000Z'],
    // Late evening UTC is still the previous local day's slot until local midnight.
    ['2026-07-15T03:00:00.000Z', 22, '2026-07-15T02:00:00.000Z'],
    ['2026-07-15T01:59:00.000Z', 22, '2026-07-14T02:00:00.000Z'],
    // 2026-03-08: at 07:00Z the clocks jump from 02:00 EST to 03:00 EDT.
    ['2026-03-08T12:00:00.000Z', 1, '2026-03-08T06:00:00.000Z'],
    ['2026-03-08T12:00:00.000Z', 3, '2026-03-08T07:00:00.000Z'],
    ['2026-03-08T12:00:00.000Z', 4, '2026-03-08T08:00:00.000Z'],
    // 2026-11-01: at 06:00Z the clocks go back from 02:00 EDT to 01:00 EST: 01:00 local is 05:00Z and 06:00Z.
    ['2026-11-01T12:00:00.000Z', 1, '2026-11-01T05:00:00.000Z'],
    ['2026-11-01T05:30:00.000Z', 1, '2026-11-01T05:00:00.000Z'],
    ['2026-11-01T04:59:00.000Z', 1, '2026-10-31T05:00:00.000Z'],
    ['2026-11-01T12:00:00.000Z', 2, '2026-11-01T07:00:00.000Z'],
    ['2026-11-01T12:00:00.000Z', 0, '2026-11-01T04:00:00.000Z'],
    ['2026-11-02T12:00:00.000Z', 1, '2026-11-02T06:00:00.000Z'],
  ])('America/New_York: at %s, hour %i → %s', (now, hour, expected) => {
    expect(slot(now, hour, 'America/New_York')).toBe(expected);
  });

  it('maps the skipped 02:00 in New York (2026-03-08) to an instant between 01:00 EST and 03:00 EDT', () => {
    // 02:00 local does not exist that day; any instant in [06:00Z, 07:00Z] keeps one run for the day.
    const instant = latestDailySlot(at('2026-03-08T12:00:00.000Z'), 2, 'America/New_York').getTime();
    expect(instant).toBeGreaterThanOrEqual(Date.parse('2026-03-08T06:00:00.000Z'));
    expect(instant).toBeLessThanOrEqual(Date.parse('2026-03-08T07:00:00.000Z'));
  });

  it('handles half-hour zones (Asia/Kolkata is UTC+5:30)', () => {
    expect(slot('2026-11-21T10:00:00.000Z', 9, 'Asia/Kolkata')).toBe('2026-11-21T03:30:00.000Z');
    expect(slot('2026-11-21T03:29:00.000Z', 9, 'Asia/Kolkata')).toBe('2026-11-20T03:30:00.000Z');
  });

  it('is never after now and at most a day and an hour before it, for every hour around both London changes', () => {
    for (const day of ['2026-03-28T12:00:00Z', '2026-10-24T12:00:00Z']) {
      for (let t = Date.parse(day); t < Date.parse(day) + 2 * 86_400_000; t += 30 * 60_000) {
        for (let hour = 0; hour < 24; hour++) {
          const s = latestDailySlot(new Date(t), hour, 'Europe/London').getTime();
          expect(s).toBeLessThanOrEqual(t);
          expect(t - s).toBeLessThan(25 * 3_600_000);
        }
      }
    }
  });
});

describe('nextRunAt: when the scheduler will next find the profile due', () => {
  const now = '2026-11-21T10:00:00.000Z';
  const next = (schedule: Schedule, state: ConnectionState, when = now) => nextRunAt(schedule, state, at(when))?.toISOString();
  const dailyUtc: Schedule = { kind: 'daily', hour: 2, timeZone: 'UTC' };
  const berlin9: Schedule = { kind: 'daily', hour: 9, timeZone: 'Europe/Berlin' };

  it.each<[string, Schedule, ConnectionState, string, string | undefined]>([
    ['off: never', { kind: 'off' }, { lastRunStartedAt: '2026-11-20T10:00:00.000Z' }, now, undefined],
    ['off, reset asked: now', { kind: 'off' }, { resetRequestedAt: '2026-11-21T09:59:00.000Z' }, now, now],
    ['interval, never run: now', { kind: 'interval', minutes: 30 }, {}, now, now],
    ['interval: the last start plus the interval', { kind: 'interval', minutes: 30 }, { lastRunStartedAt: '2026-11-21T09:50:00.000Z' }, now, '2026-11-21T10:20:00.000Z'],
    ['interval, overdue (a run was active): now', { kind: 'interval', minutes: 30 }, { lastRunStartedAt: '2026-11-21T08:00:00.000Z' }, now, now],
    ['interval, reset asked: now', { kind: 'interval', minutes: 30 }, { lastRunStartedAt: '2026-11-21T09:59:00.000Z', resetRequestedAt: '2026-11-21T09:59:30.000Z' }, now, now],
    ['hourly', { kind: 'hourly' }, { lastRunStartedAt: '2026-11-21T09:30:00.000Z' }, now, '2026-11-21T10:30:00.000Z'],
    ['daily, ran at today\'s slot: tomorrow\'s', dailyUtc, { lastRunStartedAt: '2026-11-21T02:01:00.000Z' }, now, '2026-11-22T02:00:00.000Z'],
    ['daily, before the hour, ran after yesterday\'s slot: today\'s', dailyUtc, { lastRunStartedAt: '2026-11-20T02:00:00.000Z' }, '2026-11-21T01:59:00.000Z', '2026-11-21T02:00:00.000Z'],
    ['daily, today\'s slot still owed: now', dailyUtc, { lastRunStartedAt: '2026-11-20T02:00:00.000Z' }, now, now],
    [
      'daily, a manual sync this evening replaces tomorrow\'s slot: the one after',
      dailyUtc,
      { lastRunStartedAt: '2026-11-21T20:00:00.000Z', lastManualRunAt: '2026-11-21T20:00:00.000Z' },
      '2026-11-21T21:00:00.000Z',
      '2026-11-23T02:00:00.000Z',
    ],
    ['daily, reset asked after a manual sync: now', dailyUtc, { lastRunStartedAt: '2026-11-21T09:00:00.000Z', lastManualRunAt: '2026-11-21T09:00:00.000Z', resetRequestedAt: '2026-11-21T09:30:00.000Z' }, now, now],
    // 09:00 in Berlin is 07:00Z in summer time, 08:00Z in winter time.
    ['daily across the autumn DST change', berlin9, { lastRunStartedAt: '2026-10-24T07:00:00.000Z' }, '2026-10-24T12:00:00.000Z', '2026-10-25T08:00:00.000Z'],
    ['daily across the spring DST change', berlin9, { lastRunStartedAt: '2026-03-28T08:00:00.000Z' }, '2026-03-28T12:00:00.000Z', '2026-03-29T07:00:00.000Z'],
    [
      'daily, a manual sync 30 min before a slot on the eve of a 23-hour day replaces two slots',
      berlin9,
      { lastRunStartedAt: '2026-03-28T07:30:00.000Z', lastManualRunAt: '2026-03-28T07:30:00.000Z' },
      '2026-03-28T07:45:00.000Z',
      '2026-03-30T07:00:00.000Z',
    ],
  ])('%s', (_name, schedule, state, when, expected) => {
    expect(next(schedule, state, when)).toBe(expected);
  });

  it('agrees with isDue: due at the instant it names, not due a moment before', () => {
    const instant = fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') });
    const schedule = fc.oneof(
      fc.constant<Schedule>({ kind: 'hourly' }),
      fc.integer({ min: 5, max: 3000 }).map((minutes): Schedule => ({ kind: 'interval', minutes })),
      fc.record({ hour: fc.integer({ min: 0, max: 23 }), timeZone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe') }).map((daily): Schedule => ({ kind: 'daily', ...daily })),
    );
    fc.assert(
      fc.property(schedule, instant, fc.integer({ min: 0, max: 3 * 86_400_000 }), fc.option(fc.integer({ min: 0, max: 86_400_000 })), (plan, nowMs, sinceStart, manualBefore) => {
        const lastRunStartedAt = new Date(nowMs - sinceStart).toISOString();
        const state: ConnectionState = { lastRunStartedAt, ...(manualBefore === null ? {} : { lastManualRunAt: new Date(nowMs - sinceStart - manualBefore).toISOString() }) };
        const found = nextRunAt(plan, state, new Date(nowMs));
        expect(found).toBeDefined();
        expect(isDue(plan, state, found!)).toBe(true);
        if (found!.getTime() > nowMs) expect(isDue(plan, state, new Date(found!.getTime() - 1))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
