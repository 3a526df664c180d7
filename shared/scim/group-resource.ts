import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import type { PushedGroup, PushedGroupInput } from '../sync/push/pushed-directory.js';

export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const groupSchema = z.looseObject({
  displayName: z.string().trim().min(1, 'displayName is required'),
  externalId: z.string().nullish(),
  members: z.array(z.looseObject({ value: z.string().min(1) })).nullish(),
});

/** A SCIM Group as a client sends it (POST, PUT, a PATCHed group): its name and, when it lists them, its members' ids. */
export function groupInputOf(resource: unknown): { input: PushedGroupInput; members?: string[] } {
  const parsed = groupSchema.safeParse(resource);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('scim-value-invalid', `The Group's ${issue.path.join('.') || 'body'} is not valid: ${issue.message}.`);
  }
  const { displayName, externalId, members } = parsed.data;
  return {
    input: { displayName, ...(externalId ? { externalId } : {}) },
    ...(members ? { members: [...new Set(members.map((member) => member.value))] } : {}),
  };
}

/** Our group as a SCIM Group; `members` only when they were read (Entra asks for groups without them). */
export function scimGroupOf(group: PushedGroup, location: string, usersUrl: string): Record<string, unknown> {
  return {
    schemas: [GROUP_SCHEMA],
    id: group.id,
    ...(group.externalId ? { externalId: group.externalId } : {}),
    displayName: group.displayName,
    ...(group.members ? { members: group.members.map((id) => ({ value: id, type: 'User', $ref: `${usersUrl}/${encodeURIComponent(id)}` })) } : {}),
    meta: { resourceType: 'Group', location, version: group.version },
  };
}
