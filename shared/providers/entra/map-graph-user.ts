import type { EntraProfile } from '../../connections/profile.js';
import type { SourceEntry } from '../../sync/model.js';

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
  const attributes: Record<string, string> = {};
  for (const [property, field] of Object.entries(profile.attributeMap)) {
    const value = text(user[property]);
    if (value && field) attributes[field] = value;
  }
  const username = text(user[profile.usernameAttribute]);
  const email = text(user.mail);
  const firstName = text(user.givenName);
  const lastName = text(user.surname);
  return {
    kind: 'user',
    key: user.id,
    ref,
    user: {
      ...(username ? { username } : {}),
      ...(email ? { email } : {}),
      ...(firstName ? { firstName } : {}),
      ...(lastName ? { lastName } : {}),
      active: user.accountEnabled !== false,
      attributes,
    },
  };
}

/** Graph values as text: strings trimmed, lists (businessPhones, proxyAddresses…) joined with "; ". */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.filter((item) => typeof item === 'string' && item).join('; ') || undefined;
  return undefined;
}
