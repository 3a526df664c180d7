import type { OktaProfile } from '../../connections/profile.js';
import type { SourceEntry } from '../../sync/model.js';

/** A user as Okta's management API returns it (only what we read). */
export interface OktaUser {
  id: string;
  status: string;
  profile: Record<string, unknown>;
}

/**
 * Okta's lifecycle states as directory states. Users who can still be, or soon again be, themselves
 * stay active: a lockout or an expired password is Okta's business, not a reason to hide a colleague.
 * SUSPENDED and DEPROVISIONED accounts are disabled; STAGED and PROVISIONED ones are not active yet,
 * so they are not created (and an existing one is disabled until it is activated).
 */
export const OKTA_ACTIVE_STATUSES = ['ACTIVE', 'PASSWORD_EXPIRED', 'RECOVERY', 'LOCKED_OUT'] as const;

export function mapOktaUser(profile: OktaProfile, user: OktaUser, ref: string): SourceEntry {
  const attributes: Record<string, string> = {};
  for (const [attribute, field] of Object.entries(profile.attributeMap)) {
    const value = text(user.profile[attribute]);
    if (value && field) attributes[field] = value;
  }
  const username = text(user.profile[profile.usernameAttribute]);
  const email = text(user.profile.email);
  const firstName = text(user.profile.firstName);
  const lastName = text(user.profile.lastName);
  const manager = profile.orgChart ? (text(user.profile.managerId) ?? text(user.profile.manager)) : undefined;
  return {
    kind: 'user',
    key: user.id,
    ref,
    user: {
      ...(username ? { username } : {}),
      ...(email ? { email } : {}),
      ...(firstName ? { firstName } : {}),
      ...(lastName ? { lastName } : {}),
      active: (OKTA_ACTIVE_STATUSES as readonly string[]).includes(user.status),
      attributes,
      ...(manager ? { manager } : {}),
    },
  };
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.filter((item) => typeof item === 'string' && item).join('; ') || undefined;
  return undefined;
}
