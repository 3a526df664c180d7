import type { EntraProfile } from '../../connections/profile.js';
import type { SourceEntry } from '../../sync/model.js';
import { userEntry } from '../user-record.js';

/** The fields of a Graph user we read; `$select` asks for exactly these. */
export type GraphUser = { id: string } & Record<string, unknown>;

const ALWAYS = ['id', 'userPrincipalName', 'mail', 'givenName', 'surname', 'accountEnabled', 'userType'];

/** The `$select` list for a profile: the basics, the username attribute and every mapped property. */
export function userSelect(profile: EntraProfile): string[] {
  return [...new Set([...ALWAYS, profile.usernameAttribute, ...Object.keys(profile.attributeMap)])];
}

/**
 * A Graph user as a source entry (pure). Guests are left out unless the profile includes them; a
 * disabled account (`accountEnabled: false`) is an inactive user; a missing mail address is left to
 * decide() to report (`missing-email`).
 */
export function mapGraphUser(profile: EntraProfile, user: GraphUser, ref: string): SourceEntry | undefined {
  if (user.userType === 'Guest' && profile.guests === 'exclude') return undefined;
  return userEntry(
    user.id,
    ref,
    { username: user[profile.usernameAttribute], email: user.mail, firstName: user.givenName, lastName: user.surname, active: user.accountEnabled !== false },
    user,
    profile.attributeMap,
  );
}
