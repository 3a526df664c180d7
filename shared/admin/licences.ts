import { z } from 'zod';
import type { SyncDependencies } from '../sync/dependencies.js';
import { ADMIN, defineOperation, READER } from './operation.js';

/** Licences in use (active users of every directory and local accounts) against USERSYNC_LICENCE_LIMIT. */

interface LicenceTally {
  /** Active users counted in the Users table (what the ledger's `used` should say). */
  active: number;
  byConnection: { connection: string; active: number; blocked: number }[];
  /** Users waiting for a licence, oldest first: the order a run of their profile activates them in. */
  blocked: { username: string; connection: string; since: string }[];
}

/**
 * Counts from the users themselves: one scan of the Users table (every partition, O(users): seconds for
 * 100,000 users in Azure) — fine for an admin's look, not for a hot path. Every profile is listed, with
 * no users too; local accounts under `local`.
 */
async function tally(deps: SyncDependencies): Promise<LicenceTally> {
  const counts = new Map<string, { active: number; blocked: number }>();
  for (const { profile } of await deps.connections.list()) counts.set(profile.name, { active: 0, blocked: 0 });
  const waiting: { username: string; connection: string; createdAt: string; key: string }[] = [];
  let active = 0;
  for await (const user of deps.users.list()) {
    if (user.status === 'disabled') continue;
    const of = counts.get(user.connection) ?? { active: 0, blocked: 0 };
    counts.set(user.connection, of);
    of[user.status]++;
    if (user.status === 'active') active++;
    else waiting.push({ username: user.username, connection: user.connection, createdAt: user.createdAt, key: user.key });
  }
  // As finalise's activateBlocked orders them: by creation, then key.
  waiting.sort((a, b) => (a.createdAt === b.createdAt ? (a.key < b.key ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
  return {
    active,
    byConnection: [...counts].map(([connection, of]) => ({ connection, ...of })).sort((a, b) => a.connection.localeCompare(b.connection)),
    blocked: waiting.map(({ username, connection, createdAt }) => ({ username, connection, since: createdAt })),
  };
}

async function licenceView(deps: SyncDependencies, { byConnection, blocked }: LicenceTally) {
  const { licences } = deps;
  return { used: await licences.used(), ...(licences.limit !== undefined ? { limit: licences.limit } : {}), byConnection, blocked };
}

export const licenceOperations = {
  /** `used` is the ledger's count (what the sync hands licences out by); `byConnection` counts the users. */
  'licences.show': defineOperation({
    role: READER,
    input: z.strictObject({}),
    http: { method: 'GET', path: 'licences' },
    run: async ({ deps }) => licenceView(deps, await tally(deps)),
  }),

  /** The sync keeps the ledger exact; a recount repairs it after the tables were edited by hand. */
  'licences.recount': defineOperation({
    role: ADMIN,
    input: z.strictObject({}),
    http: { method: 'POST', path: 'licences/recount' },
    run: async ({ deps }) => {
      const counted = await tally(deps);
      await deps.licences.reset(counted.active);
      return licenceView(deps, counted);
    },
  }),
};
