import { describe, expect, it } from 'vitest';
import { newDirectoryKey, parseProfile, type ConnectionProfile, type FieldProblem } from '../../shared/connections/profile.js';
import { AppError } from '../../shared/errors/app-error.js';

const minimal = { name: 'HR export', type: 'csv', source: { kind: 'blob', blobName: 'people.csv' } };

/** Runs `parseProfile` expecting it to throw profile-invalid, and returns the problems. */
function problemsOf(input: unknown): FieldProblem[] {
  let caught: unknown;
  try {
    parseProfile(input);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AppError);
  const error = caught as AppError;
  expect(error.code).toBe('profile-invalid');
  const problems = error.details?.problems as FieldProblem[];
  expect(error.message).toBe(`The connection profile is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  return problems;
}

const fieldsOf = (input: unknown) => problemsOf(input).map((problem) => problem.field);

describe('parseProfile', () => {
  it('accepts a minimal CSV profile and fills the defaults', () => {
    expect(parseProfile(minimal)).toEqual<ConnectionProfile>({
      name: 'HR export',
      type: 'csv',
      enabled: true,
      schedule: { kind: 'daily', hour: 2, timeZone: 'UTC' },
      disableGuard: { maxPercent: 10, maxCount: 500, minCount: 5 },
      source: { kind: 'blob', blobName: 'people.csv' },
      matchField: 'username',
      passwordColumn: 'password',
      columnMap: {},
      groups: { mode: 'off', keepLocalGroups: false },
    });
  });

  it('keeps what the admin wrote', () => {
    const full = {
      name: 'HR_feed-2.0',
      type: 'csv',
      enabled: false,
      schedule: { kind: 'daily', hour: 23, timeZone: 'Europe/London' },
      disableGuard: { maxPercent: 25, maxCount: 1000, minCount: 0 },
      source: { kind: 'https', url: 'https://hr.example.com/export/people.csv', username: 'sync', passwordSecret: 'HR_FEED_PASSWORD' },
      matchField: 'email',
      managerField: 'Line Manager',
      groupsColumn: 'Groups',
      groups: { mode: 'regex', pattern: '^Intranet-', keepLocalGroups: true },
      passwordColumn: 'Initial Password',
      defaultPasswordSecret: 'HR_DEFAULT_PASSWORD',
      columnMap: { 'Given Name': 'firstName', Dept: 'department' },
      delimiter: ';',
      encoding: 'windows-1252',
    };
    expect(parseProfile(full)).toEqual(full);
  });

  it('drops unknown properties', () => {
    expect(parseProfile({ ...minimal, password: 'hunter2' })).not.toHaveProperty('password');
  });

  it.each<[string, unknown]>([
    ['off', { kind: 'off' }],
    ['interval, shortest', { kind: 'interval', minutes: 5 }],
    ['interval, a week', { kind: 'interval', minutes: 10080 }],
    ['daily at midnight', { kind: 'daily', hour: 0, timeZone: 'America/New_York' }],
    ['daily, zone defaulted', { kind: 'daily', hour: 6 }],
  ])('accepts the schedule %s', (_name, schedule) => {
    const parsed = parseProfile({ ...minimal, schedule });
    expect(parsed.schedule).toEqual(
      (schedule as { kind: string }).kind === 'daily' ? { timeZone: 'UTC', ...(schedule as object) } : schedule,
    );
  });

  it.each<[string, unknown, string]>([
    ['interval too short', { kind: 'interval', minutes: 4 }, 'schedule.minutes'],
    ['interval over a week', { kind: 'interval', minutes: 10081 }, 'schedule.minutes'],
    ['interval not whole', { kind: 'interval', minutes: 7.5 }, 'schedule.minutes'],
    ['hour 24', { kind: 'daily', hour: 24 }, 'schedule.hour'],
    ['hour -1', { kind: 'daily', hour: -1 }, 'schedule.hour'],
    ['unknown time zone', { kind: 'daily', hour: 2, timeZone: 'Mars/Olympus_Mons' }, 'schedule.timeZone'],
    ['empty time zone', { kind: 'daily', hour: 2, timeZone: '' }, 'schedule.timeZone'],
    ['unknown kind', { kind: 'weekly' }, 'schedule.kind'],
  ])('rejects the schedule: %s', (_name, schedule, field) => {
    expect(fieldsOf({ ...minimal, schedule })).toEqual([field]);
  });

  it('explains an unknown time zone', () => {
    expect(problemsOf({ ...minimal, schedule: { kind: 'daily', hour: 2, timeZone: 'Europe/Atlantis' } })).toEqual([
      { field: 'schedule.timeZone', message: 'an IANA time zone such as Europe/London' },
    ]);
  });

  it('lists every invalid field at once', () => {
    const problems = problemsOf({
      name: '',
      type: 'csv',
      schedule: { kind: 'interval', minutes: 1 },
      source: { kind: 'https', url: 'not a url' },
      defaultPasswordSecret: 'hunter2 is my password',
    });
    expect(problems.map((p) => p.field).sort()).toEqual(['defaultPasswordSecret', 'name', 'schedule.minutes', 'source.url']);
    expect(problems.find((p) => p.field === 'defaultPasswordSecret')?.message).toBe(
      'name an app setting (letters, digits, underscores), not a secret value',
    );
    expect(problems.find((p) => p.field === 'name')?.message).toBe('1–64 letters, digits, spaces, dots, dashes or underscores');
  });

  it('never echoes a secret pasted where a setting name belongs', () => {
    try {
      parseProfile({ ...minimal, defaultPasswordSecret: 'Winter2026!', source: { kind: 'https', url: 'https://x.example', passwordSecret: 'p@ss w0rd' } });
      expect.unreachable();
    } catch (error) {
      const appError = error as AppError;
      expect(appError.code).toBe('profile-invalid');
      const text = appError.message + JSON.stringify(appError.details);
      expect(text).not.toContain('Winter2026!');
      expect(text).not.toContain('p@ss w0rd');
      expect((appError.details?.problems as FieldProblem[]).map((p) => p.field).sort()).toEqual([
        'defaultPasswordSecret',
        'source.passwordSecret',
      ]);
    }
  });

  it.each<[string, unknown, string[]]>([
    ['no name', { type: 'csv', source: minimal.source }, ['name']],
    ['name of 65 characters', { ...minimal, name: 'a'.repeat(65) }, ['name']],
    ['name starting with a space', { ...minimal, name: ' HR' }, ['name']],
    ['name with a slash', { ...minimal, name: 'HR/feed' }, ['name']],
    ['unknown type', { ...minimal, type: 'ldap' }, ['type']],
    ['no source', { name: 'HR', type: 'csv' }, ['source']],
    ['empty blob name', { ...minimal, source: { kind: 'blob', blobName: '' } }, ['source.blobName']],
    ['ftp url', { ...minimal, source: { kind: 'https', url: 'ftp://hr.example.com/people.csv' } }, ['source.url']],
    ['password secret with a dash', { ...minimal, source: { kind: 'https', url: 'https://x.example/a.csv', passwordSecret: 'HR-PASS' } }, ['source.passwordSecret']],
    ['match field with a space', { ...minimal, matchField: 'employee id' }, ['matchField']],
    ['column map to a bad field', { ...minimal, columnMap: { Dept: 'dept name' } }, ['columnMap.Dept']],
    ['unknown delimiter', { ...minimal, delimiter: ':' }, ['delimiter']],
    ['unknown encoding', { ...minimal, encoding: 'latin1' }, ['encoding']],
    ['enabled as a string', { ...minimal, enabled: 'yes' }, ['enabled']],
  ])('rejects %s', (_name, input, fields) => {
    expect(fieldsOf(input)).toEqual(fields);
  });

  it('accepts a plain http URL (only the runtime setting decides whether it may be read)', () => {
    expect(parseProfile({ ...minimal, source: { kind: 'https', url: 'http://localhost:8080/people.csv' } })).toHaveProperty('source', {
      kind: 'https',
      url: 'http://localhost:8080/people.csv',
    });
  });

  it.each([null, 'HR export', 42, []])('rejects %j as a whole', (input) => {
    expect(fieldsOf(input)).toEqual(['(profile)']);
  });
});

describe('newDirectoryKey', () => {
  it('is "dk" and 12 lowercase hex digits', () => {
    for (let i = 0; i < 50; i++) expect(newDirectoryKey()).toMatch(/^dk[0-9a-f]{12}$/);
  });

  it('is different every time', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => newDirectoryKey()));
    expect(keys.size).toBe(1000);
  });
});

describe('group settings', () => {
  const withGroups = (groups: unknown) => ({ ...minimal, groups });

  it.each([
    [{ mode: 'all' }, { mode: 'all', keepLocalGroups: false }],
    [{ mode: 'regex', pattern: '^Intranet-' }, { mode: 'regex', pattern: '^Intranet-', keepLocalGroups: false }],
    [{ mode: 'regex', pattern: '^(Sales|HR)-.*$', keepLocalGroups: true }, { mode: 'regex', pattern: '^(Sales|HR)-.*$', keepLocalGroups: true }],
  ])('accepts %j', (groups, expected) => {
    expect(parseProfile(withGroups(groups)).groups).toEqual(expected);
  });

  it.each([
    [{ mode: 'regex' }, 'a pattern is required when mode is "regex"'],
    [{ mode: 'regex', pattern: '(unclosed' }, 'the pattern does not compile'],
    [{ mode: 'regex', pattern: '(a+)+$' }, 'the pattern can backtrack catastrophically'],
    [{ mode: 'regex', pattern: '(x+x+)+y' }, 'the pattern can backtrack catastrophically'],
    [{ mode: 'sometimes' }, 'Invalid option'],
  ])('rejects %j', (groups, message) => {
    const problems = problemsOf(withGroups(groups));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.field).toMatch(/^groups/);
    expect(problems[0]!.message).toContain(message);
  });
});
