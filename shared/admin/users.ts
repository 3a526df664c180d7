import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import type { StoredUser } from '../sync/model.js';
import { existingConnection } from './connections.js';
import { pageLimit, segment, text } from './fields.js';
import { defineOperation, READER } from './operation.js';
import { listUsersPage } from './user-listing.js';

/** Users of every directory and local accounts: a page of them, one, and a user's place in the org chart. */

/** A user as the surfaces show it: never the password hash. */
export function visibleUser(user: StoredUser): Omit<StoredUser, 'passwordHash'> {
  const { passwordHash: _hash, ...visible } = user;
  return visible;
}

export async function existingUser(deps: SyncDependencies, username: string): Promise<StoredUser> {
  const owner = await deps.usernames.find(username);
  const user = owner ? await deps.users.get(owner.directoryKey, owner.key) : undefined;
  if (!user) throw new AppError('user-not-found', `There is no user "${username}".`);
  return user;
}

interface OrgChartView {
  user: StoredUser;
  /** Managers from the user's own up to the top. */
  chain: StoredUser[];
  /** The chain came back to someone already in it: a management cycle in the directory. */
  loops: boolean;
  reports: StoredUser[];
}

/** A user's place in the org chart: the managers above (stopping at a cycle) and the direct reports. */
async function orgChartOf(deps: SyncDependencies, username: string): Promise<OrgChartView> {
  const user = await existingUser(deps, username);
  const chain: StoredUser[] = [];
  const seen = new Set([user.key]);
  let loops = false;
  for (let key = user.managerKey; key !== undefined; ) {
    if (seen.has(key)) {
      loops = true;
      break;
    }
    seen.add(key);
    const manager = await deps.users.get(user.directoryKey, key);
    if (!manager) break;
    chain.push(manager);
    key = manager.managerKey;
  }
  const reports: StoredUser[] = [];
  for await (const candidate of deps.users.list(user.directoryKey)) if (candidate.managerKey === user.key) reports.push(candidate);
  reports.sort((a, b) => a.username.localeCompare(b.username));
  return { user, chain, loops, reports };
}

/** The filters of the users listing and its export: one profile's users, a status, a text. */
export const userFilters = {
  connection: text.optional(),
  status: z.enum(['active', 'disabled', 'blocked'], { error: 'must be active, disabled or blocked' }).optional(),
  q: text.optional(),
};

/** The directory key of the profile a filter names (404 for none), or undefined: every directory. */
export async function directoryKeyOf(deps: SyncDependencies, connection: string | undefined): Promise<string | undefined> {
  return connection === undefined ? undefined : (await existingConnection(deps, connection)).directoryKey;
}

export const userOperations = {
  /**
   * A page of users in username order (see user-listing.ts); follow `continuationToken` until it is absent.
   * `format=csv` is the export (user-export.ts), on the same route.
   */
  'users.query': defineOperation({
    role: READER,
    input: z.strictObject({
      ...userFilters,
      limit: pageLimit.default(100),
      continuationToken: text.optional(),
      format: z.literal('json', { error: 'must be json or csv' }).optional(),
    }),
    http: { method: 'GET', path: 'users', query: ['connection', 'status', 'q', 'limit', 'continuationToken', 'format'] },
    run: async ({ deps }, { connection, format: _json, ...query }) => {
      const directoryKey = await directoryKeyOf(deps, connection);
      const page = await listUsersPage(deps, { ...query, ...(directoryKey ? { directoryKey } : {}) });
      return { ...page, users: page.users.map(visibleUser) };
    },
  }),

  'users.get': defineOperation({
    role: READER,
    input: z.strictObject({ username: segment }),
    http: { method: 'GET', path: 'users/:username' },
    run: async ({ deps }, { username }) => visibleUser(await existingUser(deps, username)),
  }),

  'users.orgChart': defineOperation({
    role: READER,
    input: z.strictObject({ username: segment }),
    http: { method: 'GET', path: 'orgchart/:username' },
    run: async ({ deps }, { username }) => {
      const view = await orgChartOf(deps, username);
      return { user: visibleUser(view.user), managers: view.chain.map(visibleUser), loops: view.loops, directReports: view.reports.map(visibleUser) };
    },
  }),
};
