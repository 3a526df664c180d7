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
  | 'malformed-row'
  /** A value longer than Table Storage can key or hold (see decide.ts): one row must not fail its shard. */
  | 'value-too-long'
  /** A control character (NUL, ESC…) or bidi override in a value: it would be stored and printed raw. */
  | 'control-characters'
  /** A username outside the allowed characters or length (see values.ts). */
  | 'username-invalid';

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
  /** Group names as the source lists them; absent when the source says nothing about groups. */
  groups?: string[];
  /**
   * From an incremental run: only what changed is known, so groups and the manager are the stored
   * ones (the next full run refreshes them).
   */
  partial?: boolean;
  /** Only for directories that carry passwords (CSV). Used when the account is created, never stored in clear. */
  password?: string;
}

/** One item of a source page: a user, or a record we could not read, with where it was. */
export type SourceEntry =
  | { kind: 'user'; key: string; ref: string; user: SourceUser }
  | { kind: 'invalid'; key?: string; ref: string; reason: SkipReason; detail: string }
  /** A directory that lists group members separately (Entra): user `key` is in `group`. */
  | { kind: 'membership'; key: string; ref: string; group: string }
  /** A directory that lists managers separately (Entra): user `key` reports to `manager` (a source key). */
  | { kind: 'manager'; key: string; ref: string; manager: string }
  /** An incremental run: user `key` is no longer in scope (deleted, or left the selected groups). */
  | { kind: 'absent'; key: string; ref: string; reason: 'removed-from-directory' | 'left-scope' };

/** Reasons a row is skipped for when it cannot be tied to a user with certainty (see isUnreadable). */
const UNREADABLE_REASONS: ReadonlySet<SkipReason> = new Set(['missing-match-value', 'column-count', 'malformed-row']);

/**
 * An entry that cannot be tied to a user with certainty: no match value, the wrong number of columns
 * (lines merged or split, the wrong delimiter) or a broken quote. While a run has any, it cannot tell
 * who is missing from the source, so it disables no one for that. The one definition every count uses.
 */
export function isUnreadable(entry: SourceEntry): entry is Extract<SourceEntry, { kind: 'invalid' }> {
  return entry.kind === 'invalid' && (entry.key === undefined || UNREADABLE_REASONS.has(entry.reason));
}

/** `blocked`: in scope, but created (or kept) without a licence; activated when one frees up. */
export type UserStatus = 'active' | 'disabled' | 'blocked';

/** The directory key of local accounts (created by an admin, never changed by sync). */
export const LOCAL_DIRECTORY = 'local';

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
  /** scrypt hash of the initial password (CSV), or of one an admin set (local accounts). */
  passwordHash?: string;
  /** The password is a one-time password an admin set: the intranet asks for a new one at the next sign-in. */
  mustChangePassword?: boolean;
  /** Where the user was last read (e.g. "row 12"). */
  sourceRef: string;
  createdAt: string;
  updatedAt: string;
  /** Why the user is disabled, when disabled. */
  disabledReason?: string;
  /** The manager's user (its key in the same directory), resolved by finalise from `manager`. */
  managerKey?: string;
  /** Directory groups, as the source lists them after the profile's group filter. */
  groups?: string[];
  /** Local (admin-managed) groups; removed by a group-syncing run unless the profile keeps them. */
  localGroups?: string[];
  /** Roles are managed in the intranet only: sync never changes them. */
  roles?: string[];
  /** A pushed (SCIM) user's id in the client, when it sent one on create: then also the user's key. Never changes. */
  externalId?: string;
}

/** Who holds a username, for conflict messages. */
export interface Holder {
  connection: string;
  local: boolean;
}

export type ActionKind = 'create' | 'update' | 'disable' | 're-enable' | 'skip';

/**
 * One changed field of a user, old → new, as the audit trail shows it: values clipped, absent when empty,
 * and `withheld` (no values) for a field whose name says it holds a secret. Never a password or its hash.
 */
export interface FieldChange {
  field: string;
  from?: string;
  to?: string;
  withheld?: true;
}

/** What reconciling one entry (or one missing user) decided. `unchanged` is counted, not audited. */
export type Decision =
  | { action: 'unchanged'; key: string }
  | {
      action: 'create' | 'update' | 're-enable' | 'disable' | 'activate';
      key: string;
      ref: string;
      user: StoredUser;
      changedFields: string[];
      /** The changed fields' old and new values (not for a create: its values are the new row). */
      changes?: FieldChange[];
      reason?: string;
      /** A renamed user's old username, released once the new one is written. */
      previousUsername?: string;
      /** Licences this decision takes (+1: the user becomes active) or frees (-1: an active user is disabled). */
      seat?: 1 | -1;
    }
  | { action: 'skip'; key?: string; ref: string; reason: SkipReason; detail: string }
  | { action: 'conflict'; key: string; ref: string; username: string; holder: Holder; reason: ConflictReason; detail: string };

export type ConflictReason = 'username-owned-by-local-account' | 'username-owned-by-directory';

export const COUNTED_ACTIONS = ['created', 'updated', 'unchanged', 'disabled', 're-enabled', 'blocked', 'activated', 'conflict', 'skipped'] as const;
export type CountedAction = (typeof COUNTED_ACTIONS)[number];
export type ActionCounts = Record<CountedAction, number>;

export function emptyCounts(): ActionCounts {
  return { created: 0, updated: 0, unchanged: 0, disabled: 0, 're-enabled': 0, blocked: 0, activated: 0, conflict: 0, skipped: 0 };
}

export function addCounts(into: ActionCounts, from: Partial<ActionCounts>): ActionCounts {
  for (const action of COUNTED_ACTIONS) into[action] += from[action] ?? 0;
  return into;
}

/** The past-tense name a decision is counted and audited under. */
export function countedAs(decision: Decision): CountedAction {
  // A user who would have become active but got no licence is counted (and audited) as blocked.
  if ((decision.action === 'create' || decision.action === 're-enable') && decision.user.status === 'blocked') return 'blocked';
  switch (decision.action) {
    case 'create':
      return 'created';
    case 'activate':
      return 'activated';
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
    case 'conflict':
      return 'conflict';
  }
}
