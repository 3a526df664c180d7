import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import type { PushedUser, PushedUserInput } from '../sync/push/pushed-directory.js';
import { valueAt, withValueAt } from './attribute-paths.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** SCIM attribute (a path: `title`, `name.middleName`, `<schema URN>:department`) → directory attribute. */
export type AttributeMap = Readonly<Record<string, string>>;

/** The enterprise attributes every connection keeps, under these directory attribute names unless its map says otherwise. */
const DEFAULT_MAP: AttributeMap = {
  [`${ENTERPRISE_USER_SCHEMA}:employeeNumber`]: 'employeeNumber',
  [`${ENTERPRISE_USER_SCHEMA}:department`]: 'department',
};

/** Entra sends booleans as the strings "True" and "False" (its documented SCIM compliance issue). */
export const scimBoolean = z.union([z.boolean(), z.enum(['true', 'false', 'True', 'False', 'TRUE', 'FALSE']).transform((text) => text.toLowerCase() === 'true')]);

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const email = z.looseObject({ value: z.string().optional(), type: z.string().optional(), primary: scimBoolean.optional() });
/** Entra sends the manager as a bare id as often as `{ value }`; an empty value clears it. */
const manager = z.union([z.string(), z.looseObject({ value: z.string().nullish() }), z.null()]);

/** What we read of a SCIM User: the rest (id, meta, schemas, unmapped attributes) is the server's or ignored. */
const userSchema = z.looseObject({
  userName: z.string().trim().min(1, 'userName is required'),
  externalId: z.string().nullish(),
  name: z.looseObject({ givenName: z.string().nullish(), familyName: z.string().nullish() }).nullish(),
  emails: z.array(email).nullish(),
  active: scimBoolean.nullish(),
  [ENTERPRISE_USER_SCHEMA]: z.looseObject({ manager: manager.optional() }).nullish(),
});

/** A SCIM User resource as a client sends it (POST, PUT, or a PATCHed resource) → what the port takes. */
export function userInputOf(resource: unknown, attributeMap: AttributeMap): PushedUserInput {
  const parsed = userSchema.safeParse(resource);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('scim-value-invalid', `The User's ${issue.path.join('.') || 'body'} is not valid: ${issue.message}.`);
  }
  const user = parsed.data;
  const managerValue = user[ENTERPRISE_USER_SCHEMA]?.manager;
  const managerId = typeof managerValue === 'string' ? managerValue : managerValue?.value;
  const attributes: Record<string, string> = {};
  for (const [path, field] of Object.entries(mapOf(attributeMap))) {
    const value = scalar.safeParse(valueAt(resource as Record<string, unknown>, path));
    if (value.success) attributes[field] = String(value.data);
  }
  return {
    ...(user.externalId ? { externalId: user.externalId } : {}),
    user: {
      username: user.userName,
      ...optional('email', primaryEmail(user.emails ?? [])),
      ...optional('firstName', user.name?.givenName),
      ...optional('lastName', user.name?.familyName),
      active: user.active ?? true,
      attributes,
      ...optional('manager', managerId),
    },
  };
}

/** Our user as a SCIM User (core and enterprise schemas); `location` is the user's URL. */
export function scimUserOf(pushed: PushedUser, attributeMap: AttributeMap, location: string): Record<string, unknown> {
  const { user } = pushed;
  let resource: Record<string, unknown> = {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    id: pushed.id,
    ...(pushed.externalId ? { externalId: pushed.externalId } : {}),
    userName: user.username,
    name: { ...optional('givenName', user.firstName), ...optional('familyName', user.lastName) },
    displayName: [user.firstName, user.lastName].filter(Boolean).join(' ') || user.username,
    ...(user.email ? { emails: [{ value: user.email, type: 'work', primary: true }] } : {}),
    active: pushed.active,
    [ENTERPRISE_USER_SCHEMA]: user.managerKey ?? user.manager ? { manager: { value: user.managerKey ?? user.manager } } : {},
    meta: { resourceType: 'User', created: user.createdAt, lastModified: user.updatedAt, location, version: pushed.version },
  };
  for (const [path, field] of Object.entries(mapOf(attributeMap))) {
    const value = user.attributes[field];
    if (value !== undefined) resource = withValueAt(resource, path, value);
  }
  return resource;
}

function mapOf(attributeMap: AttributeMap): AttributeMap {
  return { ...DEFAULT_MAP, ...attributeMap };
}

/** The primary email, else the work one, else the first (RFC 7643 §4.1.2: at most one is primary). */
function primaryEmail(emails: readonly z.infer<typeof email>[]): string | undefined {
  return (emails.find((e) => e.primary === true) ?? emails.find((e) => e.type?.toLowerCase() === 'work') ?? emails[0])?.value;
}

function optional<K extends string>(key: K, value: string | null | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}
