import { afterEach, describe, expect, it } from 'vitest';
import { jsonRequest, startApiHost, type ApiHost } from '../support/api-host.js';
import { addUsers, storedUser } from '../support/stored-users.js';
import { csvProfile, putProfile, syncNow, uploadCsv } from '../support/test-app.js';

/** Local groups (remove a member, delete), the licences view, and each profile's next scheduled run, over HTTP. */
describe('groups, licences and schedules through the local host', () => {
  let server: ApiHost;
  afterEach(() => server?.stop());
  const json = async (response: Response) => ({ status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as unknown });

  /** ann and bob of the directory "HR", both in its group "Synced". */
  const startWithDirectoryGroup = async () => {
    server = await startApiHost({ TEST_DEFAULT_PASSWORD: 'Groups-Initial-1' });
    const { t } = server;
    await uploadCsv(t, 'hr.csv', 'username,email,firstName,lastName,groups\nann,ann@example.org,Ann,Groups,Synced\nbob,bob@example.org,Bob,Groups,Synced\n');
    await putProfile(t, csvProfile('HR', 'hr.csv', { groupsColumn: 'groups', groups: { mode: 'all' } }));
    await syncNow(t, 'HR');
    return server;
  };

  it('DELETE /groups/{name}/members/{username} takes a user out of a local group (again: no change); a directory group is 409', async () => {
    const { api } = await startWithDirectoryGroup();
    expect((await api('groups', jsonRequest('POST', { name: 'Team' }))).status).toBe(201);
    for (const username of ['ann', 'bob']) expect((await api(`groups/Team/members/${username}`, { method: 'PUT' })).status).toBe(200);

    for (let i = 0; i < 2; i++) {
      const removed = await json(await api('groups/team/members/ANN', { method: 'DELETE' }));
      expect(removed).toMatchObject({ status: 200, body: { username: 'ann', localGroups: [], groups: ['Synced'] } });
    }
    expect(((await (await api('groups/Team/members')).json()) as { username: string }[]).map((user) => user.username)).toEqual(['bob']);
    expect(await json(await api('groups/Synced/members/ann', { method: 'DELETE' }))).toMatchObject({
      status: 409,
      type: 'application/problem+json',
      body: { code: 'directory-owned', detail: expect.stringContaining('synced from the directory "HR"; change its members there') },
    });
    expect(await json(await api('groups/Nothing/members/ann', { method: 'DELETE' }))).toMatchObject({ status: 404, body: { code: 'not-found' } });
    expect(await json(await api('groups/Team/members/nobody', { method: 'DELETE' }))).toMatchObject({ status: 404, body: { code: 'user-not-found' } });
  });

  it('DELETE /groups/{name} deletes a local group, its members leaving it, audited; a directory group is 409, an unknown one 404', async () => {
    const { t, api } = await startWithDirectoryGroup();
    for (const name of ['Team', 'Other']) expect((await api('groups', jsonRequest('POST', { name }))).status).toBe(201);
    for (const [group, username] of [['Team', 'ann'], ['Team', 'bob'], ['Other', 'bob']]) expect((await api(`groups/${group}/members/${username}`, { method: 'PUT' })).status).toBe(200);

    expect(await json(await api('groups/TEAM', { method: 'DELETE' }))).toMatchObject({ status: 200, body: { name: 'Team', deleted: true, membersRemoved: 2 } });
    expect(((await (await api('groups')).json()) as { name: string }[]).map((group) => group.name)).toEqual(['Other', 'Synced']);
    expect(await json(await api('users/ann'))).toMatchObject({ body: { localGroups: [], groups: ['Synced'] } });
    expect(await json(await api('users/bob'))).toMatchObject({ body: { localGroups: ['Other'] } });
    expect((await t.app.deps.audit.query({ action: 'group-deleted', limit: 10 })).records).toMatchObject([
      { connection: 'local', subject: 'team', detail: 'Local group "Team" deleted by an admin through the API; 2 member(s) left it.' },
    ]);
    expect(await json(await api('groups/Team', { method: 'DELETE' }))).toMatchObject({ status: 404, body: { code: 'not-found' } });
    expect(await json(await api('groups/Synced', { method: 'DELETE' }))).toMatchObject({
      status: 409,
      body: { code: 'directory-owned', connection: 'HR', detail: expect.stringContaining('a sync never deletes groups') },
    });
    expect(((await (await api('groups/Synced/members')).json()) as unknown[]).length).toBe(2);
  });

  it('GET /licences: used and limit, active and blocked per profile (every profile, and local accounts), the blocked queue oldest first', async () => {
    server = await startApiHost({ USERSYNC_LICENCE_LIMIT: '10' });
    const { t, api } = server;
    await putProfile(t, csvProfile('HR', 'hr.csv'));
    await putProfile(t, csvProfile('Empty', 'empty.csv'));
    const hr = (await t.app.deps.connections.get('HR'))!.directoryKey;
    const at = (minute: number) => `2026-11-0${minute}T10:00:00.000Z`;
    await addUsers(t, [
      storedUser(hr, 'HR', 'ann'),
      storedUser(hr, 'HR', 'bob', { status: 'blocked', createdAt: at(3) }),
      storedUser(hr, 'HR', 'cid', { status: 'blocked', createdAt: at(1) }),
      storedUser(hr, 'HR', 'dan', { status: 'disabled' }),
      storedUser('local', 'local', 'lou', { status: 'blocked', createdAt: at(2) }),
      storedUser('local', 'local', 'liz'),
    ]);
    await t.app.deps.licences.reset(2);
    expect(await json(await api('licences'))).toEqual({
      status: 200,
      type: expect.stringContaining('application/json'),
      body: {
        used: 2,
        limit: 10,
        byConnection: [
          { connection: 'Empty', active: 0, blocked: 0 },
          { connection: 'HR', active: 1, blocked: 2 },
          { connection: 'local', active: 1, blocked: 1 },
        ],
        blocked: [
          { username: 'cid', connection: 'HR', since: at(1) },
          { username: 'lou', connection: 'local', since: at(2) },
          { username: 'bob', connection: 'HR', since: at(3) },
        ],
      },
    });
    // A recount answers the same view, with the ledger set from the users.
    await t.app.deps.licences.reset(7);
    expect(await json(await api('licences/recount', { method: 'POST' }))).toMatchObject({ status: 200, body: { used: 2, byConnection: expect.any(Array), blocked: expect.any(Array) } });
  });

  it('GET /connections and /connections/{name}: each profile\'s next scheduled run (none when off or disabled)', async () => {
    server = await startApiHost({ TEST_DEFAULT_PASSWORD: 'Groups-Initial-1' });
    const { t, api } = server;
    await putProfile(t, csvProfile('Hourly', 'h.csv', { schedule: { kind: 'hourly' } }));
    await putProfile(t, csvProfile('Off', 'o.csv', { schedule: { kind: 'off' } }));
    await putProfile(t, csvProfile('Disabled', 'd.csv', { schedule: { kind: 'hourly' }, enabled: false }));
    const lastRunStartedAt = new Date(Date.now() - 10 * 60_000).toISOString();
    for (const name of ['Hourly', 'Disabled']) await t.app.deps.connections.updateState(name, (current) => ({ ...current.state, lastRunStartedAt }));
    const next = new Date(Date.parse(lastRunStartedAt) + 60 * 60_000).toISOString();

    const listed = (await (await api('connections')).json()) as { name: string; nextRunAt?: string; state: unknown }[];
    expect(Object.fromEntries(listed.map((connection) => [connection.name, connection.nextRunAt ?? null]))).toEqual({ Hourly: next, Off: null, Disabled: null });
    expect(listed.find((connection) => connection.name === 'Hourly')?.state).toEqual({ lastRunStartedAt });
    expect(await json(await api('connections/Hourly'))).toMatchObject({ status: 200, body: { name: 'Hourly', nextRunAt: next } });
  });
});
