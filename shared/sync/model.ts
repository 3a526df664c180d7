/**
 * The words of the sync, shared by every directory type: what a source hands us (entries), what we keep
 * (stored users), and what reconciling one against the other decides (actions).
 */

/** Why a source entry was not applied. Stable codes: they appear in audit records and scripts. */
export type SkipReason =
  | 'missing-username'
  | 'missing-first-name'
  | 'missing-last-name'
  | 'missing-email'
  | 'invalid-email'
  | 'missing-match-value'
  | 'missing-password'
  | 'duplicate-match-value'
  | 'inactive-in-source'
  | 'column-count'
  | 'malformed-row';

/** A user as the directory describes it, already mapped to our field names. */
export interface SourceUser {
  username?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  /** Whether the directory says the account is usable. */
  active: boolean;
  /** Directory-controlled attributes beyond the standard fields (department, jobTitle…). */
  attributes: Record<string, string>;
  /** The manager's username as the source gives it. */
  manager?: string;
  /** Only for directories that carry passwords (CSV). Used when the account is created, never stored in clear. */
  password?: string;
}

/** One item of a source page: a user, or a record we could not read, with where it was. */
export type SourceEntry =
  | { kind: 'user'; key: string; ref: string; user: SourceUser }
  | { kind: 'invalid'; key?: string; ref: string; reason: SkipReason; detail: string };

export type UserStatus = 'active' | 'disabled';

/** A directory user as kept in the Users table. */
export interface StoredUser {
  directoryKey: string;
  /** The source's stable identity (the match value, lower-cased, for CSV). */
  key: string;
  connection: string;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  status: UserStatus;
  attributes: Record<string, string>;
  manager?: string;
  /** Field names the directory controls: an admin may not edit them in the intranet. */
  directoryControlled: string[];
  /** Digest of the mapped source record: an unchanged re-sync compares this and writes nothing. */
  sourceHash: string;
  /** scrypt hash of the initial password (CSV only). */
  passwordHash?: string;
  /** Where the user was last read (e.g. "row 12"). */
  sourceRef: string;
  createdAt: string;
  updatedAt: string;
  /** Why the user is disabled, when disabled. */
  disabledReason?: string;
}

export type ActionKind = 'create' | 'update' | 'disable' | 're-enable' | 'skip';

/** What reconciling one entry (or one missing user) decided. `unchanged` is counted, not audited. */
export type Decision =
  | { action: 'unchanged'; key: string }
  | { action: 'create' | 'update' | 're-enable' | 'disable'; key: string; ref: string; user: StoredUser; changedFields: string[]; reason?: string }
  | { action: 'skip'; key?: string; ref: string; reason: SkipReason; detail: string };

export const COUNTED_ACTIONS = ['created', 'updated', 'unchanged', 'disabled', 're-enabled', 'skipped'] as const;
export type CountedAction = (typeof COUNTED_ACTIONS)[number];
export type ActionCounts = Record<CountedAction, number>;

export function emptyCounts(): ActionCounts {
  return { created: 0, updated: 0, unchanged: 0, disabled: 0, 're-enabled': 0, skipped: 0 };
}

export function addCounts(into: ActionCounts, from: Partial<ActionCounts>): ActionCounts {
  for (const action of COUNTED_ACTIONS) into[action] += from[action] ?? 0;
  return into;
}

/** The past-tense name a decision is counted and audited under. */
export function countedAs(decision: Decision): CountedAction {
  switch (decision.action) {
    case 'create':
      return 'created';
    case 'update':
      return 'updated';
    case 'unchanged':
      return 'unchanged';
    case 'disable':
      return 'disabled';
    case 're-enable':
      return 're-enabled';
    case 'skip':
      return 'skipped';
  }
}
