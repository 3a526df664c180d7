import { z } from 'zod';
import type { EntraProfile } from '../../connections/profile.js';
import { GROUP_WALK_START, groupWalkSchema } from '../group-walk.js';

/**
 * Where the listing is: each page job reads one Graph page. Users first (transitive members of each
 * selected group, in turn), then — with group sync on — the groups and their members, then managers.
 */
export const cursorSchema = z.discriminatedUnion('phase', [
  /** `member`: the selected group's name when group sync keeps it, so its memberships come with its users. */
  z.object({ phase: z.literal('users'), group: z.number().int().min(0), next: z.string().optional(), member: z.string().optional() }),
  groupWalkSchema,
  /** `from`, `to`: a chain's range of userPrincipalName (graph-managers.ts); absent, every user. */
  z.object({ phase: z.literal('managers'), next: z.string().optional(), from: z.string().optional(), to: z.string().optional() }),
  /** An incremental run: the users delta's pages, then the groups delta's (for membership changes). */
  z.object({ phase: z.literal('changes'), next: z.string(), groups: z.string() }),
  z.object({ phase: z.literal('member-changes'), next: z.string(), users: z.string() }),
]);
export type Cursor = z.infer<typeof cursorSchema>;
export type PhaseCursor<P extends Cursor['phase']> = Extract<Cursor, { phase: P }>;

export function afterUsers(profile: EntraProfile): Cursor | null {
  return profile.groups.mode !== 'off' ? GROUP_WALK_START : afterGroups(profile);
}

export function afterGroups(profile: EntraProfile): Cursor | null {
  return profile.orgChart ? { phase: 'managers' } : null;
}
