import { redact } from '../../errors/redact.js';
import type { FieldChange, StoredUser, UserStatus } from '../model.js';
import { sameGroups } from './groups.js';

/**
 * What changed in a user, field by field, old → new: the audit trail's answer to "why does this user look
 * like this". Values are for reading, not restoring: clipped, with anything shaped like a credential
 * redacted, and none at all for a field whose name says it holds a secret. Passwords are never compared
 * (a password only seeds a new account; its hash is not a directory field).
 */

/** A longer value is clipped: a record must fit a table row whatever the directory sends. */
export const MAX_CHANGE_VALUE_LENGTH = 200;
/** At most this many changes carry values; `changedFields` still names every changed field. */
export const MAX_CHANGES = 50;

/** A field (an attribute a directory maps, a CSV column) whose name says it holds a secret: its values are withheld. */
const SECRET_NAME = /pass|pwd|secret|token|credential|hash|(^|[^a-z])pin([^a-z]|$)/i;

const STANDARD_FIELDS = ['username', 'email', 'firstName', 'lastName', 'manager'] as const;

/** The fields `target` changes in `stored`: their names (every one), and old → new for the first MAX_CHANGES. */
export function compareUsers(stored: StoredUser, target: StoredUser): { changedFields: string[]; changes: FieldChange[] } {
  const changes: { field: string; from: string | undefined; to: string | undefined }[] = [];
  for (const field of STANDARD_FIELDS) {
    if ((stored[field] ?? '') !== (target[field] ?? '')) changes.push({ field, from: stored[field], to: target[field] });
  }
  if (!sameGroups(stored.groups, target.groups)) changes.push({ field: 'groups', from: listOf(stored.groups), to: listOf(target.groups) });
  if (!sameGroups(stored.localGroups, target.localGroups)) {
    changes.push({ field: 'localGroups', from: listOf(stored.localGroups), to: listOf(target.localGroups) });
  }
  const names = new Set([...Object.keys(stored.attributes), ...Object.keys(target.attributes)]);
  for (const name of [...names].sort()) {
    if (stored.attributes[name] !== target.attributes[name]) changes.push({ field: name, from: stored.attributes[name], to: target.attributes[name] });
  }
  return {
    changedFields: changes.map((change) => change.field),
    changes: changes.slice(0, MAX_CHANGES).map(({ field, from, to }) => fieldChange(field, from, to)),
  };
}

export function statusChange(from: UserStatus, to: UserStatus): FieldChange {
  return { field: 'status', from, to };
}

/** One change as recorded. An empty value is recorded as absent. */
export function fieldChange(field: string, from: string | undefined, to: string | undefined): FieldChange {
  if (SECRET_NAME.test(field)) return { field, withheld: true };
  return { field, ...(from ? { from: shown(from) } : {}), ...(to ? { to: shown(to) } : {}) };
}

function shown(value: string): string {
  const safe = redact(value);
  if (safe.length <= MAX_CHANGE_VALUE_LENGTH) return safe;
  // By code point, so a clipped value never ends in half a surrogate pair.
  return `${[...safe].slice(0, MAX_CHANGE_VALUE_LENGTH - 1).join('')}…`;
}

/** A list of names as one value, in the order kept (`Sales; Staff`). */
function listOf(names: readonly string[] | undefined): string | undefined {
  return names?.length ? names.join('; ') : undefined;
}
