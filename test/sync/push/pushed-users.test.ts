import { describe, expect, it } from 'vitest';
import type { ScimProfile } from '../../../shared/connections/profile.js';
import { changeUser, MAX_TRIES, pushRequest, sourceOf } from '../../../shared/sync/push/pushed-users.js';
import { auditOf, csvProfile, putProfile, syncNow, uploadCsv, usersOf } from '../../support/test-app.js';
import { auditOfConnection, person, refusal, scimApp } from './push-support.js';

describe('a pushed directory: users', () => {
  it('creates (id = externalId), reads, replaces, updates and disables a user: rows, licences and audit records as a run writes them, actor scim:<name>', async () => {
    const { t, directory } = await scimApp({ USERSYNC_LICENCE_LIMIT: '10' });
    const created = await directory.createUser(person('ann.lee@contoso.com', { attributes: { department: 'Sales' } }, 'ann-ext'));
    expect(created).toMatchObject({ id: 'ann-ext', externalId: 'ann-ext', active: true, user: { key: 'ann-ext', status: 'active', externalId: 'ann-ext', connection: 'Pushed' } });
    expect(await t.app.deps.licences.used()).toBe(1);
    expect(await directory.getUser('ann-ext')).toEqual(created);
    expect(await directory.findUser({ by: 'userName', value: 'ANN.LEE@contoso.com' })).toEqual(created);
    expect(await directory.findUser({ by: 'externalId', value: 'ann-ext' })).toEqual(created);

    const okta = await directory.createUser(person('bob.ray@contoso.com'));
    expect(okta.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(okta.externalId).toBeUndefined();

    const replaced = await directory.replaceUser('ann-ext', person('ann.lee@contoso.com', { lastName: 'Lee-Smith', attributes: { department: 'Legal' } }));
    expect(replaced.version).not.toBe(created.version);
    const updated = await directory.updateUser('ann-ext', (current) => ({ user: { ...current.user, active: true, attributes: { ...current.user.attributes, jobTitle: 'Counsel' } } }));
    expect(updated.user.attributes).toEqual({ department: 'Legal', jobTitle: 'Counsel' });
    await directory.disableUser('ann-ext');
    await directory.disableUser('ann-ext'); // already disabled: nothing more

    const stored = (await usersOf(t, 'Pushed')).get('ann.lee@contoso.com');
    expect(stored).toMatchObject({ status: 'disabled', lastName: 'Lee-Smith', attributes: { department: 'Legal', jobTitle: 'Counsel' }, externalId: 'ann-ext', disabledReason: 'removed-from-directory' });
    expect((await directory.getUser('ann-ext'))?.active).toBe(false);
    expect(await t.app.deps.licences.used()).toBe(1);

    const records = await auditOfConnection(t);
    expect(records.map((record) => `${record.action} ${record.subject}`).sort()).toEqual(
      ['created ann-ext', `created ${okta.id}`, 'disabled ann-ext', 'updated ann-ext', 'updated ann-ext'].sort(),
    );
    expect(new Set(records.map((record) => record.actor))).toEqual(new Set(['scim:Pushed']));
    expect(new Set(records.map((record) => record.runId)).size).toBe(5);
    expect(records.every((record) => record.runId.startsWith('scim-'))).toBe(true);
    const replace = records.find((record) => record.changedFields?.includes('lastName'));
    expect(replace?.changes).toEqual(expect.arrayContaining([{ field: 'lastName', from: 'lee', to: 'Lee-Smith' }]));
  });

  it('refuses what a run would skip (user-invalid, with the reason), a second user with the same id or username (user-exists), a changed externalId (mutability), an unknown id', async () => {
    const { t, directory } = await scimApp();
    const noEmail = await refusal(directory.createUser(person('cy@contoso.com', { email: '' })));
    expect(noEmail).toMatchObject({ code: 'user-invalid', message: 'The email address is empty; an account needs a valid email address.', details: { reason: 'missing-email' } });
    const control = await refusal(directory.createUser(person('cy@contoso.com', { firstName: 'C\u0007y' })));
    expect(control).toMatchObject({ code: 'user-invalid', details: { reason: 'control-characters' } });

    await directory.createUser(person('dee@contoso.com', {}, 'dee'));
    expect(await refusal(directory.createUser(person('other@contoso.com', {}, 'dee')))).toMatchObject({ code: 'user-exists' });
    expect(await refusal(directory.createUser(person('dee@contoso.com', {}, 'dee-2')))).toMatchObject({ code: 'user-exists' });
    expect(await refusal(directory.replaceUser('dee', person('dee@contoso.com', {}, 'changed')))).toMatchObject({ code: 'mutability' });
    expect(await refusal(directory.updateUser('nobody', (current) => ({ user: { ...current.user, active: true } })))).toMatchObject({ code: 'user-not-found' });
    expect(await refusal(directory.disableUser('nobody'))).toMatchObject({ code: 'user-not-found' });
    expect([...(await usersOf(t, 'Pushed')).keys()]).toEqual(['dee@contoso.com']);
  });

  it('a username held by a pull connection: username-taken naming it, a conflict audit record, the pull user untouched', async () => {
    const { t, directory } = await scimApp();
    await putProfile(t, { name: 'HR', type: 'csv', source: { kind: 'blob', blobName: 'hr.csv' } });
    const hr = (await t.app.deps.connections.get('HR'))!;
    const pulled = {
      directoryKey: hr.directoryKey, key: 'eve', connection: 'HR', username: 'eve@contoso.com', email: 'eve@contoso.com', firstName: 'Eve', lastName: 'Pull',
      status: 'active' as const, attributes: {}, directoryControlled: ['username'], sourceHash: 'h', sourceRef: 'row 2', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
    };
    await t.app.deps.users.write([pulled]);
    expect(await t.app.deps.usernames.claim('eve@contoso.com', { directoryKey: hr.directoryKey, key: 'eve', connection: 'HR' })).toEqual({ won: true });

    const taken = await refusal(directory.createUser(person('Eve@contoso.com', {}, 'eve-ext')));
    expect(taken).toMatchObject({ code: 'username-taken', details: { connection: 'HR', reason: 'username-owned-by-directory' } });
    expect(taken.message).toBe('The username "Eve@contoso.com" already belongs to a user of the directory "HR"; usernames are unique across all directories.');
    const [conflict] = await auditOfConnection(t);
    expect(conflict).toMatchObject({ action: 'conflict', subject: 'eve-ext', actor: 'scim:Pushed', reason: 'username-owned-by-directory' });
    expect(await t.app.deps.users.get(hr.directoryKey, 'eve')).toEqual(pulled);
    expect(await directory.getUser('eve-ext')).toBeUndefined();
  });

  it('a pull run later for the same person conflicts per user, with a reason, as two pull directories do', async () => {
    const { t, directory } = await scimApp();
    await directory.createUser(person('zoe@contoso.com', {}, 'zoe'));
    await putProfile(t, csvProfile('HR', 'hr.csv'));
    await uploadCsv(t, 'hr.csv', 'username,email,firstName,lastName\nzoe@contoso.com,zoe@contoso.com,Zoe,Pull\nyan@contoso.com,yan@contoso.com,Yan,Pull\n');
    const run = await syncNow(t, 'HR');
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 1, conflict: 1 } });
    const [conflict] = (await auditOf(t, run.runId)).filter((record) => record.action === 'conflict');
    expect(conflict).toMatchObject({ username: 'zoe@contoso.com', reason: 'username-owned-by-directory' });
    expect(conflict?.detail).toContain('the directory "Pushed"');
    expect((await directory.getUser('zoe'))?.user).toMatchObject({ lastName: 'Last', connection: 'Pushed' });
  });

  it('with no licence free, a new user is created blocked; a disable frees the seat for the oldest blocked user; a blocked user pushed again gets a seat if one is free', async () => {
    const { t, directory } = await scimApp({ USERSYNC_LICENCE_LIMIT: '1' });
    const first = await directory.createUser(person('fay@contoso.com'));
    const second = await directory.createUser(person('gus@contoso.com'));
    const third = await directory.createUser(person('hal@contoso.com'));
    expect([first.user.status, second.user.status, third.user.status]).toEqual(['active', 'blocked', 'blocked']);
    expect(second.active).toBe(true);
    expect((await auditOfConnection(t)).find((record) => record.subject === second.id)).toMatchObject({ action: 'blocked', reason: 'licence-limit' });

    await directory.disableUser(first.id);
    expect(await t.app.deps.licences.used()).toBe(1);
    expect((await directory.getUser(second.id))?.user.status).toBe('active');
    expect((await directory.getUser(third.id))?.user.status).toBe('blocked');
    expect((await auditOfConnection(t)).find((record) => record.subject === second.id && record.action === 'activated')).toMatchObject({ reason: 'licence-available', actor: 'scim:Pushed' });

    // A seat freed elsewhere (a pull run's leaver; here a recount): hal's next push takes it.
    await t.app.deps.licences.reset(0);
    const pushed = await directory.updateUser(third.id, (current) => ({ user: { ...current.user, active: true, attributes: { office: 'Leeds' } } }));
    expect(pushed.user).toMatchObject({ status: 'active', attributes: { office: 'Leeds' } });
    expect(await t.app.deps.licences.used()).toBe(1);
  });

  it("links the manager at once when the manager's id is a user of this directory", async () => {
    const { directory } = await scimApp();
    await directory.createUser(person('boss@contoso.com', {}, 'boss'));
    const report = await directory.createUser(person('ivy@contoso.com', { manager: 'boss' }, 'ivy'));
    expect(report.user).toMatchObject({ manager: 'boss', managerKey: 'boss' });
    const unknown = await directory.updateUser('ivy', (current) => ({ user: { ...current.user, active: true, manager: 'nobody' } }));
    expect(unknown.user.manager).toBe('nobody');
    expect(unknown.user.managerKey).toBeUndefined();
  });

  it('a report pushed before its manager is linked when the client sends the same manager again, once the manager exists', async () => {
    const { t, directory } = await scimApp();
    const early = await directory.createUser(person('kit@contoso.com', { manager: 'later' }, 'kit'));
    expect(early.user.managerKey).toBeUndefined();
    await directory.createUser(person('lee@contoso.com', {}, 'later'));
    // Entra sends the reference again (the same value: nothing else changes).
    const again = await directory.updateUser('kit', (current) => ({ user: { ...current.user, active: true, manager: 'later' } }));
    expect(again.user).toMatchObject({ manager: 'later', managerKey: 'later' });
    expect(await t.app.deps.users.get((await t.app.deps.connections.get('Pushed'))!.directoryKey, 'kit')).toMatchObject({ managerKey: 'later' });
    expect(again.version).toBe((await directory.getUser('kit'))!.version);
  });

  it('50 concurrent updates of one user: it ends as one of them would have left it (every value added), and each write is audited once', async () => {
    const { t, directory } = await scimApp();
    await directory.createUser(person('jo@contoso.com', {}, 'jo'));
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        directory.updateUser('jo', (current) => ({ user: { ...current.user, active: true, attributes: { ...current.user.attributes, [`a${i}`]: `v${i}` } } })),
      ),
    );
    const stored = await directory.getUser('jo');
    expect(Object.keys(stored!.user.attributes).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `a${i}`).sort());
    expect(results.some((result) => result.version === stored!.version)).toBe(true);
    const updates = (await auditOfConnection(t)).filter((record) => record.action === 'updated');
    expect(updates).toHaveLength(50);
    expect(new Set(updates.map((record) => record.runId)).size).toBe(50);
  });

  it('a user another writer changes between every read and write: user-busy (transient) after the last try, nothing of the request written or audited', async () => {
    const { t, directory } = await scimApp();
    await directory.createUser(person('kim@contoso.com', {}, 'kim'));
    const connection = (await t.app.deps.connections.get('Pushed'))!;
    const target = { deps: t.app.deps, profile: connection.profile as ScimProfile, directoryKey: connection.directoryKey };
    let interfered = 0;
    const busy = await refusal(
      changeUser(target, pushRequest(target), 'kim', async (current) => {
        await t.app.deps.users.write([{ ...current!.user, attributes: { writer: String(++interfered) } }]);
        return { source: sourceOf(target, person('kim@contoso.com', { attributes: { mine: 'yes' } }), current!.user) };
      }),
    );
    expect(busy).toMatchObject({ code: 'user-busy', transient: true });
    expect(interfered).toBe(MAX_TRIES);
    expect((await directory.getUser('kim'))?.user.attributes).toEqual({ writer: String(MAX_TRIES) });
    expect((await auditOfConnection(t)).filter((record) => record.action !== 'created')).toEqual([]);
  });

  it('the port of a connection that is not scim, or missing, is connection-not-found; a disabled one, connection-disabled', async () => {
    const { t } = await scimApp();
    await putProfile(t, { name: 'HR', type: 'csv', source: { kind: 'blob', blobName: 'hr.csv' } });
    await putProfile(t, { name: 'Off', type: 'scim', tokenSecret: 'SCIM_TOKEN', enabled: false });
    expect(await refusal(t.app.pushedDirectories('HR'))).toMatchObject({ code: 'connection-not-found' });
    expect(await refusal(t.app.pushedDirectories('Nobody'))).toMatchObject({ code: 'connection-not-found' });
    expect(await refusal(t.app.pushedDirectories('Off'))).toMatchObject({ code: 'connection-disabled' });
  });
});
