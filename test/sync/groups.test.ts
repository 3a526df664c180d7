import { beforeAll, describe, expect, it } from 'vitest';
import { addLocalGroup, addLocalGroupMember, groupMembers } from '../../shared/admin/groups.js';
import type { GroupSettings } from '../../shared/connections/profile.js';
import { selectGroups } from '../../shared/sync/rules/groups.js';
import { auditOf, createTestApp, csvProfile, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

const HEADER = 'username,email,firstName,lastName,groups';
const member = (name: string, groups: string) => `${name},${name}@example.org,${name},Grouped,"${groups}"`;
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';

describe('selectGroups', () => {
  const settings = (mode: GroupSettings['mode'], pattern?: string): GroupSettings => ({ mode, keepLocalGroups: false, ...(pattern ? { pattern } : {}) });
  it.each<[string, GroupSettings, string[] | undefined, string[] | undefined]>([
    ['off leaves memberships alone', settings('off'), ['A'], undefined],
    ['all, trimmed, de-duplicated case-insensitively, ordered', settings('all'), [' b ', 'A', 'a', ''], ['A', 'b']],
    ['all with no groups column is no groups', settings('all'), undefined, []],
    ['regex keeps the matching ones, case-sensitively', settings('regex', '^Intranet-'), ['Intranet-Sales', 'Payroll', 'intranet-x'], ['Intranet-Sales']],
    ['(?i) makes a pattern ignore case', settings('regex', '(?i)^intranet-'), ['Intranet-Sales', 'Payroll', 'INTRANET-x'], ['Intranet-Sales', 'INTRANET-x']],
    ['a pattern matches anywhere unless anchored', settings('regex', 'Sales'), ['Intranet-Sales', 'Sales-EU', 'sales'], ['Intranet-Sales', 'Sales-EU']],
    ['. and \\p{…} see code points, not UTF-16 halves', settings('regex', '^\\p{Lu}.$'), ['É😀', 'Abc', 'éX'], ['É😀']],
  ])('%s', (_name, given, groups, expected) => {
    expect(selectGroups(given, groups)).toEqual(expected);
  });

  // A backtracking engine takes exponential time on these (it would not finish); RE2 takes linear time.
  it.each<[string, string, boolean]>([
    ['(a|a)*$', `${'a'.repeat(100_000)}!`, true],
    ['(a|aa)+$', `${'a'.repeat(100_000)}!`, false],
    ['^(a|ab|b)*c$', `${'ab'.repeat(50_000)}!`, false],
    ['(x+x+)+y', 'x'.repeat(100_000), false],
  ])('matches %s against a 100,000-character adversarial name', (pattern, name, matches) => {
    expect(selectGroups(settings('regex', pattern), [name])).toEqual(matches ? [name] : []);
  });

  it('a pattern stored before patterns had to be RE2 fails as profile-invalid, naming the field', () => {
    expect(() => selectGroups(settings('regex', '^(?!Test-)'), ['Test-1'])).toThrow(
      expect.objectContaining({ code: 'profile-invalid', message: expect.stringContaining('groups.pattern: look-around') }),
    );
  });
});

describe('group sync through runs', () => {
  let t: TestApp;
  const profile = (groups: Partial<GroupSettings> & { mode: GroupSettings['mode'] }) =>
    putProfile(t, csvProfile('Teams', 'teams.csv', { groupsColumn: 'groups', groups: { keepLocalGroups: false, ...groups } }));

  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Groups-Initial-1' });
    await profile({ mode: 'all' });
  });

  it('creates the groups the directory lists and makes memberships follow it', async () => {
    await uploadCsv(t, 'teams.csv', csv(member('gail', 'Intranet-Sales;Intranet-All'), member('gus', 'Intranet-All|Payroll')));
    const run = await syncNow(t, 'Teams');
    expect(run.counts.created).toBe(2);
    expect((await t.app.deps.groups.list()).map((g) => [g.name, g.connection])).toEqual([
      ['Intranet-All', 'Teams'],
      ['Intranet-Sales', 'Teams'],
      ['Payroll', 'Teams'],
    ]);
    expect((await auditOf(t, run.runId)).filter((r) => r.action === 'group-created').map((r) => r.subject).sort()).toEqual([
      'group:intranet-all',
      'group:intranet-sales',
      'group:payroll',
    ]);
    const users = await usersOf(t, 'Teams');
    expect(users.get('gail')?.groups).toEqual(['Intranet-All', 'Intranet-Sales']);
    expect((await groupMembers(t.app.deps, 'intranet-all')).map((u) => u.username)).toEqual(['gail', 'gus']);
  });

  it('never deletes a group that became empty', async () => {
    await uploadCsv(t, 'teams.csv', csv(member('gail', 'Intranet-All'), member('gus', 'Intranet-All|Payroll')));
    const run = await syncNow(t, 'Teams');
    expect(run.counts.updated).toBe(1);
    expect((await usersOf(t, 'Teams')).get('gail')?.groups).toEqual(['Intranet-All']);
    expect(await groupMembers(t.app.deps, 'Intranet-Sales')).toEqual([]);
    expect(await t.app.deps.groups.get('Intranet-Sales')).toMatchObject({ name: 'Intranet-Sales', origin: expect.stringMatching(/^dk/) });
  });

  it('removes directory users from local groups on the next sync, and says so', async () => {
    await addLocalGroup(t.app.deps, 'Onboarding');
    await addLocalGroupMember(t.app.deps, 'Onboarding', 'gus');
    expect((await usersOf(t, 'Teams')).get('gus')?.localGroups).toEqual(['Onboarding']);
    const run = await syncNow(t, 'Teams');
    expect(run.counts).toMatchObject({ updated: 1, unchanged: 1 });
    expect((await usersOf(t, 'Teams')).get('gus')?.localGroups).toBeUndefined();
    const updated = (await auditOf(t, run.runId)).find((r) => r.action === 'updated');
    expect(updated).toMatchObject({ subject: 'gus', changedFields: ['localGroups'] });
    await expect(addLocalGroupMember(t.app.deps, 'Payroll', 'gail')).rejects.toMatchObject({ code: 'directory-owned', message: expect.stringContaining('synced from the directory "Teams"') });
  });

  it('keeps local-group memberships when the profile says so, and leaves roles alone always', async () => {
    await profile({ mode: 'all', keepLocalGroups: true });
    await addLocalGroupMember(t.app.deps, 'Onboarding', 'gus');
    const users = await usersOf(t, 'Teams');
    await t.app.deps.users.write([{ ...users.get('gail')!, roles: ['Editor'] }]);
    await uploadCsv(t, 'teams.csv', csv(member('gail', 'Intranet-All;Payroll'), member('gus', 'Intranet-All|Payroll')));
    const run = await syncNow(t, 'Teams');
    expect(run.counts).toMatchObject({ updated: 1, unchanged: 1 });
    const after = await usersOf(t, 'Teams');
    expect(after.get('gus')?.localGroups).toEqual(['Onboarding']);
    expect(after.get('gail')).toMatchObject({ roles: ['Editor'], groups: ['Intranet-All', 'Payroll'] });
  });

  it('switching from all to regex drops the groups that no longer match and creates new matching ones, in one run', async () => {
    await profile({ mode: 'regex', pattern: '^Intranet-' });
    await uploadCsv(t, 'teams.csv', csv(member('gail', 'Intranet-All;Payroll;Intranet-Research'), member('gus', 'Intranet-All|Payroll')));
    const run = await syncNow(t, 'Teams');
    expect(run.counts).toMatchObject({ updated: 2 });
    const users = await usersOf(t, 'Teams');
    expect(users.get('gail')?.groups).toEqual(['Intranet-All', 'Intranet-Research']);
    expect(users.get('gus')?.groups).toEqual(['Intranet-All']);
    expect(await t.app.deps.groups.get('Intranet-Research')).toBeDefined();
    // Payroll fell out of the filter: nobody syncs into it any more, but it is not deleted.
    expect(await t.app.deps.groups.get('Payroll')).toBeDefined();
  });

  it('with group sync off, memberships stay exactly as they are', async () => {
    await profile({ mode: 'off' });
    await addLocalGroupMember(t.app.deps, 'Onboarding', 'gail');
    await uploadCsv(t, 'teams.csv', csv(member('gail', 'Other'), member('gus', 'Other')));
    const run = await syncNow(t, 'Teams');
    const users = await usersOf(t, 'Teams');
    expect(users.get('gail')).toMatchObject({ groups: ['Intranet-All', 'Intranet-Research'], localGroups: ['Onboarding'] });
    expect(await t.app.deps.groups.get('Other')).toBeUndefined();
    expect(run.state).toBe('succeeded');
  });

  it('refuses a pattern RE2 cannot run (look-around), and keeps the profile as it was', async () => {
    const before = await t.app.deps.connections.get('Teams');
    await expect(profile({ mode: 'regex', pattern: '^(?!Payroll)' })).rejects.toMatchObject({
      code: 'profile-invalid',
      details: { problems: [{ field: 'groups.pattern', message: expect.stringContaining('look-around ((?!…)) is not supported') }] },
    });
    expect((await t.app.deps.connections.get('Teams'))?.profile).toEqual(before?.profile);
  });
});

