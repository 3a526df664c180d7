import { afterEach, describe, expect, it } from 'vitest';
import { USERS_EXAMINED_PER_PAGE } from '../../shared/admin/user-listing.js';
import { LOCAL_DIRECTORY, type StoredUser } from '../../shared/sync/model.js';
import { startApiHost, type ApiHost } from '../support/api-host.js';
import { addUsers, storedUser } from '../support/stored-users.js';
import { csvProfile, putProfile } from '../support/test-app.js';

interface UsersPage {
  users: { username: string; passwordHash?: string }[];
  continuationToken?: string;
}

describe('GET /users: paged in username order, filtered', () => {
  let server: ApiHost;
  afterEach(() => server?.stop());

  /** Two profiles' users and local accounts, written straight to the stores (a sync of 250 is slow). */
  const directories = async (): Promise<{ alpha: StoredUser[]; beta: StoredUser[]; local: StoredUser[] }> => {
    server = await startApiHost();
    const { t } = server;
    await putProfile(t, csvProfile('Alpha', 'alpha.csv'));
    await putProfile(t, csvProfile('Beta', 'beta.csv'));
    const alphaKey = (await t.app.deps.connections.get('Alpha'))!.directoryKey;
    const betaKey = (await t.app.deps.connections.get('Beta'))!.directoryKey;
    const alpha = Array.from({ length: 120 }, (_, i) => storedUser(alphaKey, 'Alpha', `${i % 2 ? 'A' : 'a'}.user${String(i).padStart(3, '0')}`));
    const beta = Array.from({ length: 100 }, (_, i) => storedUser(betaKey, 'Beta', `b.user${String(i).padStart(3, '0')}`, i % 10 === 0 ? { status: 'disabled', disabledReason: 'missing-from-source' } : {}));
    const local = Array.from({ length: 30 }, (_, i) => storedUser(LOCAL_DIRECTORY, 'local', `Local${String(i).padStart(2, '0')}`));
    await addUsers(t, [...alpha, ...beta, ...local]);
    return { alpha, beta, local };
  };

  const get = async (query: string): Promise<UsersPage> => {
    const response = await server.api(`users${query}`);
    expect(response.status).toBe(200);
    return (await response.json()) as UsersPage;
  };

  /** Follows continuation tokens to the end; every page but the last is full when nothing is filtered out. */
  const all = async (query: string): Promise<{ names: string[]; sizes: number[] }> => {
    const names: string[] = [];
    const sizes: number[] = [];
    let token: string | undefined;
    do {
      const page = await get(`${query}${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`);
      names.push(...page.users.map((u) => u.username));
      sizes.push(page.users.length);
      token = page.continuationToken;
    } while (token);
    return { names, sizes };
  };

  const sorted = (users: StoredUser[]): string[] => users.map((u) => u.username).sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));

  it('pages every directory\'s users and local accounts in case-insensitive username order, 100 by default', async () => {
    const { alpha, beta, local } = await directories();
    const first = await get('');
    expect(first.users).toHaveLength(100);
    expect(first.continuationToken).toEqual(expect.any(String));
    expect(first.users.some((u) => 'passwordHash' in u)).toBe(false);

    const everyone = sorted([...alpha, ...beta, ...local]);
    expect(await all('?limit=100')).toEqual({ names: everyone, sizes: [100, 100, 50] });
    expect(await all('?limit=1000')).toEqual({ names: everyone, sizes: [250] });
    expect((await all('?limit=60')).names).toEqual(everyone);
  });

  it('filters by connection, status and q (a case-insensitive substring of username, email, first or last name)', async () => {
    const { alpha, beta } = await directories();
    expect((await all('?connection=Alpha&limit=50')).names).toEqual(sorted(alpha));
    expect((await all('?connection=Beta&status=disabled')).names).toEqual(sorted(beta.filter((u) => u.status === 'disabled')));
    expect((await all('?status=blocked')).names).toEqual([]);

    const { t } = server;
    const betaKey = beta[0]!.directoryKey;
    await addUsers(t, [
      storedUser(betaKey, 'Beta', 'jsmith', { firstName: 'Jane', lastName: 'Smith' }),
      storedUser(betaKey, 'Beta', 'kjones', { email: 'k.jones@Smithfield.example', lastName: 'Jones' }),
      storedUser(betaKey, 'Beta', 'msmithers', { status: 'disabled' }),
      storedUser(betaKey, 'Beta', 'jsolo', { firstName: 'Smi' }),
    ]);
    expect((await all('?q=SMITH')).names).toEqual(['jsmith', 'kjones', 'msmithers']);
    expect((await all('?q=smith&status=active&connection=Beta')).names).toEqual(['jsmith', 'kjones']);
    expect((await all('?q=smith&connection=Alpha')).names).toEqual([]);
  });

  it('a filter that matches few reads a bounded number of users per request: a page may end short, with a token', async () => {
    server = await startApiHost();
    const { t } = server;
    await putProfile(t, csvProfile('Big', 'big.csv'));
    const key = (await t.app.deps.connections.get('Big'))!.directoryKey;
    const crowd = Array.from({ length: USERS_EXAMINED_PER_PAGE + 200 }, (_, i) => storedUser(key, 'Big', `m.${String(i).padStart(5, '0')}`));
    await addUsers(t, [...crowd, storedUser(key, 'Big', 'a.needle'), storedUser(key, 'Big', 'z.needle')]);

    const first = await get('?q=needle&limit=10');
    expect(first.users.map((u) => u.username)).toEqual(['a.needle']);
    expect(first.continuationToken).toEqual(expect.any(String));
    const second = await get(`?q=needle&limit=10&continuationToken=${encodeURIComponent(first.continuationToken!)}`);
    expect(second).toEqual({ users: [expect.objectContaining({ username: 'z.needle' })] });
  });

  it('refuses a limit outside 1–1000, an unknown status and a token it did not hand out (400 naming each)', async () => {
    server = await startApiHost();
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=ten', 'limit'],
      ['status=gone', 'status'],
      ['continuationToken=not-a-token', 'continuationToken'],
      ['connection=Alpha&connection=Beta', 'connection'],
    ]) {
      const response = await server.api(`users?${query}`);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 'query-invalid', problems: [{ field }] });
    }
    expect(await (await server.api('users?connection=Nobody')).json()).toMatchObject({ code: 'connection-not-found' });
  });
});
