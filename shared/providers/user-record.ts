import type { SourceEntry, SourceUser } from '../sync/model.js';

/**
 * Turning a directory's user record (Graph, Okta) into a source entry: the same for every API-based
 * directory — values as trimmed text, the profile's attribute map, empty values left out.
 */

/** A value as text: strings trimmed, numbers and booleans as written, lists joined with "; ". */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.filter((item) => typeof item === 'string' && item).join('; ') || undefined;
  return undefined;
}

export interface RecordFields {
  username: unknown;
  email: unknown;
  firstName: unknown;
  lastName: unknown;
  manager?: unknown;
  active: boolean;
}

/** A user entry from a record: the standard fields, and every mapped attribute that has a value. */
export function userEntry(
  key: string,
  ref: string,
  fields: RecordFields,
  record: Record<string, unknown>,
  attributeMap: Partial<Record<string, string>>,
): SourceEntry {
  const attributes: Record<string, string> = {};
  for (const [name, field] of Object.entries(attributeMap)) {
    const value = text(record[name]);
    if (value && field) attributes[field] = value;
  }
  const user: SourceUser = { active: fields.active, attributes };
  const username = text(fields.username);
  const email = text(fields.email);
  const firstName = text(fields.firstName);
  const lastName = text(fields.lastName);
  const manager = text(fields.manager);
  if (username) user.username = username;
  if (email) user.email = email;
  if (firstName) user.firstName = firstName;
  if (lastName) user.lastName = lastName;
  if (manager) user.manager = manager;
  return { kind: 'user', key, ref, user };
}