describe('group patterns that hang a backtracking engine, through runs', () => {
  let t: TestApp;
  // 40 `a`s and a `!`: minutes of 100% CPU for (a|a)*$ in JavaScript's RegExp.
  const A40 = `${'a'.repeat(40)}!`;
  const AB40 = `${'ab'.repeat(40)}!`;
  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Groups-Initial-1' });
    await uploadCsv(t, 'hostile.csv', csv(member('hal', `${A40};Team-a;abbc`), member('hil', `${AB40}|Team-a`)));
  });

  it.each<[string, string[], string[]]>([
    ['(a|a)*$', [A40, 'abbc', 'Team-a'], [AB40, 'Team-a']],
    ['(a|aa)+$', ['Team-a'], ['Team-a']],
    ['^(a|ab|b)*c$', ['abbc'], []],
  ])('%s: the run succeeds with the matching groups', async (pattern, halGroups, hilGroups) => {
    await putProfile(t, csvProfile('Hostile', 'hostile.csv', { groupsColumn: 'groups', groups: { mode: 'regex', pattern, keepLocalGroups: false } }));
    const run = await syncNow(t, 'Hostile');
    expect(run.state).toBe('succeeded');
    const users = await usersOf(t, 'Hostile');
    expect([...users.keys()].sort()).toEqual(['hal', 'hil']);
    expect(users.get('hal')?.groups ?? []).toEqual(halGroups);
    expect(users.get('hil')?.groups ?? []).toEqual(hilGroups);
  });
});
