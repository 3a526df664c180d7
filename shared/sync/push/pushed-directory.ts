import type { SourceUser, StoredUser } from '../model.js';

/*
 * A directory that pushes its changes to us (a `scim` connection) instead of being read by a run. Each
 * request is one user's or one group's change: decided by the same core as a run's shard (rules/decide.ts),
 * usernames claimed and licences taken as a shard does, written by the one write path
 * (pipeline/apply-decisions.ts), audited with the actor `scim:<connection>`. Nothing is ever deleted: a
 * deleted user is disabled, a deleted group loses its members and stays.
 *
 * The SCIM wire format (shared/scim/) is an edge over this port; this file knows no SCIM.
 */

/** A pushed user as we hold it. */
export interface PushedUser {
  /** Our key of the user, which is also the SCIM `id`: the client's `externalId` if it sent one when it created the user, else one we made (a UUID). */
  id: string;
  /** The client's own id for the user, as it last sent it. */
  externalId?: string;
  /** The stored user (its status may be `blocked`: active in the directory, but no licence was free). */
  user: StoredUser;
  /** Whether the directory says the account is active (what SCIM `active` answers; `blocked` is ours, not the client's). */
  active: boolean;
  /** Changes with every write of the user: the SCIM `meta.version` (a weak ETag). */
  version: string;
}

/** What a create, a replace or an update says of a user, already mapped to our fields. */
export interface PushedUserInput {
  externalId?: string;
  /**
   * username, email, firstName, lastName, active, attributes (by the profile's attribute map), manager (the
   * manager's id, i.e. our key of the manager). `groups` is ignored: memberships change through groups.
   */
  user: SourceUser;
}

/** A pushed group. Groups are intranet groups (the Groups table) whose origin is this connection. */
export interface PushedGroup {
  /** Stable for the group's life, also across a rename of its displayName. */
  id: string;
  displayName: string;
  externalId?: string;
  /** Member user ids; present when asked for. */
  members?: string[];
  version: string;
}

export interface PushedGroupInput {
  displayName: string;
  externalId?: string;
}

/** The lookups a SCIM filter can be answered by without reading every user. */
export type UserLookup = { by: 'id'; value: string } | { by: 'externalId'; value: string } | { by: 'userName'; value: string };

/**
 * One `scim` connection's users and groups. Every method throws AppError with a stable code:
 * `user-not-found` / `group-not-found` (404), `username-taken` (409: held by another directory or a local
 * account, details.connection names it), `user-exists` (409: this directory already has that externalId or
 * userName), `user-invalid` (400: what decide() would skip, with its reason and sentence), `mutability`
 * (400: e.g. a changed externalId), `connection-disabled`.
 */
export interface PushedDirectory {
  readonly connection: string;
  createUser(input: PushedUserInput): Promise<PushedUser>;
  getUser(id: string): Promise<PushedUser | undefined>;
  /** Point lookups: at most one user each. */
  findUser(lookup: UserLookup): Promise<PushedUser | undefined>;
  /** Every user of the connection, in a stable order (by id). */
  listUsers(): AsyncIterable<PushedUser>;
  /** PUT: the user's values become exactly `input`'s. */
  replaceUser(id: string, input: PushedUserInput): Promise<PushedUser>;
  /**
   * PATCH: read, change, write if the user is still as read (its version). `change` may be called again
   * with the newer user when another request wrote it meanwhile, so concurrent changes never lose one.
   */
  updateUser(id: string, change: (current: PushedUser) => PushedUserInput): Promise<PushedUser>;
  /** DELETE: disabled, never deleted (an already disabled user stays as it is). */
  disableUser(id: string): Promise<void>;

  createGroup(input: PushedGroupInput, members: readonly string[]): Promise<PushedGroup>;
  getGroup(id: string, options: { members: boolean }): Promise<PushedGroup | undefined>;
  findGroup(lookup: { by: 'id' | 'externalId' | 'displayName'; value: string }, options: { members: boolean }): Promise<PushedGroup | undefined>;
  listGroups(options: { members: boolean }): AsyncIterable<PushedGroup>;
  /** PUT/PATCH of a group: a new name and/or members added and removed (ids of this connection's users). */
  updateGroup(id: string, change: { input?: PushedGroupInput; add?: readonly string[]; remove?: readonly string[]; replaceMembers?: readonly string[] }): Promise<PushedGroup>;
  /** DELETE: every member leaves the group; the group itself stays (sync never deletes groups). */
  deleteGroup(id: string): Promise<void>;
}

/** The pushed directory of a `scim` connection, by name (the connection must exist and be of type `scim`). */
export type PushedDirectories = (connection: string) => Promise<PushedDirectory>;
