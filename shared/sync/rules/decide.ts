import { createHash } from 'node:crypto';
import { z } from 'zod';
import { compareUsers, statusChange } from './field-changes.js';
import { sameGroups } from './groups.js';
import type { Decision, Holder, SourceEntry, SourceUser, StoredUser } from '../model.js';
import { controlCharacterIn, USERNAME_RULE, usernameProblem } from './values.js';

/**
 * The decision for one user: (source entries for a key, stored user, context) → what to do.
 * Pure: no I/O, no clock, no randomness. Every directory type goes through here (one write path).
 */

export interface DecisionContext {
  directoryKey: string;
  connection: string;
  /** The run's timestamp, written into created/updated users. */
  now: string;
  /** Directories that carry passwords (CSV) need one to create an account. */
  requiresPassword: boolean;
  hasDefaultPassword: boolean;
  /** With group sync on, keep directory users' memberships of local groups (else they are removed). */
  keepLocalGroups: boolean;
}

export type Creation = Extract<Decision, { user: StoredUser }> & { action: 'create'; initialPassword?: 'row' | 'default' };
export type PlannedDecision = Decision | Creation;

const emailSchema = z.email();

/**
 * What one user may hold. A key becomes a Table row key (at most 1 KiB, and encodeKey may triple a
 * character), a field or group name a column or a Groups row key, and attributes and groups are JSON
 * columns (at most 32K characters each). A longer value would fail the writes of its whole shard.
 */
export const MAX_KEY_LENGTH = 256;
export const MAX_FIELD_LENGTH = 256;
export const MAX_JSON_LENGTH = 30_000;

/** Decides what one source key means for the stored user. Several entries for one key are duplicates. */
export function decideEntries(
  key: string,
  entries: readonly SourceEntry[],
  stored: StoredUser | undefined,
  context: DecisionContext,
): PlannedDecision[] {
  if (key.length > MAX_KEY_LENGTH) {
    // Without the key: the audit record is keyed by its subject, which falls back to the ref.
    return entries.map((entry) => ({
      action: 'skip',
      ref: entry.ref,
      reason: 'value-too-long',
      detail: `The match value is ${key.length} characters long; at most ${MAX_KEY_LENGTH} can identify a user.`,
    }));
  }
  const keyControl = controlCharacterIn(key);
  if (keyControl) {
    // Without the key, as above: the audit record's subject would print it.
    return entries.map((entry) => ({ action: 'skip', ref: entry.ref, reason: 'control-characters', detail: controlDetail('The match value', keyControl) }));
  }
  if (entries.length > 1) {
    const refs = entries.map((entry) => entry.ref).join(', ');
    return entries.map((entry) => ({
      action: 'skip',
      key,
      ref: entry.ref,
      reason: 'duplicate-match-value',
      detail: `The match value "${key}" appears ${entries.length} times (${refs}); every copy is skipped until the source is fixed.`,
    }));
  }
  const [entry] = entries;
  if (!entry) return [];
  if (entry.kind === 'invalid') return [decideInvalid(entry)];
  if (entry.kind === 'absent') {
    if (!stored || stored.status === 'disabled') return [];
    return [disableDecision(stored, { ref: entry.ref, reason: entry.reason, at: context.now })];
  }
  // Memberships and managers arrive folded into their user's entry (combineEntries).
  if (entry.kind !== 'user') return [];
  return [decideUser(key, entry.ref, entry.user, stored, context)];
}

/** A record the source could not read. Whoever it belonged to is left as they are. */
export function decideInvalid(entry: Extract<SourceEntry, { kind: 'invalid' }>): Decision {
  return {
    action: 'skip',
    ...(entry.key === undefined ? {} : { key: entry.key }),
    ref: entry.ref,
    reason: entry.reason,
    detail: entry.detail,
  };
}

/** A stored user absent from a complete listing of its directory: disabled, never deleted. */
export function decideMissing(stored: StoredUser, context: DecisionContext): Decision {
  if (stored.status === 'disabled') return { action: 'unchanged', key: stored.key };
  return disableDecision(stored, { ref: stored.sourceRef, reason: 'missing-from-source', at: context.now });
}

/**
 * Disables a user who is not disabled yet, for `reason` (kept on the row and in the audit record); an active
 * user's licence is freed. The one shape of a disable, whatever asked for it: a sync, a deleted connection.
 */
