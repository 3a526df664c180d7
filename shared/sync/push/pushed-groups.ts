import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { AppError } from '../../errors/app-error.js';
import type { SourceUser, StoredUser } from '../model.js';
import { auditGroupsCreated } from '../pipeline/apply-decisions.js';
import type { Group } from '../ports.js';
import type { PushedGroup, PushedGroupInput } from './pushed-directory.js';
import { changeUser, sourceOf, versionOf, type PushRequest, type PushTarget } from './pushed-users.js';

/**
 * Pushed groups are intranet groups (the Groups table) whose origin is the `scim` connection; the row of
 * the group's current name holds its id. Memberships stay on the user rows, as every directory keeps them:
 * a member added or removed is that user's change, through the one user path (one audit record per user).
 * Nothing is deleted: a renamed group's old row stays (without the id), a deleted group loses its members
 * and its id, and stays.
 */

export type GroupLookup = { by: 'id' | 'externalId' | 'displayName'; value: string };

export async function findGroupRow(target: PushTarget, lookup: GroupLookup): Promise<Group | undefined> {
  const ours = (group: Group | undefined) => (group?.origin === target.directoryKey && group.id !== undefined ? group : undefined);
  if (lookup.by === 'displayName') return ours(await target.deps.groups.get(lookup.value));
  const field = lookup.by === 'id' ? 'id' : 'externalId';
  return (await target.deps.groups.list()).find((group) => ours(group) && group[field] === lookup.value);
}

export async function groupRow(target: PushTarget, id: string): Promise<Group> {
  const group = await findGroupRow(target, { by: 'id', value: id });
  if (!group) throw new AppError('group-not-found', `"${target.profile.name}" has no group with the id "${id}".`);
  return group;
}

/** Each group's member ids (lower-cased name → sorted ids): one read of the connection's users. */
export async function membersByGroup(target: PushTarget): Promise<Map<string, string[]>> {
  const members = new Map<string, string[]>();
  for await (const user of target.deps.users.list(target.directoryKey)) {
    for (const name of user.groups ?? []) members.set(name.toLowerCase(), [...(members.get(name.toLowerCase()) ?? []), user.key]);
  }
  for (const ids of members.values()) ids.sort();
  return members;
}

export function pushedGroupOf(group: Group, members: readonly string[], options: { members: boolean }): PushedGroup {
  const { id, externalId, name } = group;
  return {
    id: id!,
    displayName: name,
    ...(externalId ? { externalId } : {}),
    ...(options.members ? { members: [...members] } : {}),
    version: versionOf({ id, name, externalId, members }),
  };
}

export async function createGroup(target: PushTarget, request: PushRequest, input: PushedGroupInput, members: readonly string[]): Promise<Group> {
  await checkMembers(target, members);
  const group = await claimGroupName(target, request, { name: input.displayName, id: randomUUID(), ...(input.externalId ? { externalId: input.externalId } : {}) });
  await changeMembers(target, request, group.name, { add: members });
  return group;
}

/** A new name, then members moved from the old one; the old row stays, without the id. */
export async function renameGroup(target: PushTarget, request: PushRequest, group: Group, input: PushedGroupInput, members: readonly string[]): Promise<Group> {
  if (input.externalId !== undefined && input.externalId !== group.externalId) {
    throw new AppError('mutability', `The externalId of the group "${group.name}" cannot change.`);
  }
  if (input.displayName === group.name) return group;
  const renamed = { ...group, name: input.displayName };
  if (input.displayName.toLowerCase() === group.name.toLowerCase()) await target.deps.groups.put(renamed);
  else {
    await claimGroupName(target, request, renamed);
    const { id: _id, externalId: _externalId, ...old } = group;
    await target.deps.groups.put(old);
  }
  await changeMembers(target, request, renamed.name, { add: members, leave: group.name });
  return renamed;
}

/** DELETE: every member leaves; the group stays as an intranet group, no longer the client's. */
export async function retireGroup(target: PushTarget, request: PushRequest, group: Group, members: readonly string[]): Promise<void> {
  await changeMembers(target, request, group.name, { remove: members });
  const { id: _id, externalId: _externalId, ...kept } = group;
  await target.deps.groups.put(kept);
}

/** Members must be users of this connection: anything else is named back. */
export async function checkMembers(target: PushTarget, ids: readonly string[]): Promise<void> {
  const limit = pLimit(8);
  const found = await Promise.all(ids.map((id) => limit(() => target.deps.users.get(target.directoryKey, id))));
  const unknown = ids.filter((_, index) => !found[index]);
  if (unknown.length) {
    throw new AppError('member-invalid', `${unknown.map((id) => `"${id}"`).join(', ')} ${unknown.length === 1 ? 'is not a user' : 'are not users'} of "${target.profile.name}": a group's members are users of its own connection.`, {
      details: { members: unknown },
    });
  }
}

/** Each member's groups change through the user path: `add` join `name` (leaving `leave`, a rename's old name), `remove` leave it. */
export async function changeMembers(
  target: PushTarget,
  request: PushRequest,
  name: string,
  change: { add?: readonly string[]; remove?: readonly string[]; leave?: string },
): Promise<void> {
  const limit = pLimit(8);
  const edit = (id: string, groupsOf: (groups: string[]) => string[]) =>
    limit(() =>
      changeUser(target, request, id, async (current) => {
        if (!current) return undefined;
        const before = current.user.groups ?? [];
        const after = groupsOf(before);
        if (sameNames(before, after)) return undefined;
        return { source: sourceOf(target, { user: sourceOfStored(current.user) }, current.user, after) };
      }),
    );
  const without = (groups: string[], names: string[]) => groups.filter((group) => !names.some((other) => other.toLowerCase() === group.toLowerCase()));
  await Promise.all([
    ...(change.add ?? []).map((id) => edit(id, (groups) => [...without(groups, [name, ...(change.leave ? [change.leave] : [])]), name])),
    ...(change.remove ?? []).map((id) => edit(id, (groups) => without(groups, [name]))),
  ]);
}

/** Creates the group row under its name (audited as a sync's new group), or takes over a row of this connection no group holds. */
async function claimGroupName(target: PushTarget, request: PushRequest, group: Omit<Group, 'origin' | 'connection' | 'createdAt'>): Promise<Group> {
  const { deps, directoryKey, profile } = target;
  const existing = await deps.groups.get(group.name);
  if (existing) {
    if (existing.origin !== directoryKey || existing.id !== undefined) {
      throw new AppError('group-exists', `A group named "${existing.name}" exists already (${existing.origin === directoryKey ? 'a group of this connection' : `made by "${existing.connection}"`}); group names are unique.`);
    }
    const adopted = { ...existing, ...group };
    await deps.groups.put(adopted);
    return adopted;
  }
  const row: Group = { ...group, origin: directoryKey, connection: profile.name, createdAt: request.stamp.at };
  // Created first, then audited: a push is never delivered again, so a record must only follow a creation that happened.
  if (!(await deps.groups.createIfAbsent(row))) throw new AppError('group-exists', `A group named "${group.name}" was created at the same moment; group names are unique.`);
  await auditGroupsCreated(deps, request.run, [group.name], request.stamp);
  return row;
}

/** What the directory said of a stored user, to decide it again with other groups. */
function sourceOfStored(user: StoredUser): SourceUser {
  return {
    username: user.username,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    active: user.status !== 'disabled',
    attributes: user.attributes,
    ...(user.manager ? { manager: user.manager } : {}),
  };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, index) => name === b[index]);
}
