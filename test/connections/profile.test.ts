import { describe, expect, it } from 'vitest';
import { newDirectoryKey, parseProfile, readStoredProfile, scheduleOf, type ConnectionProfile, type FieldProblem } from '../../shared/connections/profile.js';
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

  it('refuses unknown keys, nested ones included, each on its own with the nearest known key', () => {
    const problems = problemsOf({
      ...minimal,
      colummMap: { Dept: 'department' },
      disableGaurd: { maxPercent: 50 },
      disableGuard: { maxPercnt: 50 },
      schedule: { kind: 'daily', hour: 2, timezone: 'Europe/London' },
      source: { kind: 'https', url: 'https://hr.example.com/people.csv', passwordSecrt: 'HR_PASSWORD' },
      groups: { mode: 'all', keepLocalGroup: true },
      password: 'hunter2',
    });
    expect(problems.sort((a, b) => a.field.localeCompare(b.field))).toEqual([
      { field: 'colummMap', message: 'unknown key (did you mean columnMap?)' },
      { field: 'disableGaurd', message: 'unknown key (did you mean disableGuard?)' },
      { field: 'disableGuard.maxPercnt', message: 'unknown key (did you mean maxPercent?)' },
      { field: 'groups.keepLocalGroup', message: 'unknown key (did you mean keepLocalGroups?)' },
      { field: 'password', message: 'unknown key' },
      { field: 'schedule.timezone', message: 'unknown key (did you mean timeZone?)' },
      { field: 'source.passwordSecrt', message: 'unknown key (did you mean passwordSecret?)' },
    ]);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it.each<[string, unknown, string[]]>([
    ['entra', { name: 'E', type: 'entra', tenantId: 'contoso.com', clientId: '00000000-0000-0000-0000-000000000000', credential: { kind: 'secret', secretName: 'S', secretValue: 'x' }, tenantID: 'x' }, ['credential.secretValue', 'tenantID']],
    ['okta', { name: 'O', type: 'okta', orgUrl: 'https://example.okta.com', credential: { kind: 'token', tokenSecret: 'T' }, selectedGroup: ['g'] }, ['selectedGroup']],
  ])('refuses unknown keys of an %s profile', (_type, input, fields) => {
    expect(fieldsOf(input).sort()).toEqual(fields);
  });

  it('still reports a wrong discriminator as one problem, not as unknown keys', () => {
    expect(fieldsOf({ ...minimal, source: { kind: 'ftp', host: 'x' } })).toEqual(['source.kind']);
    expect(fieldsOf({ ...minimal, type: 'ldap', server: 'x' })).toEqual(['type']);
  });

  it.each<[string, unknown]>([
    ['off', { kind: 'off' }],
    ['interval, shortest', { kind: 'interval', minutes: 5 }],
    ['interval, a week', { kind: 'interval', minutes: 10080 }],
    ['daily at midnight', { kind: 'daily', hour: 0, timeZone: 'America/New_York' }],
    ['daily, zone defaulted', { kind: 'daily', hour: 6 }],
  ])('accepts the schedule %s', (_name, schedule) => {
    const parsed = parseProfile({ ...minimal, schedule });
    expect(scheduleOf(parsed)).toEqual(
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

  it.each<[string, unknown, string]>([
    ['a CSV URL', { ...minimal, source: { kind: 'https', url: 'https://sync:s3cret@hr.example.com/people.csv' } }, 'source.url'],
    ['a CSV URL with a username only', { ...minimal, source: { kind: 'https', url: 'https://s3cret@hr.example.com/people.csv' } }, 'source.url'],
    ['an Okta org URL', { name: 'O', type: 'okta', orgUrl: 'https://admin:s3cret@example.okta.com', credential: { kind: 'token', tokenSecret: 'T' } }, 'orgUrl'],
    ['a Graph base URL', { name: 'E', type: 'entra', tenantId: 'contoso.com', clientId: '00000000-0000-0000-0000-000000000000', credential: { kind: 'secret', secretName: 'S' }, graphBaseUrl: 'https://app:s3cret@graph.example' }, 'graphBaseUrl'],
    ['an authority host', { name: 'E', type: 'entra', tenantId: 'contoso.com', clientId: '00000000-0000-0000-0000-000000000000', credential: { kind: 'secret', secretName: 'S' }, authorityHost: 'https://app:s3cret@login.example' }, 'authorityHost'],
  ])('refuses credentials in %s, naming the field and never the value', (_name, input, field) => {
    const problems = problemsOf(input);
    expect(problems).toEqual([{ field, message: expect.stringMatching(/^the URL must not contain a username or password; /) }]);
    expect(JSON.stringify(problems)).not.toContain('s3cret');
  });

  it('tells where the CSV credentials go instead', () => {
    expect(problemsOf({ ...minimal, source: { kind: 'https', url: 'https://u:p@hr.example.com/x.csv' } })[0]?.message).toBe(
      'the URL must not contain a username or password; put the username in source.username and the password in an app setting named by source.passwordSecret',
    );
  });

  it.each([null, 'HR export', 42, []])('rejects %j as a whole', (input) => {
    expect(fieldsOf(input)).toEqual(['(profile)']);
  });
});

describe('readStoredProfile', () => {
  const entra = {
    name: 'Contoso',
    type: 'entra',
    tenantId: '00000000-0000-0000-0000-000000000001',
    clientId: '00000000-0000-0000-0000-000000000002',
    credential: { kind: 'certificate', certificateSecret: 'CONTOSO_CERT' },
    selectedGroups: ['g1'],
    attributeMap: { department: 'department' },
    groups: { mode: 'regex', pattern: '(?i)^intranet-' },
    cloud: 'usgov',
    graphBaseUrl: 'https://graph.example/v1.0',
    authorityHost: 'https://login.example',
    schedule: { kind: 'interval', minutes: 30 },
  };
  const okta = {
    name: 'Okta',
    type: 'okta',
    orgUrl: 'https://example.okta.com',
    credential: { kind: 'private-key', clientId: 'svc', privateKeySecret: 'OKTA_KEY', keyId: 'k1' },
    attributeMap: { department: 'department' },
    disableGuard: { maxPercent: 100, maxCount: 0 },
  };
  const https = { ...minimal, source: { kind: 'https', url: 'https://hr.example.com/people.csv', username: 'sync', passwordSecret: 'HR_PASSWORD' } };

  it.each([
    ['a minimal CSV profile', minimal],
    ['a remote CSV profile', https],
    ['an Entra profile', entra],
    ['an Okta profile', okta],
  ])('reads back %s exactly as the current code stores it (defaults included), with no problems', (_name, input) => {
    const stored = parseProfile(input);
    expect(readStoredProfile(JSON.parse(JSON.stringify(stored)))).toStrictEqual({ profile: stored, problems: [] });
  });

  it('drops keys an older version stored or a newer one added, as reads always did', () => {
    const stored = { ...JSON.parse(JSON.stringify(parseProfile(https))), legacy: true, source: { ...https.source, proxy: 'x' } };
    expect(readStoredProfile(stored)).toStrictEqual({ profile: parseProfile(https), problems: [] });
  });

  it('reads a URL saved with credentials without them, reporting the field', () => {
    const stored = { ...JSON.parse(JSON.stringify(parseProfile(https))), source: { ...https.source, url: 'https://sync:s3cret@hr.example.com/people.csv' } };
    const read = readStoredProfile(stored);
    expect(read.profile).toStrictEqual(parseProfile(https));
    expect(read.problems).toEqual([{ field: 'source.url', message: expect.stringMatching(/^the URL must not contain a username or password/) }]);
    expect(JSON.stringify(read)).not.toContain('s3cret');
  });

  it('reads an Okta org URL saved with credentials without them', () => {
    const read = readStoredProfile({ ...JSON.parse(JSON.stringify(parseProfile(okta))), orgUrl: 'https://admin:s3cret@example.okta.com' });
    expect(read.profile).toMatchObject({ orgUrl: 'https://example.okta.com/' });
    expect(read.problems.map((p) => p.field)).toEqual(['orgUrl']);
    expect(JSON.stringify(read)).not.toContain('s3cret');
  });

  it('reads a pattern saved when JavaScript syntax was allowed, reporting that RE2 cannot run it', () => {
    const saved = JSON.parse(JSON.stringify(parseProfile(entra)));
    const read = readStoredProfile({ ...saved, groups: { ...saved.groups, pattern: '^(?!Test-)' } });
    expect(read.profile.groups).toMatchObject({ mode: 'regex', pattern: '^(?!Test-)' });
    expect(read.problems).toEqual([{ field: 'groups.pattern', message: expect.stringContaining('look-around ((?!…)) is not supported') }]);
  });

  it('throws profile-invalid for a profile of the wrong shape (a row edited by hand)', () => {
    expect(() => readStoredProfile({ ...minimal, schedule: { kind: 'weekly' } })).toThrow(
      expect.objectContaining({ code: 'profile-invalid', message: expect.stringMatching(/^The stored connection profile is invalid: schedule\.kind: /) }),
    );
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
    [{ mode: 'regex', pattern: '(?i)^intranet-' }, { mode: 'regex', pattern: '(?i)^intranet-', keepLocalGroups: false }],
  ])('accepts %j', (groups, expected) => {
    expect(parseProfile(withGroups(groups)).groups).toEqual(expected);
  });

  // Catastrophic for a backtracking engine, plain for RE2 (linear time): nothing to refuse any more.
  it.each(['(a|a)*$', '(a|aa)+$', '^(a|ab|b)*c$', '(a+)+$', '(x+x+)+y'])('accepts %s, which RE2 matches in linear time', (pattern) => {
    expect(parseProfile(withGroups({ mode: 'regex', pattern })).groups).toMatchObject({ pattern });
  });

  it.each([
    [{ mode: 'regex' }, 'a pattern is required when mode is "regex"'],
    [{ mode: 'regex', pattern: '(unclosed' }, 'the pattern does not compile: missing closing ) at `(unclosed`; group patterns use RE2 syntax (linear time) — see README'],
    [{ mode: 'regex', pattern: '(a)\\1' }, 'back-references (\\1) are not supported; group patterns use RE2 syntax (linear time) — see README'],
    [{ mode: 'regex', pattern: '(?<g>a)\\k<g>' }, 'back-references (\\k) are not supported'],
    [{ mode: 'regex', pattern: '^(?=x)' }, 'look-around ((?=…)) is not supported; group patterns use RE2 syntax (linear time) — see README'],
    [{ mode: 'regex', pattern: 'a(?!x)' }, 'look-around ((?!…)) is not supported'],
    [{ mode: 'regex', pattern: '(?<=x)a' }, 'look-around ((?<=…)) is not supported'],
    [{ mode: 'regex', pattern: '(?<!x)a' }, 'look-around ((?<!…)) is not supported'],
    [{ mode: 'regex', pattern: `(${'a'.repeat(150)}` }, `missing closing ) at \`(${'a'.repeat(39)}…\`;`],
    // Over the length limit: refused as such, without compiling it (so listed once).
    [{ mode: 'regex', pattern: '('.repeat(201) }, 'Too big'],
    [{ mode: 'sometimes' }, 'Invalid option'],
  ])('rejects %j', (groups, message) => {
    const problems = problemsOf(withGroups(groups));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.field).toBe(groups.mode === 'sometimes' ? 'groups.mode' : 'groups.pattern');
    expect(problems[0]!.message).toContain(message);
  });

  it('lists a pattern problem beside the other invalid fields', () => {
    expect(fieldsOf({ ...withGroups({ mode: 'regex', pattern: '(?=x)' }), schedule: { kind: 'interval', minutes: 1 } }).sort()).toEqual(['groups.pattern', 'schedule.minutes']);
  });
});
