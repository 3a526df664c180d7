import { beforeEach, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../shared/sync/rules/passwords.js';
import { cliOn } from '../support/cli.js';
import { createTestApp, csvProfile, putProfile, syncNow, uploadCsv, type TestApp } from '../support/test-app.js';

/** The CLI commands of local accounts, local groups and licences, on the app's storage (as `usersync`). */
describe('usersync user …, group …, licences', () => {
  let t: TestApp;
  const cli = (...args: string[]) => cliOn(t, ...args);
  const add = (username: string) => cli('user', 'add', username, '--email', `${username}@intranet.example`, '--first-name', 'Rita', '--last-name', 'Local');

  beforeEach(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Commands-Initial-1', RITA_TEMPORARY: 'Rita-Temporary-1', USERSYNC_LICENCE_LIMIT: '2' });
    await uploadCsv(t, 'hr.csv', 'username,email,firstName,lastName\nann,ann@example.org,Ann,Directory\n');
    await putProfile(t, csvProfile('HR', 'hr.csv'));
    await syncNow(t, 'HR');
  });

  it('user list, show, disable, enable: the account and what its status means for its licence', async () => {
    expect((await add('rita')).code).toBe(0);
    expect((await add('sam')).out).toEqual(['Created local account "sam" (blocked).']);
    const list = await cli('user', 'list');
    expect(list.code).toBe(0);
    expect(list.out[0]).toMatch(/^USERNAME\s+EMAIL\s+FIRST NAME\s+LAST NAME\s+STATUS\s+LOCAL GROUPS$/);
    expect(list.out.slice(1)).toEqual([expect.stringMatching(/^rita\s+rita@intranet\.example\s+Rita\s+Local\s+active$/), expect.stringMatching(/^sam\s+.*\s+blocked$/), '2 local account(s).']);

    expect(await cli('user', 'disable', 'rita')).toMatchObject({ code: 0, out: ['Local account "rita" is disabled (it holds no licence).'] });
    expect(await cli('user', 'enable', 'sam')).toMatchObject({ code: 0, out: ['Local account "sam" is active (it holds a licence).'] });
    expect(await cli('user', 'enable', 'rita')).toMatchObject({ code: 0, out: ['Local account "rita" is blocked: no licence is free (usersync licences).'] });
    const show = await cli('user', 'show', 'rita');
    expect(show.out).toEqual([
      'username:     rita',
      'email:        rita@intranet.example',
      'name:         Rita Local',
      'status:       blocked',
      expect.stringMatching(/^created: {6}\d{4}-/),
      expect.stringMatching(/^updated: {6}\d{4}-/),
    ]);
    expect(await cli('user', 'disable', 'ann')).toMatchObject({ code: 2, err: ['error [directory-owned]: "ann" is a user of the directory "HR", not a local account: change it there (the sync brings it over).'] });
    expect(await cli('user', 'show', 'nobody')).toMatchObject({ code: 2, err: ['error [user-not-found]: There is no local account "nobody".'] });
  });

  it('user set-password: generated and shown once (or from a setting), kept only as its hash; user delete --yes frees the name', async () => {
    expect((await add('rita')).code).toBe(0);
    const generated = await cli('user', 'set-password', 'rita');
    expect(generated.code).toBe(0);
    const password = /^One-time password for "rita": ([A-Za-z2-9]{16})$/.exec(generated.out[0] ?? '')?.[1];
    expect(generated.out[1]).toBe('  it must be changed at the next sign-in; it is not shown again: pass it on now.');
    expect(await verifyPassword(password!, (await t.app.deps.users.get('local', 'rita'))!.passwordHash!)).toBe(true);
    expect((await cli('user', 'show', 'rita')).out).toContain('password:     one-time: to be changed at the next sign-in');

    expect(await cli('user', 'set-password', 'rita', '--password-setting', 'RITA_TEMPORARY')).toMatchObject({
      code: 0,
      out: ['Set a one-time password for "rita" from RITA_TEMPORARY.', '  it must be changed at the next sign-in.'],
    });
    expect(await verifyPassword('Rita-Temporary-1', (await t.app.deps.users.get('local', 'rita'))!.passwordHash!)).toBe(true);

    expect((await cli('user', 'delete', 'rita')).code).toBe(2);
    expect(await cli('user', 'delete', 'rita', '--yes')).toMatchObject({
      code: 0,
      out: ['Deleted local account "rita": its username and licence are free; its history stays in the audit trail.'],
    });
    expect(await t.app.deps.usernames.find('rita')).toBeUndefined();
    expect(await cli('user', 'delete', 'ann', '--yes')).toMatchObject({ code: 2, err: [expect.stringMatching(/^error \[directory-owned\]/)] });
  });

  it('group remove-member and group delete --yes; licences shows each profile and the users waiting, oldest first', async () => {
    expect((await add('rita')).code).toBe(0);
    expect((await cli('group', 'add', 'Team')).code).toBe(0);
    for (const username of ['ann', 'rita']) expect((await cli('group', 'add-member', 'Team', username)).code).toBe(0);
    expect(await cli('group', 'remove-member', 'Team', 'ann')).toMatchObject({ code: 0, out: ['"ann" is not in the local group "Team" (any more).'] });
    expect((await cli('group', 'members', 'Team')).out).toEqual(['rita  (local)', '1 member(s).']);
    expect(await cli('group', 'delete', 'Team', '--yes')).toMatchObject({ code: 0, out: ['Deleted local group "Team"; 1 member(s) left it.'] });
    expect(await cli('group', 'delete', 'Team', '--yes')).toMatchObject({ code: 2, err: ['error [not-found]: There is no group "Team".'] });

    expect((await add('sam')).out).toEqual(['Created local account "sam" (blocked).']);
    const sam = (await t.app.deps.users.get('local', 'sam'))!;
    expect(await cli('licences')).toMatchObject({
      code: 0,
      out: [
        'Licences in use: 2 of 2.',
        'CONNECTION  ACTIVE  BLOCKED',
        'HR          1       0',
        'local       1       1',
        'Waiting for a licence, in the order they get one (oldest first): 1',
        `  sam (local), since ${sam.createdAt}`,
      ],
    });
  });
});
