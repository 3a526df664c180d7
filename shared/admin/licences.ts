import { z } from 'zod';
import type { SyncDependencies } from '../sync/dependencies.js';
import { ADMIN, defineOperation, READER } from './operation.js';

/** Licences in use (active users of every directory and local accounts) against USERSYNC_LICENCE_LIMIT. */

async function licenceView({ licences }: SyncDependencies) {
  return { used: await licences.used(), ...(licences.limit !== undefined ? { limit: licences.limit } : {}) };
}

export const licenceOperations = {
  'licences.show': defineOperation({
    role: READER,
    input: z.strictObject({}),
    http: { method: 'GET', path: 'licences' },
    run: ({ deps }) => licenceView(deps),
  }),

  /** The sync keeps the ledger exact; a recount repairs it after the tables were edited by hand. */
  'licences.recount': defineOperation({
    role: ADMIN,
    input: z.strictObject({}),
    http: { method: 'POST', path: 'licences/recount' },
    run: async ({ deps }) => {
      let active = 0;
      for await (const user of deps.users.list()) if (user.status === 'active') active++;
      await deps.licences.reset(active);
      return licenceView(deps);
    },
  }),
};
