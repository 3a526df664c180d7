import { z } from 'zod';
import type { ConnectionStore } from '../sync/ports.js';
import type { PushedDirectories } from '../sync/push/pushed-directory.js';
import type { ScimConnections } from './resource-request.js';

/** What the endpoint reads of a stored `scim` profile (its full schema is the connections module's). */
const scimProfile = z.looseObject({
  type: z.literal('scim'),
  tokenSecret: z.string().min(1),
  attributeMap: z.record(z.string(), z.string()).default({}),
});

/** The `scim` connections of the store, each with its pushed directory; a connection of another type is none. */
export function scimConnections(store: ConnectionStore, directories: PushedDirectories): ScimConnections {
  return async (name) => {
    const stored = await store.get(name);
    const profile = scimProfile.safeParse(stored?.profile);
    if (!profile.success) return undefined;
    return { tokenSecret: profile.data.tokenSecret, attributeMap: profile.data.attributeMap, open: () => directories(name) };
  };
}
