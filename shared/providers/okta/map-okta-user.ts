import type { OktaProfile } from '../../connections/profile.js';
import type { SourceEntry } from '../../sync/model.js';
import { text, userEntry } from '../user-record.js';

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
  const { profile: record } = user;
  return userEntry(
    user.id,
    ref,
    {
      username: record[profile.usernameAttribute],
      email: record.email,
      firstName: record.firstName,
      lastName: record.lastName,
      manager: profile.orgChart ? (text(record.managerId) ?? record.manager) : undefined,
      active: (OKTA_ACTIVE_STATUSES as readonly string[]).includes(user.status),
    },
    record,
    profile.attributeMap,
  );
}
