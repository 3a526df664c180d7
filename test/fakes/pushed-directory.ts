import { randomUUID } from 'node:crypto';
import { AppError } from '../../shared/errors/app-error.js';
import type { PushedDirectory, PushedGroup, PushedGroupInput, PushedUser, PushedUserInput, UserLookup } from '../../shared/sync/push/pushed-directory.js';

/*
 * A TEST FAKE of the push core's port (shared/sync/push/pushed-directory.ts), in memory, for the SCIM wire
 * layer's tests until the core lands: it keeps users and groups as the port documents (ids, versions,
 * `user-exists`, `username-taken` for names `takenElsewhere` holds, `mutability` on a changed externalId,
 * `member-invalid`), and nothing of the decision core (no licences, no claims table, no audit).
 */
export class FakePushedDirectory implements PushedDirectory {
  readonly users = new Map<string, PushedUser>();
  readonly groups = new Map<string, { group: PushedGroupInput & { id: string; version: string }; members: Set<string> }>();
  /** Usernames another directory holds (lower-cased): a create or rename to one is `username-taken`. */
  readonly takenElsewhere = new Set<string>();
  private versions = 0;

  constructor(readonly connection: string) {}

  async createUser(input: PushedUserInput): Promise<PushedUser> {
    const id = input.externalId ?? randomUUID();
    if (this.users.has(id) || this.byUserName(input.user.username)) throw new AppError('user-exists', `This directory already has the user ${input.user.username}.`);
    return this.write(id, input, new Date().toISOString());
  }

  async getUser(id: string): Promise<PushedUser | undefined> {
    return this.users.get(id);
  }

  async findUser(lookup: UserLookup): Promise<PushedUser | undefined> {
    if (lookup.by === 'userName') return this.byUserName(lookup.value);
    return [...this.users.values()].find((user) => (lookup.by === 'id' ? user.id : user.externalId) === lookup.value);
  }

  async *listUsers(): AsyncIterable<PushedUser> {
    yield* [...this.users.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  async replaceUser(id: string, input: PushedUserInput): Promise<PushedUser> {
    return this.write(id, input, this.existing(id).user.createdAt);
  }

  async updateUser(id: string, change: (current: PushedUser) => PushedUserInput): Promise<PushedUser> {
    for (;;) {
      const current = this.existing(id);
      const input = change(current);
      // Another request may write between the read and this write (as in a store with ETags): then change again.
      await Promise.resolve();
      if (this.existing(id).version === current.version) return this.write(id, input, current.user.createdAt);
    }
  }

  async disableUser(id: string): Promise<void> {
    const current = this.existing(id);
    this.users.set(id, { ...current, active: false, user: { ...current.user, status: 'disabled' }, version: this.nextVersion() });
  }

  async createGroup(input: PushedGroupInput, members: readonly string[]): Promise<PushedGroup> {
    const id = input.externalId ?? randomUUID();
    this.checkMembers(members);
    this.groups.set(id, { group: { ...input, id, version: this.nextVersion() }, members: new Set(members) });
    return this.groupOf(id, true)!;
  }

  async getGroup(id: string, { members }: { members: boolean }): Promise<PushedGroup | undefined> {
    return this.groupOf(id, members);
  }

  async findGroup(lookup: { by: 'id' | 'externalId' | 'displayName'; value: string }, { members }: { members: boolean }): Promise<PushedGroup | undefined> {
    const found = [...this.groups.values()].find(({ group }) => group[lookup.by] === lookup.value);
    return found && this.groupOf(found.group.id, members);
  }

  async *listGroups({ members }: { members: boolean }): AsyncIterable<PushedGroup> {
    for (const id of [...this.groups.keys()].sort()) yield this.groupOf(id, members)!;
  }

  async updateGroup(id: string, change: { input?: PushedGroupInput; add?: readonly string[]; remove?: readonly string[]; replaceMembers?: readonly string[] }): Promise<PushedGroup> {
    const stored = this.groups.get(id);
    if (!stored) throw new AppError('group-not-found', 'No such group.');
    this.checkMembers([...(change.add ?? []), ...(change.replaceMembers ?? [])]);
    const members = change.replaceMembers ? new Set(change.replaceMembers) : stored.members;
    for (const member of change.add ?? []) members.add(member);
    for (const member of change.remove ?? []) members.delete(member);
    this.groups.set(id, { group: { ...stored.group, ...change.input, id, version: this.nextVersion() }, members });
    return this.groupOf(id, true)!;
  }

  async deleteGroup(id: string): Promise<void> {
    await this.updateGroup(id, { replaceMembers: [] });
  }

  private write(id: string, { externalId, user }: PushedUserInput, createdAt: string): PushedUser {
    const previous = this.users.get(id);
    if (previous?.externalId && externalId && externalId !== previous.externalId) throw new AppError('mutability', 'The externalId of a user cannot change.');
    const username = user.username ?? '';
    if (!username) throw new AppError('user-invalid', 'A user needs a username.');
    if (this.takenElsewhere.has(username.toLowerCase())) throw new AppError('username-taken', `The username ${username} belongs to another directory.`, { details: { connection: 'Other' } });
    const pushed: PushedUser = {
      id,
      ...((externalId ?? previous?.externalId) ? { externalId: externalId ?? previous?.externalId } : {}),
      active: user.active,
      version: this.nextVersion(),
      user: {
        directoryKey: 'd-fake',
        key: id,
        connection: this.connection,
        username,
        email: user.email ?? '',
        firstName: user.firstName ?? '',
        lastName: user.lastName ?? '',
        status: user.active ? 'active' : 'disabled',
        attributes: user.attributes,
        ...(user.manager ? { manager: user.manager, managerKey: user.manager } : {}),
        directoryControlled: [],
        sourceHash: '',
        sourceRef: 'scim',
        createdAt,
        updatedAt: new Date().toISOString(),
      },
    };
    this.users.set(id, pushed);
    return pushed;
  }

  private existing(id: string): PushedUser {
    const user = this.users.get(id);
    if (!user) throw new AppError('user-not-found', 'No such user.');
    return user;
  }

  private byUserName(username: string | undefined): PushedUser | undefined {
    return [...this.users.values()].find((user) => user.user.username.toLowerCase() === username?.toLowerCase());
  }

  private checkMembers(members: readonly string[]): void {
    const unknown = members.find((member) => !this.users.has(member));
    if (unknown !== undefined) throw new AppError('member-invalid', `No user of this directory has the id ${unknown}.`);
  }

  private groupOf(id: string, members: boolean): PushedGroup | undefined {
    const stored = this.groups.get(id);
    if (!stored) return undefined;
    return { ...stored.group, ...(members ? { members: [...stored.members].sort() } : {}) };
  }

  private nextVersion(): string {
    return `W/"${++this.versions}"`;
  }
}