export function disableDecision(stored: StoredUser, options: { ref: string; reason: string; at: string }): Decision {
  return {
    action: 'disable',
    key: stored.key,
    ref: options.ref,
    user: { ...stored, status: 'disabled', updatedAt: options.at, disabledReason: options.reason },
    changedFields: ['status'],
    changes: [statusChange(stored.status, 'disabled')],
    reason: options.reason,
    ...(stored.status === 'active' ? { seat: -1 as const } : {}),
  };
}

function decideUser(
  key: string,
  ref: string,
  source: SourceUser,
  stored: StoredUser | undefined,
  context: DecisionContext,
): PlannedDecision {
  if (!source.active) {
    if (!stored) {
      return { action: 'skip', key, ref, reason: 'inactive-in-source', detail: 'The directory marks this account inactive; it is not created.' };
    }
    if (stored.status === 'disabled') return { action: 'unchanged', key };
    return disableDecision({ ...stored, sourceRef: ref }, { ref, reason: 'inactive-in-source', at: context.now });
  }

  const invalid = missingRequiredField(source);
  if (invalid) return { action: 'skip', key, ref, ...invalid };

  const target = targetUser(key, ref, source, stored, context);
  if (!stored) {
    const initialPassword = source.password ? 'row' : context.hasDefaultPassword ? 'default' : undefined;
    if (context.requiresPassword && !initialPassword) {
      return {
        action: 'skip',
        key,
        ref,
        reason: 'missing-password',
        detail: 'The row has no password and the profile names no default password, so the account cannot be created.',
      };
    }
    return {
      action: 'create',
      key,
      ref,
      user: target,
      changedFields: [...target.directoryControlled],
      seat: 1,
      ...(initialPassword ? { initialPassword } : {}),
    };
  }

  const { changedFields, changes } = compareUsers(stored, target);
  if (stored.status === 'disabled') {
    return { action: 're-enable', key, ref, user: target, changedFields: ['status', ...changedFields], changes: [statusChange('disabled', target.status), ...changes], seat: 1 };
  }
  if (stored.sourceHash === target.sourceHash && sameGroups(stored.localGroups, target.localGroups)) return { action: 'unchanged', key };
  return { action: 'update', key, ref, user: target, changedFields, changes };
}

function missingRequiredField(source: SourceUser): Pick<Extract<Decision, { action: 'skip' }>, 'reason' | 'detail'> | undefined {
  // First: the details below quote values, and an audit record cannot hold an unbounded one.
  const tooLong = tooLongField(source);
  if (tooLong) return { reason: 'value-too-long', detail: tooLong };
  const control = controlCharacterField(source);
  if (control) return { reason: 'control-characters', detail: control };
  if (!source.username) return { reason: 'missing-username', detail: 'The username is empty.' };
  const username = usernameProblem(source.username);
  if (username) return { reason: 'username-invalid', detail: `The username "${source.username}" ${username}. ${USERNAME_RULE}` };
  if (!source.firstName) return { reason: 'missing-first-name', detail: 'The first name is empty.' };
  if (!source.lastName) return { reason: 'missing-last-name', detail: 'The last name is empty.' };
  if (!source.email) return { reason: 'missing-email', detail: 'The email address is empty; an account needs a valid email address.' };
  if (!emailSchema.safeParse(source.email).success) {
    return { reason: 'invalid-email', detail: `"${source.email}" is not a valid email address.` };
  }
  return undefined;
}

function tooLongField(source: SourceUser): string | undefined {
  for (const field of ['username', 'email', 'firstName', 'lastName', 'manager'] as const) {
    const length = source[field]?.length ?? 0;
    if (length > MAX_FIELD_LENGTH) return `The ${field} is ${length} characters long; at most ${MAX_FIELD_LENGTH} are kept.`;
  }
  const longGroup = source.groups?.find((group) => group.length > MAX_FIELD_LENGTH);
  if (longGroup) return `A group name is ${longGroup.length} characters long; at most ${MAX_FIELD_LENGTH} are kept.`;
  if (JSON.stringify(source.attributes).length > MAX_JSON_LENGTH) return `The attributes take more than ${MAX_JSON_LENGTH} characters together.`;
  if (JSON.stringify(source.groups ?? []).length > MAX_JSON_LENGTH) return `The group names take more than ${MAX_JSON_LENGTH} characters together.`;
  return undefined;
}

