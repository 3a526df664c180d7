import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import { actorName } from '../audit/audit-log.js';
import type { Group } from '../sync/ports.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import { LOCAL_DIRECTORY, type StoredUser } from '../sync/model.js';
import { MAX_FIELD_LENGTH } from '../sync/rules/decide.js';
import { controlCharacterIn } from '../sync/rules/values.js';
import { segment } from './fields.js';
import { adminOperation } from './audit.js';
import { ADMIN, defineOperation, READER, type Caller } from './operation.js';
import { existingUser, visibleUser } from './users.js';

/**
 * Local groups: made and filled by an admin. A directory user's membership of a local group lasts until
 * the next group-syncing run of its profile, unless that profile keeps local groups.
 */
export async function addLocalGroup(deps: SyncDependencies, name: string): Promise<Group> {
  const trimmed = name.trim();
  if (!trimmed) throw new AppError('body-invalid', 'A group needs a name.');
  // As for a synced group (decide.ts): a name a table key can hold, that prints as it reads.
  if (trimmed.length > MAX_FIELD_LENGTH) throw new AppError('body-invalid', `A group name is ${trimmed.length} characters long; at most ${MAX_FIELD_LENGTH} are kept.`);
  const control = controlCharacterIn(trimmed);
  if (control) throw new AppError('body-invalid', `A group name may not hold control characters (${control}).`);
  const group: Group = { name: trimmed, origin: LOCAL_DIRECTORY, connection: LOCAL_DIRECTORY, createdAt: deps.clock().toISOString() };
  if (!(await deps.groups.createIfAbsent(group))) throw new AppError('body-invalid', `A group named "${trimmed}" already exists.`);
  return group;
}

/** The local group of that name; a directory's group is refused (its directory owns it), naming what to do. */
async function localGroup(deps: SyncDependencies, groupName: string, instead: string): Promise<Group> {
  const group = await deps.groups.get(groupName);
  if (!group) throw new AppError('not-found', `There is no group "${groupName}".`);
  if (group.origin !== LOCAL_DIRECTORY) {
    throw new AppError('directory-owned', `"${group.name}" is synced from the directory "${group.connection}"; ${instead}.`, { details: { connection: group.connection } });
  }
  return group;
}

export async function addLocalGroupMember(deps: SyncDependencies, groupName: string, username: string): Promise<StoredUser> {
  const group = await localGroup(deps, groupName, 'change its members there');
  const user = await existingUser(deps, username);
  const localGroups = [...new Set([...(user.localGroups ?? []), group.name])];
  const updated = { ...user, localGroups, updatedAt: deps.clock().toISOString() };
  await deps.users.write([updated]);
  return updated;
}

/** Takes a user out of a local group; a user who is not in it is left as it is. */
async function removeLocalGroupMember(deps: SyncDependencies, groupName: string, username: string): Promise<StoredUser> {
  const group = await localGroup(deps, groupName, 'change its members there');
  const user = await existingUser(deps, username);
  const localGroups = withoutGroup(user.localGroups, group.name);
  if (localGroups.length === (user.localGroups ?? []).length) return user;
  const updated = { ...user, localGroups, updatedAt: deps.clock().toISOString() };
  await deps.users.write([updated]);
  return updated;
}

/**
 * Deletes a local group: its members leave it first (a scan of the users: an admin operation, not a
 * sync path), then the group goes, so a delete cut short is finished by asking again. Audited.
 */
async function deleteLocalGroup(deps: SyncDependencies, caller: Caller, groupName: string): Promise<{ name: string; deleted: true; membersRemoved: number }> {
  const group = await localGroup(deps, groupName, 'it stays while its directory has it (a sync never deletes groups)');
  const at = deps.clock().toISOString();
  const members: StoredUser[] = [];
  for await (const user of deps.users.list()) {
    const localGroups = withoutGroup(user.localGroups, group.name);
    if (localGroups.length !== (user.localGroups ?? []).length) members.push({ ...user, localGroups, updatedAt: at });
  }
  await deps.users.write(members);
  await deps.groups.delete(group.name);
  await deps.audit.write([
    {
      ...adminOperation(new Date(at), caller.actor),
      connection: LOCAL_DIRECTORY,
      action: 'group-deleted',
      subject: group.name.toLowerCase(),
      detail: `Local group "${group.name}" deleted by ${actorName(caller.actor)}; ${members.length} member(s) left it.`,
    },
  ]);
  return { name: group.name, deleted: true, membersRemoved: members.length };
}

function withoutGroup(groups: readonly string[] | undefined, name: string): string[] {
  return (groups ?? []).filter((group) => group.toLowerCase() !== name.toLowerCase());
}

/** Members of a group, directory and local memberships alike (a scan: an admin query, not a sync path). */
export async function groupMembers(deps: SyncDependencies, groupName: string): Promise<StoredUser[]> {
  const group = await deps.groups.get(groupName);
  if (!group) throw new AppError('not-found', `There is no group "${groupName}".`);
  const name = group.name.toLowerCase();
  const members: StoredUser[] = [];
  for await (const user of deps.users.list()) {
    if ([...(user.groups ?? []), ...(user.localGroups ?? [])].some((g) => g.toLowerCase() === name)) members.push(user);
  }
  return members.sort((a, b) => a.username.localeCompare(b.username));
}

export const groupOperations = {
  'groups.list': defineOperation({
    role: READER,
    input: z.strictObject({}),
    http: { method: 'GET', path: 'groups' },
    run: ({ deps }) => deps.groups.list(),
  }),

  'groups.members': defineOperation({
    role: READER,
    input: z.strictObject({ name: segment }),
    http: { method: 'GET', path: 'groups/:name/members' },
    run: async ({ deps }, { name }) => (await groupMembers(deps, name)).map(visibleUser),
  }),

  /** Creates a local group (directory groups are created by their sync). */
  'groups.add': defineOperation({
    role: ADMIN,
    input: z.strictObject({ name: z.string({ error: 'must be text' }) }),
    http: { method: 'POST', path: 'groups', body: 'fields', status: () => 201 },
    run: ({ deps }, { name }) => addLocalGroup(deps, name),
  }),

  /** Adds a user to a local group; adding a member again changes nothing. */
  'groups.addMember': defineOperation({
    role: ADMIN,
    input: z.strictObject({ name: segment, username: segment }),
    http: { method: 'PUT', path: 'groups/:name/members/:username' },
    run: async ({ deps }, { name, username }) => visibleUser(await addLocalGroupMember(deps, name, username)),
  }),

  /** Takes a user out of a local group; removing a non-member changes nothing. */
  'groups.removeMember': defineOperation({
    role: ADMIN,
    input: z.strictObject({ name: segment, username: segment }),
    http: { method: 'DELETE', path: 'groups/:name/members/:username' },
    run: async ({ deps }, { name, username }) => visibleUser(await removeLocalGroupMember(deps, name, username)),
  }),

  /** Deletes a local group (a directory's groups are its own). */
  'groups.delete': defineOperation({
    role: ADMIN,
    input: z.strictObject({ name: segment }),
    http: { method: 'DELETE', path: 'groups/:name' },
    run: ({ deps, caller }, { name }) => deleteLocalGroup(deps, caller, name),
  }),
};
