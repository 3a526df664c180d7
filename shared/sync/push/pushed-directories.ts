import { usableConnection } from '../../connections/usable-connection.js';
import { AppError } from '../../errors/app-error.js';
import type { SyncDependencies } from '../dependencies.js';
import type { PushedDirectories, PushedDirectory, PushedGroup, PushedGroupInput, PushedUser, PushedUserInput, UserLookup } from './pushed-directory.js';
import { changeMembers, checkMembers, createGroup, findGroupRow, groupRow, membersByGroup, pushedGroupOf, renameGroup, retireGroup, type GroupLookup } from './pushed-groups.js';
import { changeUser, newUserId, notFound, pushedUserOf, pushRequest, sourceOf, type PushTarget } from './pushed-users.js';

/**
 * The pushed directory of a `scim` connection, by name: `connection-not-found` when there is no such
 * connection or it is not a `scim` one, `connection-disabled` while its profile is disabled (and
 * `profile-invalid` while it breaks a rule added since it was saved, as for a run). Read per request,
 * so a profile saved meanwhile (a new attribute map, group settings) applies to the next request.
 */
export function pushedDirectories(deps: SyncDependencies): PushedDirectories {
  return async (name) => {
    const connection = await usableConnection(deps, name);
    const { profile } = connection;
    if (profile.type !== 'scim') throw new AppError('connection-not-found', `There is no SCIM connection named "${name}" ("${profile.name}" is a ${profile.type} connection).`);
    if (!profile.enabled) throw new AppError('connection-disabled', `The connection "${profile.name}" is disabled; enable it to take changes from its provider.`);
    return new Directory({ deps, profile, directoryKey: connection.directoryKey });
  };
}

class Directory implements PushedDirectory {
  readonly connection: string;
  constructor(private readonly target: PushTarget) {
    this.connection = target.profile.name;
  }

  async createUser(input: PushedUserInput): Promise<PushedUser> {
    const id = newUserId(input);
    return (await changeUser(this.target, pushRequest(this.target), id, async (current) => {
      if (current) throw new AppError('user-exists', `"${this.connection}" already has a user with the id "${id}".`, { details: { id } });
      return { source: sourceOf(this.target, input, undefined), ...(input.externalId === undefined ? {} : { externalId: input.externalId }) };
    }))!;
  }

  async getUser(id: string): Promise<PushedUser | undefined> {
    const user = await this.target.deps.users.get(this.target.directoryKey, id);
    return user && pushedUserOf(user);
  }

  async findUser(lookup: UserLookup): Promise<PushedUser | undefined> {
    if (lookup.by === 'id') return this.getUser(lookup.value);
    // A user the client created with an externalId has it as its id.
    if (lookup.by === 'externalId') return this.getUser(lookup.value).then((user) => (user?.externalId === lookup.value ? user : undefined));
    const holder = await this.target.deps.usernames.find(lookup.value);
    return holder?.directoryKey === this.target.directoryKey ? this.getUser(holder.key) : undefined;
  }

  async *listUsers(): AsyncIterable<PushedUser> {
    const users = [];
    for await (const user of this.target.deps.users.list(this.target.directoryKey)) users.push(user);
    users.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const user of users) yield pushedUserOf(user);
  }

  replaceUser(id: string, input: PushedUserInput): Promise<PushedUser> {
    return this.updateUser(id, () => input);
  }

  async updateUser(id: string, change: (current: PushedUser) => PushedUserInput): Promise<PushedUser> {
    return (await changeUser(this.target, pushRequest(this.target), id, async (current) => {
      if (!current) throw notFound(this.target, id);
      const input = change(pushedUserOf(current.user));
      if (input.externalId !== undefined && input.externalId !== current.user.externalId) {
        throw new AppError('mutability', `The externalId of the user "${id}" cannot change: it is how the user is matched.`);
      }
      return { source: sourceOf(this.target, input, current.user) };
    }))!;
  }

  async disableUser(id: string): Promise<void> {
    await changeUser(this.target, pushRequest(this.target), id, async (current) => {
      if (!current) throw notFound(this.target, id);
      return current.user.status === 'disabled' ? undefined : { disable: true };
    });
  }

  async createGroup(input: PushedGroupInput, members: readonly string[]): Promise<PushedGroup> {
    const group = await createGroup(this.target, pushRequest(this.target), input, members);
    return this.stored(group.id!);
  }

  getGroup(id: string, options: { members: boolean }): Promise<PushedGroup | undefined> {
    return this.findGroup({ by: 'id', value: id }, options);
  }

  async findGroup(lookup: GroupLookup, options: { members: boolean }): Promise<PushedGroup | undefined> {
    const group = await findGroupRow(this.target, lookup);
    return group && pushedGroupOf(group, (await membersByGroup(this.target)).get(group.name.toLowerCase()) ?? [], options);
  }

  async *listGroups(options: { members: boolean }): AsyncIterable<PushedGroup> {
    const members = await membersByGroup(this.target);
    const groups = (await this.target.deps.groups.list()).filter((group) => group.origin === this.target.directoryKey && group.id !== undefined);
    groups.sort((a, b) => (a.id! < b.id! ? -1 : 1));
    for (const group of groups) yield pushedGroupOf(group, members.get(group.name.toLowerCase()) ?? [], options);
  }

  async updateGroup(id: string, change: { input?: PushedGroupInput; add?: readonly string[]; remove?: readonly string[]; replaceMembers?: readonly string[] }): Promise<PushedGroup> {
    const request = pushRequest(this.target);
    let group = await groupRow(this.target, id);
    const current = (await membersByGroup(this.target)).get(group.name.toLowerCase()) ?? [];
    const wanted = new Set(change.replaceMembers ?? current);
    for (const member of change.add ?? []) wanted.add(member);
    for (const member of change.remove ?? []) wanted.delete(member);
    const add = [...wanted].filter((member) => !current.includes(member));
    await checkMembers(this.target, add);
    if (change.input) group = await renameGroup(this.target, request, group, change.input, current.filter((member) => wanted.has(member)));
    await changeMembers(this.target, request, group.name, { add, remove: current.filter((member) => !wanted.has(member)) });
    return this.stored(id);
  }

  /** The group as stored after a change (a disabled member keeps its groups as they were, as in a run). */
  private async stored(id: string): Promise<PushedGroup> {
    const group = await this.getGroup(id, { members: true });
    if (!group) throw new AppError('group-not-found', `The group "${id}" of "${this.connection}" was retired by another request meanwhile.`);
    return group;
  }

  async deleteGroup(id: string): Promise<void> {
    const group = await groupRow(this.target, id);
    await retireGroup(this.target, pushRequest(this.target), group, (await membersByGroup(this.target)).get(group.name.toLowerCase()) ?? []);
  }
}