/** Where a value holds a control character; only attribute values may hold tabs and line breaks. */
function controlCharacterField(source: SourceUser): string | undefined {
  for (const field of ['username', 'email', 'firstName', 'lastName', 'manager'] as const) {
    const found = controlCharacterIn(source[field] ?? '');
    if (found) return controlDetail(`The ${field}`, found);
  }
  for (const group of source.groups ?? []) {
    const found = controlCharacterIn(group);
    if (found) return controlDetail('A group name', found);
  }
  for (const [name, value] of Object.entries(source.attributes)) {
    const inName = controlCharacterIn(name);
    if (inName) return controlDetail('An attribute name', inName);
    const found = controlCharacterIn(value, { multiLine: true });
    if (found) return controlDetail(`The attribute "${name}"`, found);
  }
  return undefined;
}

function controlDetail(what: string, found: string): string {
  return `${what} contains the control character ${found}; a value with control characters or bidi overrides is not synced, as it would be stored and printed raw. Fix it in the source.`;
}

function targetUser(
  key: string,
  ref: string,
  source: SourceUser,
  stored: StoredUser | undefined,
  context: DecisionContext,
): StoredUser {
  const attributes = sortedRecord(source.attributes);
  const user: StoredUser = {
    directoryKey: context.directoryKey,
    key,
    connection: context.connection,
    username: source.username ?? '',
    email: source.email ?? '',
    firstName: source.firstName ?? '',
    lastName: source.lastName ?? '',
    // A blocked user stays blocked until finalise gives it a licence.
    status: stored?.status === 'blocked' ? 'blocked' : 'active',
    attributes,
    directoryControlled: [
      'username',
      'email',
      'firstName',
      'lastName',
      ...(source.manager ? ['manager'] : []),
      ...(source.groups ? ['groups'] : []),
      ...Object.keys(attributes),
    ],
    sourceHash: sourceHash(source),
    sourceRef: ref,
    createdAt: stored?.createdAt ?? context.now,
    updatedAt: context.now,
  };
  if (source.manager) user.manager = source.manager;
  // What the sync does not own carries over: the password, roles, and the link finalise resolves.
  if (stored?.passwordHash) user.passwordHash = stored.passwordHash;
  if (stored?.roles) user.roles = stored.roles;
  if (stored?.externalId) user.externalId = stored.externalId;
  if (stored?.managerKey && source.manager) user.managerKey = stored.managerKey;
  // Group sync on: directory groups follow the source; local groups go unless the profile keeps them.
  // Group sync off: memberships stay as they are.
  const groups = source.groups ?? stored?.groups;
  if (groups?.length) user.groups = groups;
  const keepLocal = source.groups === undefined || context.keepLocalGroups;
  if (keepLocal && stored?.localGroups?.length) user.localGroups = stored.localGroups;
  return user;
}

/** A user whose username another directory or a local account already holds: not applied, reported. */
export function conflictOf(decision: { key: string; ref: string; user: StoredUser }, holder: Holder, connection: string): Decision {
  const { username } = decision.user;
  return holder.local
    ? {
        action: 'conflict',
        key: decision.key,
        ref: decision.ref,
        username,
        holder,
        reason: 'username-owned-by-local-account',
        detail: `The username "${username}" belongs to a local account; adopt it into this directory (usersync adopt "${connection}") or rename one of them.`,
      }
    : {
        action: 'conflict',
        key: decision.key,
        ref: decision.ref,
        username,
        holder,
        reason: 'username-owned-by-directory',
        detail: `The username "${username}" already belongs to a user of the directory "${holder.connection}"; usernames are unique across all directories.`,
      };
}

/** Digest of everything we copy from the source (not the password: it only seeds new accounts). */
export function sourceHash(source: SourceUser): string {
  const canonical = JSON.stringify([
    source.username ?? '',
    source.email ?? '',
    source.firstName ?? '',
    source.lastName ?? '',
    source.active,
    source.manager ?? '',
    Object.entries(sortedRecord(source.attributes)),
    // Only with group sync on, so profiles without it keep the same digests.
    ...(source.groups ? [source.groups] : []),
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 32);
}

function sortedRecord(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
