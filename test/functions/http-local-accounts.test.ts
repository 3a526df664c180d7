import { afterEach, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../shared/sync/rules/passwords.js';
import { jsonRequest, startApiHost, type ApiHost } from '../support/api-host.js';
import { csvProfile, putProfile, syncNow, uploadCsv } from '../support/test-app.js';

/**
 * Local accounts after they are created, over HTTP: list and show, disable and enable (their licence freed
 * and taken), delete (username and licence freed), a one-time password. Directory users are refused.
 */
describe('local accounts through the local host', () => {
  let server: ApiHost;
  afterEach(() => server?.stop());
  const start = async (env: Record<string, string> = {}) => {
    server = await startApiHost({ TEST_DEFAULT_PASSWORD: 'Accounts-Initial-1', ...env });
    // A directory user, to be refused: "ann" of the directory "HR".
    await uploadCsv(server.t, 'hr.csv', 'username,email,firstName,lastName\nann,ann@example.org,Ann,Directory\n');
    await putProfile(server.t, csvProfile('HR', 'hr.csv'));
    await syncNow(server.t, 'HR');
    return server;
  };
  const json = async (response: Response) => ({ status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> });
  const create = (username: string) => server.api('local-accounts', jsonRequest('POST', { username, email: `${username}@intranet.example`, firstName: username, lastName: 'Local' }));
  const post = (path: string) => server.api(path, { method: 'POST' });
  const auditOf = async (action: string) => (await server.t.app.deps.audit.query({ action: action as never, limit: 100 })).records;

  it('GET /local-accounts lists them (only them), GET /local-accounts/{username} shows one; a directory user is 409, an unknown one 404', async () => {
    const { api } = await start();
    for (const username of ['rita', 'bob']) expect((await create(username)).status).toBe(201);
    const listed = await json(await api('local-accounts'));
    expect(listed.status).toBe(200);
    expect((listed.body as unknown as { username: string; connection: string }[]).map(({ username, connection }) => [username, connection])).toEqual([
      ['bob', 'local'],
      ['rita', 'local'],
    ]);
    expect(await json(await api('local-accounts/RITA'))).toMatchObject({ status: 200, body: { username: 'rita', status: 'active', connection: 'local' } });
    expect(await json(await api('local-accounts/ann'))).toMatchObject({
      status: 409,
      type: 'application/problem+json',
      body: { code: 'directory-owned', connection: 'HR', detail: expect.stringContaining('a user of the directory "HR", not a local account') },
    });
    expect(await json(await api('local-accounts/nobody'))).toMatchObject({ status: 404, body: { code: 'user-not-found' } });
  });

  it('disable frees the licence and enable takes it again — blocked while none is free — each audited once; asking again changes nothing', async () => {
    const { t } = await start({ USERSYNC_LICENCE_LIMIT: '2' });
    // ann (the directory user) holds one licence, rita the other; sam gets none.
    expect((await json(await create('rita'))).body).toMatchObject({ status: 'active' });
    expect((await json(await create('sam'))).body).toMatchObject({ status: 'blocked' });
    expect(await t.app.deps.licences.used()).toBe(2);

    for (let i = 0; i < 2; i++) {
      expect(await json(await post('local-accounts/rita/disable'))).toMatchObject({ status: 200, body: { username: 'rita', status: 'disabled', disabledReason: 'disabled-by-admin' } });
      expect(await t.app.deps.licences.used()).toBe(1);
    }
    expect((await auditOf('local-account-disabled')).map((record) => record.detail)).toEqual(['Local account "rita" disabled by an admin through the API; its licence is free.']);

    expect(await json(await post('local-accounts/sam/enable'))).toMatchObject({ status: 200, body: { username: 'sam', status: 'active' } });
    expect(await t.app.deps.licences.used()).toBe(2);
    // No licence is free: rita comes back blocked, and stays blocked until one is.
    for (let i = 0; i < 2; i++) expect(await json(await post('local-accounts/rita/enable'))).toMatchObject({ status: 200, body: { status: 'blocked' } });
    expect(await t.app.deps.licences.used()).toBe(2);
    expect(await json(await post('local-accounts/sam/disable'))).toMatchObject({ body: { status: 'disabled' } });
    expect(await json(await post('local-accounts/rita/enable'))).toMatchObject({ body: { status: 'active' } });
    expect(await t.app.deps.licences.used()).toBe(2);
    expect(await json(await post('local-accounts/rita/enable'))).toMatchObject({ body: { status: 'active' } });
    expect(await t.app.deps.licences.used()).toBe(2);
    expect((await auditOf('local-account-enabled')).map((record) => record.detail).sort()).toEqual([
      'Local account "rita" enabled by an admin through the API, blocked: no licence is free.',
      'Local account "rita" enabled by an admin through the API.',
      'Local account "sam" enabled by an admin through the API.',
    ]);

    expect(await json(await post('local-accounts/ann/disable'))).toMatchObject({ status: 409, body: { code: 'directory-owned' } });
    expect(await json(await post('local-accounts/nobody/enable'))).toMatchObject({ status: 404, body: { code: 'user-not-found' } });
    const wrong = await server.api('local-accounts/rita/disable');
    expect([wrong.status, wrong.headers.get('allow')]).toEqual([405, 'POST, OPTIONS']);
  });

  it('DELETE /local-accounts/{username}: the account goes, its username and licence are free, audited; directory users are never deleted', async () => {
    const { t, api } = await start({ USERSYNC_LICENCE_LIMIT: '5' });
    expect((await create('rita')).status).toBe(201);
    expect(await api('groups', jsonRequest('POST', { name: 'Team' }))).toMatchObject({ status: 201 });
    expect((await api('groups/Team/members/rita', { method: 'PUT' })).status).toBe(200);
    expect(await t.app.deps.licences.used()).toBe(2);

    expect(await json(await api('local-accounts/Rita', { method: 'DELETE' }))).toMatchObject({ status: 200, body: { username: 'rita', deleted: true } });
    expect(await t.app.deps.licences.used()).toBe(1);
    expect(await t.app.deps.usernames.find('rita')).toBeUndefined();
    expect((await api('users/rita')).status).toBe(404);
    expect(await json(await api('groups/Team/members'))).toMatchObject({ status: 200, body: [] });
    expect((await auditOf('local-account-deleted')).map((record) => [record.username, record.detail])).toEqual([
      ['rita', 'Local account "rita" deleted by an admin through the API; its username is free.'],
    ]);
    expect(await json(await api('local-accounts/rita', { method: 'DELETE' }))).toMatchObject({ status: 404, body: { code: 'user-not-found' } });
    // The name is free for anyone again.
    expect(await json(await create('rita'))).toMatchObject({ status: 201, body: { status: 'active' } });

    expect(await json(await api('local-accounts/ann', { method: 'DELETE' }))).toMatchObject({ status: 409, body: { code: 'directory-owned' } });
    expect(await json(await api('users/ann'))).toMatchObject({ status: 200, body: { status: 'active' } });
  });

  it('POST /local-accounts/{username}/password: a generated one-time password, answered once and kept only as its hash, to be changed at the next sign-in', async () => {
    const { t, api } = await start({ RITA_TEMPORARY: 'Rita-Temporary-1', SHORT: 'short' });
    expect((await create('rita')).status).toBe(201);

    const answer = await api('local-accounts/rita/password', { method: 'POST' });
    const { password, ...rest } = (await answer.json()) as { password: string };
    expect([answer.status, rest]).toEqual([200, { username: 'rita', mustChangePassword: true }]);
    expect(password).toMatch(/^[A-Za-z2-9]{16}$/);
    const stored = (await t.app.deps.users.get('local', 'rita'))!;
    expect(stored).toMatchObject({ mustChangePassword: true, passwordHash: expect.stringMatching(/^scrypt\$/) });
    expect(await verifyPassword(password, stored.passwordHash!)).toBe(true);
    // A second one is another password; neither is shown anywhere else.
    const again = (await (await api('local-accounts/rita/password', { method: 'POST' })).json()) as { password: string };
    expect(again.password).not.toBe(password);
    const shown = JSON.stringify([await (await api('local-accounts/rita')).json(), await (await api('users/rita')).json(), await auditOf('password-set')]);
    expect(shown).not.toContain(password);
    expect(shown).not.toContain(again.password);
    expect(shown).not.toMatch(/passwordHash|scrypt/);
    expect((await auditOf('password-set')).map((record) => record.detail)).toEqual([
      'A one-time password (generated) was set for "rita" by an admin through the API; it must be changed at the next sign-in.',
      'A one-time password (generated) was set for "rita" by an admin through the API; it must be changed at the next sign-in.',
    ]);
    expect(await json(await api('local-accounts/rita'))).toMatchObject({ body: { mustChangePassword: true } });

    // From an app setting an admin names: the answer holds no password.
    expect(await json(await api('local-accounts/rita/password?passwordSetting=RITA_TEMPORARY', { method: 'POST' }))).toEqual({
      status: 200,
      type: expect.stringContaining('application/json'),
      body: { username: 'rita', mustChangePassword: true },
    });
    expect(await verifyPassword('Rita-Temporary-1', (await t.app.deps.users.get('local', 'rita'))!.passwordHash!)).toBe(true);

    expect(await json(await api('local-accounts/rita/password?passwordSetting=NOT_SET', { method: 'POST' }))).toMatchObject({ status: 422, body: { code: 'secret-missing' } });
    expect(await json(await api('local-accounts/rita/password?passwordSetting=SHORT', { method: 'POST' }))).toMatchObject({ status: 400, body: { code: 'account-invalid' } });
    // A password never travels in a request: one in a body is not what gets set.
    expect(await json(await api('local-accounts/rita/password', jsonRequest('POST', { password: 'In-clear-Pa55' })))).toMatchObject({ status: 200, body: { password: expect.any(String) } });
    expect(await verifyPassword('In-clear-Pa55', (await t.app.deps.users.get('local', 'rita'))!.passwordHash!)).toBe(false);
    expect(await json(await api('local-accounts/ann/password', { method: 'POST' }))).toMatchObject({ status: 409, body: { code: 'directory-owned' } });
    expect(await json(await api('local-accounts/nobody/password', { method: 'POST' }))).toMatchObject({ status: 404, body: { code: 'user-not-found' } });
  });
});
