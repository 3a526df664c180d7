import type { StoredUser } from '../../shared/sync/model.js';
import type { TestApp } from './test-app.js';

/** A stored user as a sync would leave it (key = lower-cased username). */
export function storedUser(directoryKey: string, connection: string, username: string, extra: Partial<StoredUser> = {}): StoredUser {
  return {
    directoryKey,
    key: username.toLowerCase(),
    connection,
    username,
    email: `${username.toLowerCase()}@example.org`,
    firstName: 'First',
    lastName: 'Last',
    status: 'active',
    attributes: {},
    directoryControlled: ['username', 'email', 'firstName', 'lastName'],
    sourceHash: 'hash',
    sourceRef: 'row 2',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...extra,
  };
}

/**
 * Writes users and their username claims straight through the ports: quicker than a sync for many users,
 * and it can hold names a sync would refuse (to test how the API reaches them).
 */
export async function addUsers(t: TestApp, users: StoredUser[]): Promise<void> {
  await t.app.deps.users.write(users);
  await t.app.deps.usernames.claimMany(users.map(({ username, directoryKey, key, connection }) => ({ username, owner: { directoryKey, key, connection } })));
}
