import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { answerBatch, parseBatch, underVersion } from './graph-batch.js';
import { roundTrip } from './latency.js';

/**
 * A fake Microsoft Entra ID token authority and Microsoft Graph v1.0, on one HTTPS server, for any number of
 * tenants — good enough for the real `@azure/identity` and `@microsoft/microsoft-graph-client` SDKs:
 *
 *   new ClientSecretCredential(tenantId, clientId, secret, { authorityHost: server.url, disableInstanceDiscovery: true })
 *   Client.initWithMiddleware({ authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [`${server.url}/.default`] }),
 *                               baseUrl: server.url, customHosts: new Set(['127.0.0.1']) })   // host WITHOUT the port
 *
 * The process making the calls must trust the certificate (`NODE_EXTRA_CA_CERTS`, set by test/support/global-setup.ts).
 * Wire formats (bodies, error codes, paging with absolute `@odata.nextLink`s) follow the real services.
 *
 * Graph routes: `GET /users`, `GET /users/delta`, `POST /users/{id}/checkMemberGroups`, `GET /groups`, `GET /groups/delta`,
 * `GET /groups/{id}`, `GET /groups/{id}/members` and `…/transitiveMembers` (optionally cast to `microsoft.graph.user` /
 * `microsoft.graph.group`), and `POST /$batch` (JSON batching, graph-batch.ts: each request answered as if sent alone).
 *
 * `/users/delta` tracks changes made through `addUser`, `updateUser` and `removeUser` (not direct edits of the objects in
 * `users`): each change takes the tenant's next version, removed users stay as tombstones, and a delta token holds
 * the version it was issued at (and the request's `$select`). `expireDeltaTokens()` makes every issued token answer 410.
 *
 * `/groups/delta` tracks groups the same way, through `addGroup`, `updateGroup`, `setMembers`, `removeGroup` and the
 * memberships that `addUser` / `removeUser` make or end: each group keeps a log of its creation, updates, deletion and
 * direct-membership changes, one version per group per change, so a token issued at version V reads the net change of
 * each member since V (`members@delta`, with `@removed` for the members gone).
 */

// ---------------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------------

export interface FakeUserInput {
  id: string;
  userPrincipalName: string;
  mail?: string;
  givenName?: string;
  surname?: string;
  /** Defaults to "givenName surname", or the userPrincipalName. */
  displayName?: string;
  /** Defaults to true. */
  accountEnabled?: boolean;
  /** Defaults to 'Member'. */
  userType?: string;
  department?: string;
  jobTitle?: string;
  officeLocation?: string;
  employeeId?: string;
  mobilePhone?: string;
  /** Not a Graph property: the user's manager, read through `$expand=manager`. */
  managerId?: string;
  /** Other Graph user properties (e.g. `companyName`, `employeeType`), returned when `$select`ed. */
  extra?: Record<string, unknown>;
}

export type FakeUser = FakeUserInput;

export interface FakeGroupInput {
  id: string;
  displayName: string;
  description?: string;
  mail?: string;
  /** Defaults to true. */
  securityEnabled?: boolean;
  /** Defaults to false. */
  mailEnabled?: boolean;
  /** e.g. ['Unified'] for a Microsoft 365 group. Defaults to []. */
  groupTypes?: string[];
  /** Direct members: user or group ids (groups nest). Ids that do not exist (yet) are skipped when read. */
  members: string[];
}

export type FakeGroup = FakeGroupInput;

export interface FakeTenant {
  readonly tenantId: string;
  readonly clientId: string;
  /** The app's secret; change it to simulate a rotated secret. */
  clientSecret: string | undefined;
  /**
   * Hex thumbprint of the app's certificate (`certificateThumbprint(pem)`). MSAL (identity 4) only sends `x5t#S256`,
   * so register the SHA-256 one; a SHA-1 thumbprint only matches clients that send `x5t`.
   */
  certificateThumbprint: string | undefined;
  /** Application permissions admin-consented for the app; remove some to get 403 Authorization_RequestDenied. */
  grantedRoles: string[];
  readonly users: ReadonlyMap<string, FakeUser>;
  readonly groups: ReadonlyMap<string, FakeGroup>;
  addUser(user: FakeUserInput): FakeUser;
  /** Merges `patch`; a property set to undefined is cleared (e.g. `{ managerId: undefined }`). */
  updateUser(id: string, patch: Partial<Omit<FakeUserInput, 'id'>>): FakeUser;
  /**
   * Deletes the user, its group memberships and its manager references (as Entra does). On `/users/delta` the user
   * reads as `@removed`, and the users it managed as updated (their manager changed).
   */
  removeUser(id: string): void;
  addGroup(group: FakeGroupInput): FakeGroup;
  /** Merges `patch` (not the members: see `setMembers`); on `/groups/delta` the group reads as updated. */
  updateGroup(id: string, patch: Partial<Omit<FakeGroupInput, 'id' | 'members'>>): FakeGroup;
  /** Replaces the direct members; on `/groups/delta` the group reads with the members added and removed. */
  setMembers(groupId: string, memberIds: string[]): void;
  /** Deletes the group and its memberships in other groups; on `/groups/delta` it reads as `@removed` (reason `changed`). */
  removeGroup(id: string): void;
}

export interface GraphServerRequest {
  method: string;
  /** Path with the query string, as received (e.g. `/v1.0/users?$select=id&$top=999`). */
  path: string;
  authorization?: string;
  /** When the request arrived and when its answer was sent (`performance.now()` of the fake's process, ms). */
  startedAt: number;
  endedAt?: number;
  /** A `$batch`'s requests (their paths, as `path`): the batch is one round trip, they are its work. */
  subRequests?: string[];
}

export interface GraphServer {
  /** `https://127.0.0.1:PORT` — the authorityHost, and the Graph base URL (Graph lives under `/v1.0`). */
  readonly url: string;
  addTenant(tenantId: string, app: { clientId: string; clientSecret?: string; certificateThumbprint?: string }): FakeTenant;
  tenant(tenantId: string): FakeTenant;
  /**
   * The next `count` Graph requests (those whose path matches `only`, if given) get 429 TooManyRequests with
   * `Retry-After: retryAfterSeconds`; a request in a `$batch` is throttled on its own, as Graph does.
   */
  throttle(count: number, retryAfterSeconds?: number, only?: RegExp): void;
  /**
   * After `requestsFromNow` more Graph requests (whatever their outcome), every Graph request fails with `status`
   * and Graph's error body (its `message`, if given: e.g. one that echoes a credential) until `heal()`. 503 and 504
   * carry `Retry-After: 0` so the SDK's retries are quick.
   */
  failAfter(requestsFromNow: number, status?: number, message?: string): void;
  /**
   * Calls `listener` with the path of each Graph request once it is answered (each request of a batch too), e.g. to
   * change the directory between two requests of a listing; undefined stops it.
   */
  onAnswered(listener: ((path: string) => void) | undefined): void;
  /** Ends `failAfter`, any remaining `throttle` and the `onAnswered` listener. */
  heal(): void;
  /**
   * Every Graph request (not the authority's: token, metadata) is answered `ms` later, as a real service's round trip
   * is (the benchmark's `--latency-ms`); 0, the default, answers at once.
   */
  setLatency(ms: number): void;
  /**
   * Invalidates every `/users/delta` and `/groups/delta` token issued so far (deltaLinks and nextLinks), of one tenant or of all: using one
   * answers 410 Gone with code `syncStateNotFound`, as Graph does when its sync state is gone. New rounds work.
   */
  expireDeltaTokens(tenantId?: string): void;
  /** Every request received (authority and Graph), oldest first. */
  readonly requests: GraphServerRequest[];
  close(): Promise<void>;
}

export const DEFAULT_GRANTED_ROLES: readonly string[] = ['User.Read.All', 'Group.Read.All', 'GroupMember.Read.All'];

/** Hex thumbprint of a PEM certificate, as the Azure portal shows it (SHA-1) or as MSAL sends it (`x5t#S256`). */
export function certificateThumbprint(pem: string, algorithm: 'sha1' | 'sha256' = 'sha256'): string {
  const certificate = new X509Certificate(pem);
  return (algorithm === 'sha1' ? certificate.fingerprint : certificate.fingerprint256).replaceAll(':', '');
}

// ---------------------------------------------------------------------------------------------------------------
// Directory data
// ---------------------------------------------------------------------------------------------------------------

class Tenant implements FakeTenant {
  clientSecret: string | undefined;
  certificateThumbprint: string | undefined;
  grantedRoles = [...DEFAULT_GRANTED_ROLES];
  readonly users = new Map<string, FakeUser>();
  readonly groups = new Map<string, FakeGroup>();
  /** Change tracking for `/users/delta`: the latest version, each user's last change, each removed user's removal. */
  version = 0;
  readonly userVersions = new Map<string, number>();
  readonly tombstones = new Map<string, number>();
  /** Change tracking for `/groups/delta`: each group's creations, updates, deletions and direct-membership changes. */
  readonly groupLog = new Map<string, GroupEvent[]>();
  /** Delta tokens carry the generation they were issued in; `expireDeltaTokens` moves on to the next one. */
  deltaGeneration = 0;

  constructor(
    readonly tenantId: string,
    readonly clientId: string,
    app: { clientSecret?: string; certificateThumbprint?: string },
  ) {
    this.clientSecret = app.clientSecret;
    this.certificateThumbprint = app.certificateThumbprint;
  }

  addUser(user: FakeUserInput): FakeUser {
    if (this.users.has(user.id) || this.groups.has(user.id)) throw new Error(`Object ${user.id} already exists in tenant ${this.tenantId}`);
    const stored = { ...user };
    this.users.set(user.id, stored);
    this.tombstones.delete(user.id);
    this.stamp(user.id);
    this.joinListingGroups(user.id, 'user');
    return stored;
  }

  updateUser(id: string, patch: Partial<Omit<FakeUserInput, 'id'>>): FakeUser {
    const user = this.users.get(id);
    if (!user) throw new Error(`No user ${id} in tenant ${this.tenantId}`);
    Object.assign(user, patch);
    this.stamp(id);
    return user;
  }

  removeUser(id: string): void {
    if (!this.users.delete(id)) throw new Error(`No user ${id} in tenant ${this.tenantId}`);
    this.userVersions.delete(id);
    this.version += 1;
    this.tombstones.set(id, this.version);
    this.forgetMember(id, 'user');
    for (const user of this.users.values()) {
      if (user.managerId !== id) continue;
      delete user.managerId;
      this.stamp(user.id);
    }
  }

  /**
   * The users changed (present ones) or removed (tombstones, unless `includeRemoved` is false) with a version in
   * (after, upTo], oldest change first. Versions are unique, so the last one returned is a stable paging cursor.
   */
  userChanges(after: number, upTo: number, includeRemoved: boolean): UserChange[] {
    const changes: UserChange[] = [];
    for (const [id, version] of this.userVersions) {
      const user = this.users.get(id);
      if (user && version > after && version <= upTo) changes.push({ id, version, user });
    }
    if (includeRemoved) {
      for (const [id, version] of this.tombstones) if (version > after && version <= upTo) changes.push({ id, version });
    }
    return changes.sort((a, b) => a.version - b.version);
  }

  private stamp(id: string): void {
    this.version += 1;
    this.userVersions.set(id, this.version);
  }

  addGroup(group: FakeGroupInput): FakeGroup {
    if (this.users.has(group.id) || this.groups.has(group.id)) throw new Error(`Object ${group.id} already exists in tenant ${this.tenantId}`);
    const stored = { ...group, members: [...group.members] };
    this.groups.set(group.id, stored);
    // One change: the group and its first members (existing ones; itself too, if it lists itself).
    this.logGroup(group.id, [{ kind: 'created' }, ...[...this.memberTypes(stored)].map(([memberId, type]): GroupChange => ({ kind: 'member', memberId, type, added: true }))]);
    this.joinListingGroups(group.id, 'group');
    return stored;
  }

  updateGroup(id: string, patch: Partial<Omit<FakeGroupInput, 'id' | 'members'>>): FakeGroup {
    const group = this.groups.get(id);
    if (!group) throw new Error(`No group ${id} in tenant ${this.tenantId}`);
    Object.assign(group, patch);
    this.logGroup(id, [{ kind: 'updated' }]);
    return group;
  }

  setMembers(groupId: string, memberIds: string[]): void {
    const group = this.groups.get(groupId);
    if (!group) throw new Error(`No group ${groupId} in tenant ${this.tenantId}`);
    const before = this.memberTypes(group);
    group.members = [...memberIds];
    const after = this.memberTypes(group);
    const changes: GroupChange[] = [
      ...[...before].filter(([memberId]) => !after.has(memberId)).map(([memberId, type]): GroupChange => ({ kind: 'member', memberId, type, added: false })),
      ...[...after].filter(([memberId]) => !before.has(memberId)).map(([memberId, type]): GroupChange => ({ kind: 'member', memberId, type, added: true })),
    ];
    if (changes.length > 0) this.logGroup(groupId, changes);
  }

  removeGroup(id: string): void {
    if (!this.groups.delete(id)) throw new Error(`No group ${id} in tenant ${this.tenantId}`);
    this.logGroup(id, [{ kind: 'deleted' }]);
    this.forgetMember(id, 'group');
  }

  /**
   * The groups to report in a `/groups/delta` round reading the changes in (since, upTo]: the initial round (`since`
   * undefined) has every group there was at `upTo` with its members then; later rounds have the groups created, updated,
   * deleted or (when `members` is tracked) with a net membership change. Sorted by each group's last change up to
   * `upTo`, a unique version, so `key` is a stable paging cursor. Groups gone since `upTo` wait for the next round.
   */
  groupChanges(since: number | undefined, upTo: number, members: boolean): GroupDelta[] {
    const result: GroupDelta[] = [];
    for (const [id, log] of this.groupLog) {
      const window = log.filter((event) => event.version > (since ?? 0) && event.version <= upTo);
      const last = window.at(-1);
      if (!last) continue;
      const now = groupStateAt(log, upTo);
      const group = this.groups.get(id);
      if (!now.exists) {
        if (since !== undefined) result.push({ id, key: last.version, removed: true, added: [], removedMembers: [] });
        continue;
      }
      if (!group) continue;
      if (since === undefined) {
        result.push({ id, key: last.version, group, removed: false, added: members ? [...now.members] : [], removedMembers: [] });
        continue;
      }
      const then = groupStateAt(log, since);
      const added = members ? [...now.members].filter(([memberId]) => !then.members.has(memberId)) : [];
      const removedMembers = members ? [...then.members].filter(([memberId]) => !now.members.has(memberId)) : [];
      const touched = !then.exists || window.some((event) => event.change.kind !== 'member');
      if (touched || added.length > 0 || removedMembers.length > 0) result.push({ id, key: last.version, group, removed: false, added, removedMembers });
    }
    return result.sort((a, b) => a.key - b.key);
  }

  /** One change of a group: the tenant's next version, on every event of it. */
  private logGroup(id: string, changes: GroupChange[]): void {
    this.version += 1;
    const log = this.groupLog.get(id) ?? [];
    for (const change of changes) log.push({ version: this.version, change });
    this.groupLog.set(id, log);
  }

  /** The existing direct members of a group and their types, each once. */
  private memberTypes(group: FakeGroup): Map<string, MemberType> {
    return new Map(this.directMembers(group).map((member) => [member.id, member.kind]));
  }

  /** A new object joins the groups that already listed its id (ids that did not exist are skipped when read). */
  private joinListingGroups(id: string, type: MemberType): void {
    for (const group of this.groups.values()) {
      if (group.members.includes(id) && !(group.id === id && type === 'group')) this.logGroup(group.id, [{ kind: 'member', memberId: id, type, added: true }]);
    }
  }

  /** Direct members that exist, users and groups. */
  directMembers(group: FakeGroup): DirectoryObject[] {
    return group.members.flatMap((id) => this.directoryObject(id) ?? []);
  }

  /**
   * Everything reachable through nested groups, each once, in depth-first member order (cycles are fine).
   * Cached per group until the tenant's next change (every membership change takes a new version): paging a
   * 100,000-member group would otherwise walk the whole tree again for each page (the benchmark does this).
   */
  transitiveMembers(group: FakeGroup): DirectoryObject[] {
    return this.transitive(group).members;
  }

  /** Whether `id` is a transitive member of the group (cached like transitiveMembers). */
  isTransitiveMember(group: FakeGroup, id: string): boolean {
    return this.transitive(group).ids.has(id);
  }

  private readonly transitiveCache = new Map<string, { version: number; group: FakeGroup; members: DirectoryObject[]; ids: Set<string> }>();

  private transitive(group: FakeGroup): { members: DirectoryObject[]; ids: Set<string> } {
    const cached = this.transitiveCache.get(group.id);
    if (cached && cached.version === this.version && cached.group === group) return cached;
    const members = this.walkTransitiveMembers(group);
    const entry = { version: this.version, group, members, ids: new Set(members.map((member) => member.id)) };
    this.transitiveCache.set(group.id, entry);
    return entry;
  }

  private walkTransitiveMembers(group: FakeGroup): DirectoryObject[] {
    const seen = new Set<string>([group.id]);
    const result: DirectoryObject[] = [];
    const visit = (current: FakeGroup): void => {
      for (const member of this.directMembers(current)) {
        if (seen.has(member.id)) continue;
        seen.add(member.id);
        result.push(member);
        if (member.kind === 'group') visit(member.group);
      }
    };
    visit(group);
    return result;
  }

  private directoryObject(id: string): DirectoryObject | undefined {
    const user = this.users.get(id);
    if (user) return { kind: 'user', id, user };
    const group = this.groups.get(id);
    return group ? { kind: 'group', id, group } : undefined;
  }

  private forgetMember(id: string, type: MemberType): void {
    for (const group of this.groups.values()) {
      if (!group.members.includes(id)) continue;
      group.members = group.members.filter((member) => member !== id);
      this.logGroup(group.id, [{ kind: 'member', memberId: id, type, added: false }]);
    }
  }
}

type MemberType = 'user' | 'group';

/** One event in a group's log; the events of one change share its version. */
interface GroupEvent {
  version: number;
  change: GroupChange;
}

type GroupChange = { kind: 'created' | 'updated' | 'deleted' } | { kind: 'member'; memberId: string; type: MemberType; added: boolean };

/** A group to report in a `/groups/delta` round: removed, or its current state and its members' net changes. */
interface GroupDelta {
  id: string;
  /** The group's last change in the round: the paging cursor. */
  key: number;
  group?: FakeGroup;
  removed: boolean;
  added: [string, MemberType][];
  removedMembers: [string, MemberType][];
}

/** Whether a group existed at `version`, and its direct members then (in the order they joined). */
function groupStateAt(log: GroupEvent[], version: number): { exists: boolean; members: Map<string, MemberType> } {
  let exists = false;
  const members = new Map<string, MemberType>();
  for (const { version: at, change } of log) {
    if (at > version) break;
    if (change.kind === 'created' || change.kind === 'deleted') {
      exists = change.kind === 'created';
      members.clear();
    } else if (change.kind === 'member') {
      if (change.added) members.set(change.memberId, change.type);
      else members.delete(change.memberId);
    }
  }
  return { exists, members };
}

type DirectoryObject = { kind: 'user'; id: string; user: FakeUser } | { kind: 'group'; id: string; group: FakeGroup };

/** A user's latest change: `user` is its current state, absent when the user was removed. */
interface UserChange {
  id: string;
  version: number;
  user?: FakeUser;
}

// Graph's property names (canonical casing). Modelled ones come from the fake's data; the others are real
// properties the fake has no data for: they read as null ([] for collections) instead of failing the query.
const USER_COLLECTIONS = ['businessPhones', 'otherMails', 'proxyAddresses', 'imAddresses', 'identities', 'assignedLicenses'];
const USER_PROPERTIES = [
  'id', 'userPrincipalName', 'mail', 'givenName', 'surname', 'displayName', 'accountEnabled', 'userType', 'department',
  'jobTitle', 'officeLocation', 'employeeId', 'mobilePhone', 'preferredLanguage', 'companyName', 'employeeType',
  'employeeHireDate', 'employeeOrgData', 'city', 'country', 'state', 'streetAddress', 'postalCode', 'usageLocation',
  'faxNumber', 'mailNickname', 'createdDateTime', 'deletedDateTime', 'creationType', 'externalUserState', 'ageGroup',
  'onPremisesImmutableId', 'onPremisesSamAccountName', 'onPremisesSyncEnabled', 'onPremisesUserPrincipalName',
  'onPremisesDistinguishedName', 'onPremisesDomainName', 'onPremisesSecurityIdentifier', 'onPremisesLastSyncDateTime',
  'securityIdentifier', 'showInAddressList', 'lastPasswordChangeDateTime', 'passwordPolicies', ...USER_COLLECTIONS,
];
const USER_DEFAULT_SELECT = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];
const GROUP_COLLECTIONS = ['groupTypes', 'proxyAddresses', 'resourceProvisioningOptions'];
const GROUP_PROPERTIES = [
  'id', 'displayName', 'description', 'mail', 'mailNickname', 'mailEnabled', 'securityEnabled', 'createdDateTime',
  'deletedDateTime', 'renewedDateTime', 'expirationDateTime', 'classification', 'visibility', 'membershipRule',
  'membershipRuleProcessingState', 'isAssignableToRole', 'securityIdentifier', 'uniqueName', 'onPremisesSyncEnabled',
  'onPremisesSamAccountName', 'onPremisesSecurityIdentifier', 'onPremisesLastSyncDateTime', ...GROUP_COLLECTIONS,
];
const GROUP_DEFAULT_SELECT = ['id', 'displayName', 'description', 'mail', 'mailEnabled', 'securityEnabled', 'groupTypes'];

function userProperties(user: FakeUser): Record<string, unknown> {
  const displayName = user.displayName ?? ([user.givenName, user.surname].filter(Boolean).join(' ') || user.userPrincipalName);
  const { managerId: _managerId, extra, ...own } = user;
  return { ...emptyValues(USER_PROPERTIES, USER_COLLECTIONS), ...extra, ...own, displayName, accountEnabled: user.accountEnabled ?? true, userType: user.userType ?? 'Member' };
}

function groupProperties(group: FakeGroup): Record<string, unknown> {
  const { members: _members, ...own } = group;
  return { ...emptyValues(GROUP_PROPERTIES, GROUP_COLLECTIONS), ...own, securityEnabled: group.securityEnabled ?? true, mailEnabled: group.mailEnabled ?? false, groupTypes: group.groupTypes ?? [] };
}

function emptyValues(properties: string[], collections: string[]): Record<string, unknown> {
  return Object.fromEntries(properties.map((name) => [name, collections.includes(name) ? [] : null]));
}

// ---------------------------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------------------------

/** Thrown by handlers to answer with Graph's error body. */
class GraphFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Thrown by the authority's handlers to answer with Entra's OAuth error body. */
class EntraFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    readonly description: string,
  ) {
    super(description);
  }
}

interface Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  /** Raw query string parts (`$top=2`), as sent: next links re-use them untouched. */
  rawQuery: string[];
  /** The route pattern's capture groups (undefined when an optional group did not match). */
  params: (string | undefined)[];
  /** The request's entry in the request log (a request of a batch has none of its own). */
  logged?: GraphServerRequest;
}

interface GraphExchange extends Exchange {
  tenant: Tenant;
}

interface Route {
  method: string;
  pattern: RegExp;
  handle(exchange: Exchange): Promise<void> | void;
}

interface Token {
  tenant: Tenant;
  clientId: string;
}

/** Where a `/users/delta` request reads: the changes with a version in (after, upTo]. */
interface DeltaRound {
  after: number;
  upTo: number;
  /** The initial round lists the users there are, without removals. */
  initial: boolean;
  /** The round's `$select` (undefined: Graph's default properties). */
  select: string[] | undefined;
  /** The `Prefer: odata.maxpagesize` of the request that started the round. */
  pageSize?: number | undefined;
}

/** In a `$skiptoken` (`@odata.nextLink`): the rest of a round, after the last version sent. */
interface SkipState {
  kind: 'skip';
  tenant: string;
  generation: number;
  after: number;
  upTo: number;
  initial: boolean;
  select: string[] | undefined;
  pageSize: number | undefined;
}

/** In a `$deltatoken` (`@odata.deltaLink`): the version it was issued at. */
interface DeltaState {
  kind: 'delta';
  tenant: string;
  generation: number;
  version: number;
  select: string[] | undefined;
}

/** In a `/groups/delta` `$skiptoken`: the rest of a round reading the changes in (since, upTo], after cursor `after`. */
interface GroupSkipState {
  kind: 'groupSkip';
  tenant: string;
  generation: number;
  /** The version of the deltaLink the round started from; absent for an initial round. */
  since?: number;
  after: number;
  upTo: number;
  /** `$select`ed group properties and maybe `members` (undefined: Graph's default properties, and the members). */
  select: string[] | undefined;
  pageSize: number | undefined;
}

/** In a `/groups/delta` `$deltatoken`: the version it was issued at. */
interface GroupDeltaState {
  kind: 'groupDelta';
  tenant: string;
  generation: number;
  version: number;
  select: string[] | undefined;
}

type TokenState = SkipState | DeltaState | GroupSkipState | GroupDeltaState;

const GRAPH_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const MAX_PAGE = 999;
/** Graph's cap on a page of directory objects with `$expand` (https://learn.microsoft.com/en-us/graph/query-parameters#expand-parameter). */
const EXPAND_MAX_PAGE = 100;
const DEFAULT_PAGE = 100;
const ROLES = {
  users: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  groups: ['GroupMember.Read.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
};
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Graph's limit on `groupIds` in one checkMemberGroups call. */
const MAX_CHECKED_GROUPS = 20;

export async function startGraphServer(tls: { cert: string; key: string }): Promise<GraphServer> {
  const tenants = new Map<string, Tenant>();
  const tokens = new Map<string, Token>();
  const requests: GraphServerRequest[] = [];
  let throttled: { remaining: number; retryAfterSeconds: number; only?: RegExp } = { remaining: 0, retryAfterSeconds: 0 };
  let failure: { after: number; status: number; message?: string } | undefined;
  let latencyMs = 0;
  let answered: ((path: string) => void) | undefined;
  let url = '';

  const findTenant = (tenantId: string): Tenant | undefined => tenants.get(tenantId.toLowerCase());

  // ----- Entra ID authority ------------------------------------------------------------------------------------

  function openIdConfiguration({ response, params: [tenantId = ''] }: Exchange): void {
    if (!findTenant(tenantId)) throw tenantNotFound(tenantId, 'invalid_tenant');
    const base = `${url}/${tenantId}`;
    sendJson(response, 200, {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${url}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'tid', 'oid', 'roles'],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: new URL(url).host,
      rbac_url: 'https://pas.windows.net',
    });
  }

  function keys({ response, params: [tenantId = ''] }: Exchange): void {
    if (!findTenant(tenantId)) throw tenantNotFound(tenantId, 'invalid_tenant');
    sendJson(response, 200, { keys: [] });
  }

  async function token(exchange: Exchange): Promise<void> {
    const tenantId = exchange.params[0] ?? '';
    const form = new URLSearchParams(await readBody(exchange.request));
    const tenant = findTenant(tenantId);
    if (!tenant) throw tenantNotFound(tenantId, 'invalid_request');
    if (form.get('grant_type') !== 'client_credentials') {
      throw new EntraFailure(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${form.get('grant_type') ?? ''}'.`);
    }
    const clientId = form.get('client_id') ?? '';
    if (clientId !== tenant.clientId) {
      throw new EntraFailure(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
    }
    checkScope(form.get('scope') ?? '', tenantId);
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    if (secret !== null) {
      if (tenant.clientSecret === undefined || secret !== tenant.clientSecret) {
        throw new EntraFailure(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`);
      }
    } else if (assertion !== null) {
      checkAssertion(tenant, clientId, form.get('client_assertion_type'), assertion);
    } else {
      throw new EntraFailure(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    const accessToken = `fake.${randomBytes(24).toString('base64url')}`;
    tokens.set(accessToken, { tenant, clientId });
    sendJson(exchange.response, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken }, { 'cache-control': 'no-store, no-cache' });
  }

  function checkScope(scope: string, tenantId: string): void {
    const scopes = scope.split(' ').filter(Boolean);
    const resource = scopes.find((value) => value.endsWith('/.default'));
    if (!resource) {
      throw new EntraFailure(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    const audience = resource.slice(0, -'/.default'.length);
    if (audience !== url && audience !== 'https://graph.microsoft.com') {
      throw new EntraFailure(400, 'invalid_resource', 500011, `The resource principal named ${audience} was not found in the tenant named ${tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
    }
  }

  /** A well-formed, unexpired JWT for this client whose x5t / x5t#S256 names the registered certificate. */
  function checkAssertion(tenant: Tenant, clientId: string, assertionType: string | null, assertion: string): void {
    if (assertionType !== ASSERTION_TYPE) {
      throw new EntraFailure(400, 'invalid_request', 90014, `The request body must contain the following parameter: 'client_assertion_type' with the value '${ASSERTION_TYPE}'.`);
    }
    const [header, payload] = assertion.split('.').map(decodeJwtPart);
    if (!header || !payload || assertion.split('.').length !== 3) throw new EntraFailure(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
    if (payload.iss !== clientId || payload.sub !== clientId) {
      throw new EntraFailure(401, 'invalid_client', 700021, 'Client assertion application identifier doesn\'t match \'client_id\' parameter.');
    }
    if (typeof payload.exp !== 'number' || payload.exp * 1000 < Date.now()) {
      throw new EntraFailure(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
    }
    const registered = tenant.certificateThumbprint?.replaceAll(':', '').toLowerCase();
    const presented = [header.x5t, header['x5t#S256']].filter((value): value is string => typeof value === 'string').map((value) => Buffer.from(value, 'base64url').toString('hex'));
    if (!registered || !presented.includes(registered)) {
      throw new EntraFailure(401, 'invalid_client', 700027, `Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '${presented[0] ?? ''}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`);
    }
  }

  // ----- Microsoft Graph ---------------------------------------------------------------------------------------

  function listUsers(exchange: GraphExchange): void {
    const query = exchange.url.searchParams;
    const inRange = upnRange(query.get('$filter'));
    const select = selection(query, [USER_PROPERTIES], USER_DEFAULT_SELECT, 'user');
    const manager = managerExpansion(query.get('$expand'));
    if (manager && (query.get('$count') !== null || query.get('$orderby') !== null)) {
      // Advanced queries (ConsistencyLevel: eventual with $count, $orderby with $filter) do not combine with $expand.
      throw new GraphFailure(400, 'Request_UnsupportedQuery', '$expand is not supported with advanced queries.');
    }
    const users = usersWhere(exchange.tenant, query.get('$filter') ?? '', inRange);
    // Graph known issue 13635: $expand on directory objects returns at most 100 objects a page, whatever $top says.
    const toItem = (user: FakeUser): object => {
      const item = project(userProperties(user), select);
      const boss = user.managerId === undefined ? undefined : exchange.tenant.users.get(user.managerId);
      if (!manager || !boss) return item;
      return { ...item, manager: { '@odata.type': '#microsoft.graph.user', ...project(userProperties(boss), manager) } };
    };
    sendPage(exchange, 'users', users, toItem, manager ? EXPAND_MAX_PAGE : MAX_PAGE);
  }

  /** A filter's users, kept until the tenant changes: a 100,000-user directory is filtered once, not on every page. */
  function usersWhere(tenant: Tenant, filter: string, keep: (upn: string) => boolean): FakeUser[] {
    let cached = filtered.get(tenant);
    if (cached?.version !== tenant.version) filtered.set(tenant, (cached = { version: tenant.version, users: new Map() }));
    let users = cached.users.get(filter);
    if (!users) cached.users.set(filter, (users = [...tenant.users.values()].filter((user) => keep(user.userPrincipalName))));
    return users;
  }
  const filtered = new WeakMap<Tenant, { version: number; users: Map<string, FakeUser[]> }>();

  function listGroups(exchange: GraphExchange): void {
    const query = exchange.url.searchParams;
    const filter = rejectFilter(query, ['securityEnabled eq true', 'mailEnabled eq true']);
    const select = selection(query, [GROUP_PROPERTIES], GROUP_DEFAULT_SELECT, 'group');
    const groups = [...exchange.tenant.groups.values()]
      .map(groupProperties)
      .filter((group) => (filter === 'securityEnabled eq true' ? group.securityEnabled === true : filter === 'mailEnabled eq true' ? group.mailEnabled === true : true))
      .map((group) => project(group, select));
    sendPage(exchange, 'groups', groups);
  }

  /**
   * `GET /users/delta`: a new round (every user, or with `$deltatoken=latest` none, "from now on"), or the rest of a
   * round (`$skiptoken`, from an `@odata.nextLink`), or the changes since a token (`$deltatoken`, from an
   * `@odata.deltaLink`). A round is fixed at the version it started at; its last page carries the next deltaLink.
   */
  function usersDelta(exchange: GraphExchange): void {
    const { tenant } = exchange;
    const query = exchange.url.searchParams;
    const skip = query.get('$skiptoken');
    const delta = query.get('$deltatoken');
    if (skip !== null && delta !== null) throw new GraphFailure(400, 'Request_BadRequest', 'Only one of $skiptoken and $deltatoken may be given.');
    let round: DeltaRound;
    if (skip !== null) {
      const state = readDeltaToken(tenant, skip, 'skip');
      round = { after: state.after, upTo: state.upTo, initial: state.initial, select: state.select, pageSize: state.pageSize };
    } else if (delta !== null && delta.toLowerCase() !== 'latest') {
      const state = readDeltaToken(tenant, delta, 'delta');
      round = { after: state.version, upTo: tenant.version, initial: false, select: state.select };
    } else {
      // Query options only count on the request that starts the round; the tokens carry them on. ($top is ignored.)
      rejectFilter(query, []);
      if (query.get('$expand') !== null) throw new GraphFailure(400, 'Request_UnsupportedQuery', 'The fake Graph server does not support $expand on users/delta.');
      const select = query.get('$select') === null ? undefined : selection(query, [USER_PROPERTIES], USER_DEFAULT_SELECT, 'user');
      // "latest" skips the initial round: nothing now, and a deltaLink to the changes from now on.
      round = { after: delta === null ? 0 : tenant.version, upTo: tenant.version, initial: delta === null, select };
    }

    const preferred = maxPageSize(exchange.request);
    const pageSize = preferred ?? round.pageSize ?? DEFAULT_PAGE;
    const changes = tenant.userChanges(round.after, round.upTo, !round.initial);
    const page = changes.slice(0, pageSize);
    const select = round.select ?? USER_DEFAULT_SELECT;
    const body: Record<string, unknown> = { '@odata.context': `${url}/v1.0/$metadata#users${round.select ? `(${round.select.join(',')})` : ''}` };
    const last = page.at(-1);
    if (changes.length > pageSize && last) {
      const state: SkipState = { kind: 'skip', tenant: tenant.tenantId, generation: tenant.deltaGeneration, after: last.version, upTo: round.upTo, initial: round.initial, select: round.select, pageSize: round.pageSize ?? preferred };
      body['@odata.nextLink'] = `${url}/v1.0/users/delta?$skiptoken=${encodeState(state)}`;
    } else {
      const state: DeltaState = { kind: 'delta', tenant: tenant.tenantId, generation: tenant.deltaGeneration, version: round.upTo, select: round.select };
      body['@odata.deltaLink'] = `${url}/v1.0/users/delta?$deltatoken=${encodeState(state)}`;
    }
    body.value = page.map((change) => (change.user ? project(userProperties(change.user), select) : { id: change.id, '@removed': { reason: 'deleted' } }));
    const applied: Record<string, string> = preferred === undefined ? {} : { 'preference-applied': `odata.maxpagesize=${preferred}` };
    sendJson(exchange.response, 200, body, { ...graphHeaders(exchange.request), ...applied });
  }

  /**
   * `GET /groups/delta`, as `usersDelta`: the initial round lists every group, with `members@delta` holding its direct
   * members; a deltaLink reads the groups changed since it, each once: deleted ones as `{ id, @removed: changed }`, the
   * others in their current state with `members@delta` holding the net changes of their direct membership (removed
   * members with `@removed: deleted`). `members@delta` is left out when empty, and when `$select` omits `members`
   * (membership then is not tracked at all). Unlike Graph, a large group's members are never split across pages.
   */
  function groupsDelta(exchange: GraphExchange): void {
    const { tenant } = exchange;
    const query = exchange.url.searchParams;
    const skip = query.get('$skiptoken');
    const delta = query.get('$deltatoken');
    if (skip !== null && delta !== null) throw new GraphFailure(400, 'Request_BadRequest', 'Only one of $skiptoken and $deltatoken may be given.');
    let round: { since: number | undefined; after: number; upTo: number; select: string[] | undefined; pageSize?: number | undefined };
    if (skip !== null) {
      const state = readDeltaToken(tenant, skip, 'groupSkip');
      round = { since: state.since, after: state.after, upTo: state.upTo, select: state.select, pageSize: state.pageSize };
    } else if (delta !== null && delta.toLowerCase() !== 'latest') {
      const state = readDeltaToken(tenant, delta, 'groupDelta');
      round = { since: state.version, after: 0, upTo: tenant.version, select: state.select };
    } else {
      rejectFilter(query, []);
      const expand = query.get('$expand');
      if (expand !== null && expand.trim().toLowerCase() !== 'members') throw new GraphFailure(400, 'Request_UnsupportedQuery', `The fake Graph server only expands 'members' on groups/delta, not '${expand}'.`);
      let select = query.get('$select') === null ? undefined : selection(query, [GROUP_PROPERTIES, ['members']], GROUP_DEFAULT_SELECT, 'group');
      if (select && expand !== null && !select.includes('members')) select = [...select, 'members'];
      round = { since: delta === null ? undefined : tenant.version, after: 0, upTo: tenant.version, select };
    }

    const preferred = maxPageSize(exchange.request);
    const pageSize = preferred ?? round.pageSize ?? DEFAULT_PAGE;
    const members = round.select === undefined || round.select.includes('members');
    const properties = round.select?.filter((name) => name !== 'members') ?? GROUP_DEFAULT_SELECT;
    const changes = tenant.groupChanges(round.since, round.upTo, members).filter((change) => change.key > round.after);
    const page = changes.slice(0, pageSize);
    const body: Record<string, unknown> = { '@odata.context': `${url}/v1.0/$metadata#groups${round.select ? `(${round.select.join(',')})` : ''}` };
    const last = page.at(-1);
    if (changes.length > pageSize && last) {
      const state: GroupSkipState = { kind: 'groupSkip', tenant: tenant.tenantId, generation: tenant.deltaGeneration, ...(round.since === undefined ? {} : { since: round.since }), after: last.key, upTo: round.upTo, select: round.select, pageSize: round.pageSize ?? preferred };
      body['@odata.nextLink'] = `${url}/v1.0/groups/delta?$skiptoken=${encodeState(state)}`;
    } else {
      const state: GroupDeltaState = { kind: 'groupDelta', tenant: tenant.tenantId, generation: tenant.deltaGeneration, version: round.upTo, select: round.select };
      body['@odata.deltaLink'] = `${url}/v1.0/groups/delta?$deltatoken=${encodeState(state)}`;
    }
    body.value = page.map((change) => {
      if (change.removed || !change.group) return { id: change.id, '@removed': { reason: 'changed' } };
      const item = project(groupProperties(change.group), properties);
      const memberDelta = [
        ...change.removedMembers.map(([id, type]) => ({ '@odata.type': `#microsoft.graph.${type}`, id, '@removed': { reason: 'deleted' } })),
        ...change.added.map(([id, type]) => ({ '@odata.type': `#microsoft.graph.${type}`, id })),
      ];
      return memberDelta.length > 0 ? { ...item, 'members@delta': memberDelta } : item;
    });
    const applied: Record<string, string> = preferred === undefined ? {} : { 'preference-applied': `odata.maxpagesize=${preferred}` };
    sendJson(exchange.response, 200, body, { ...graphHeaders(exchange.request), ...applied });
  }

  /** A token of this tenant's current generation, or 410 (expired) / 400 (not a token of the fake's). */
  function readDeltaToken<K extends TokenState['kind']>(tenant: Tenant, token: string, kind: K): Extract<TokenState, { kind: K }> {
    const state = decodeState(token);
    if (state?.kind !== kind || state.tenant !== tenant.tenantId) {
      throw new GraphFailure(400, 'Request_BadRequest', `The ${kind === 'skip' || kind === 'groupSkip' ? '$skiptoken' : '$deltatoken'} is malformed or not for this tenant.`);
    }
    if (state.generation !== tenant.deltaGeneration) {
      throw new GraphFailure(410, 'syncStateNotFound', 'The sync state generation is not found. Delta tokens may be invalid or expired.');
    }
    return state as Extract<TokenState, { kind: K }>;
  }

  /** `POST /users/{id}/checkMemberGroups` `{ groupIds }`: those of the groups the user is a member of, transitively. */
  async function checkMemberGroups(exchange: GraphExchange): Promise<void> {
    const text = await readBody(exchange.request);
    const id = decodeURIComponent(exchange.params[0] ?? '');
    if (!exchange.tenant.users.has(id)) throw new GraphFailure(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new GraphFailure(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
    }
    const groupIds = parsed && typeof parsed === 'object' ? (parsed as { groupIds?: unknown }).groupIds : undefined;
    if (!Array.isArray(groupIds) || !groupIds.every((groupId): groupId is string => typeof groupId === 'string')) {
      throw new GraphFailure(400, 'Request_BadRequest', "Invalid value specified for property 'groupIds' of resource 'checkMemberGroups'.");
    }
    if (groupIds.length > MAX_CHECKED_GROUPS) {
      throw new GraphFailure(400, 'Request_BadRequest', `The number of group ids exceeds the maximum of ${MAX_CHECKED_GROUPS}.`);
    }
    const value = [...new Set(groupIds)].filter((groupId) => {
      const group = exchange.tenant.groups.get(groupId);
      return group !== undefined && exchange.tenant.isTransitiveMember(group, id);
    });
    sendJson(exchange.response, 200, { '@odata.context': `${url}/v1.0/$metadata#Collection(Edm.String)`, value }, graphHeaders(exchange.request));
  }

  /** `GET /users/{id}?$select=…`. */
  function getUser(exchange: GraphExchange): void {
    const id = decodeURIComponent(exchange.params[0] ?? '');
    const user = exchange.tenant.users.get(id);
    if (!user) throw new GraphFailure(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    const select = selection(exchange.url.searchParams, [USER_PROPERTIES], USER_DEFAULT_SELECT, 'user');
    sendJson(exchange.response, 200, { '@odata.context': `${url}/v1.0/$metadata#users/$entity`, ...project(userProperties(user), select) }, graphHeaders(exchange.request));
  }

  function getGroup(exchange: GraphExchange): void {
    const group = requireGroup(exchange);
    const select = selection(exchange.url.searchParams, [GROUP_PROPERTIES], GROUP_DEFAULT_SELECT, 'group');
    sendJson(exchange.response, 200, { '@odata.context': `${url}/v1.0/$metadata#groups/$entity`, ...project(groupProperties(group), select) }, graphHeaders(exchange.request));
  }

  /** `members` or `transitiveMembers`, optionally cast to `microsoft.graph.user` / `microsoft.graph.group`. */
  function listMembers(transitive: boolean) {
    return (exchange: GraphExchange): void => {
      const group = requireGroup(exchange);
      const cast = exchange.params[1]?.toLowerCase() as 'user' | 'group' | undefined;
      const query = exchange.url.searchParams;
      rejectFilter(query, []);
      const types = cast === 'user' ? [USER_PROPERTIES] : cast === 'group' ? [GROUP_PROPERTIES] : [USER_PROPERTIES, GROUP_PROPERTIES];
      const select = selection(query, types, cast === 'group' ? GROUP_DEFAULT_SELECT : USER_DEFAULT_SELECT, cast ?? 'directoryObject');
      const members = (transitive ? exchange.tenant.transitiveMembers(group) : exchange.tenant.directMembers(group)).filter(
        (member) => cast === undefined || member.kind === cast,
      );
      sendPage(exchange, cast ? `${cast}s` : 'directoryObjects', members, (member) => {
        const properties = member.kind === 'user' ? userProperties(member.user) : groupProperties(member.group);
        const known = member.kind === 'user' ? USER_PROPERTIES : GROUP_PROPERTIES;
        return { '@odata.type': `#microsoft.graph.${member.kind}`, ...project(properties, select.filter((name) => known.includes(name))) };
      });
    };
  }

  function requireGroup(exchange: GraphExchange): FakeGroup {
    const id = decodeURIComponent(exchange.params[0] ?? '');
    const group = exchange.tenant.groups.get(id);
    if (!group) throw new GraphFailure(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    return group;
  }

  /**
   * Sends one page of `items` (`$top`, `$skiptoken`, `$count`) with an absolute `@odata.nextLink` if more remain.
   * Only the page's items go through `toItem`: projecting a whole large directory for every page is what made
   * paging 100,000 users slow.
   */
  function sendPage<T>(exchange: Exchange, entitySet: string, items: readonly T[], toItem: (item: T) => object = (item) => item as object, maxPage = MAX_PAGE): void {
    const query = exchange.url.searchParams;
    const top = Math.min(pageSize(query.get('$top')), maxPage);
    const offset = skipOffset(query.get('$skiptoken'));
    const page = items.slice(offset, offset + top);
    const body: Record<string, unknown> = { '@odata.context': `${url}/v1.0/$metadata#${entitySet}` };
    if (query.get('$count') === 'true') {
      if (exchange.request.headers.consistencylevel?.toString().toLowerCase() !== 'eventual') {
        throw new GraphFailure(400, 'Request_BadRequest', '$count is not currently supported.');
      }
      if (offset === 0) body['@odata.count'] = items.length;
    }
    if (offset + top < items.length) {
      const kept = exchange.rawQuery.filter((part) => !part.toLowerCase().startsWith('$skiptoken='));
      const pathname = (exchange.request.url ?? '').split('?')[0] ?? '';
      body['@odata.nextLink'] = `${url}${pathname}?${[...kept, `$skiptoken=${skipToken(offset + top)}`].join('&')}`;
    }
    body.value = page.map(toItem);
    sendJson(exchange.response, 200, body, graphHeaders(exchange.request));
  }

  // ----- Routing -----------------------------------------------------------------------------------------------

  /** Graph's gate for every `/v1.0` route: fault injection, then the bearer token, then admin consent. */
  function graph(roles: string[], handle: (exchange: GraphExchange) => Promise<void> | void): Route['handle'] {
    return (exchange) => {
      injectFaults(exchange.request.url ?? '');
      const tenant = authenticate(exchange.request);
      if (!roles.some((role) => tenant.grantedRoles.includes(role))) {
        throw new GraphFailure(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
      }
      return handle({ ...exchange, tenant });
    };
  }

  function injectFaults(path: string): void {
    if (failure) {
      if (failure.after > 0) failure.after -= 1;
      else throw new GraphFailure(failure.status, errorCodeFor(failure.status), failure.message ?? `The fake Graph server was told to fail (HTTP ${failure.status}).`, failure.status === 503 || failure.status === 504 ? { 'retry-after': '0' } : {});
    }
    if (throttled.remaining > 0 && (!throttled.only || throttled.only.test(path))) {
      throttled.remaining -= 1;
      throw new GraphFailure(429, 'TooManyRequests', 'Too many requests.', { 'retry-after': String(throttled.retryAfterSeconds) });
    }
  }

  function authenticate(request: IncomingMessage): Tenant {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const challenge = { 'www-authenticate': `Bearer realm="", authorization_uri="${url}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"` };
    if (!match?.[1]) throw new GraphFailure(401, 'InvalidAuthenticationToken', 'Access token is empty.', challenge);
    const issued = tokens.get(match[1]);
    if (!issued) throw new GraphFailure(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.', challenge);
    return issued.tenant;
  }

  /** `POST /$batch`: the batch passes with the caller's token; each of its requests meets Graph's gate on its own. */
  async function batch(exchange: Exchange): Promise<void> {
    authenticate(exchange.request);
    const parsed = parseBatch(await readBody(exchange.request));
    if (typeof parsed === 'string') throw new GraphFailure(400, 'BadRequest', parsed);
    if (exchange.logged) exchange.logged.subRequests = parsed.map((request) => underVersion(request.url));
    const responses = await answerBatch(parsed, exchange.request.headers.authorization, answer);
    sendJson(exchange.response, 200, { responses }, graphHeaders(exchange.request));
  }

  const routes: Route[] = [
    { method: 'GET', pattern: /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/, handle: openIdConfiguration },
    { method: 'GET', pattern: /^\/([^/]+)\/discovery\/v2\.0\/keys$/, handle: keys },
    { method: 'POST', pattern: /^\/([^/]+)\/oauth2\/v2\.0\/token$/, handle: token },
    { method: 'GET', pattern: /^\/v1\.0\/users$/i, handle: graph(ROLES.users, listUsers) },
    { method: 'GET', pattern: /^\/v1\.0\/users\/(?:microsoft\.graph\.)?delta(?:\(\))?$/i, handle: graph(ROLES.users, usersDelta) },
    { method: 'POST', pattern: /^\/v1\.0\/users\/([^/]+)\/(?:microsoft\.graph\.)?checkMemberGroups$/i, handle: graph(ROLES.groups, checkMemberGroups) },
    { method: 'GET', pattern: /^\/v1\.0\/users\/(?!delta(?:\(\))?$|microsoft\.graph\.delta)([^/]+)$/i, handle: graph(ROLES.users, getUser) },
    { method: 'GET', pattern: /^\/v1\.0\/groups$/i, handle: graph(ROLES.groups, listGroups) },
    { method: 'GET', pattern: /^\/v1\.0\/groups\/(?:microsoft\.graph\.)?delta(?:\(\))?$/i, handle: graph(ROLES.groups, groupsDelta) },
    { method: 'GET', pattern: /^\/v1\.0\/groups\/(?!delta(?:\(\))?$|microsoft\.graph\.delta)([^/]+)$/i, handle: graph(ROLES.groups, getGroup) },
    { method: 'GET', pattern: /^\/v1\.0\/groups\/([^/]+)\/members(?:\/microsoft\.graph\.(user|group))?$/i, handle: graph(ROLES.groups, listMembers(false)) },
    { method: 'GET', pattern: /^\/v1\.0\/groups\/([^/]+)\/transitiveMembers(?:\/microsoft\.graph\.(user|group))?$/i, handle: graph(ROLES.groups, listMembers(true)) },
    { method: 'POST', pattern: /^\/v1\.0\/\$batch$/i, handle: batch },
  ];

  async function dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = request.url ?? '/';
    const logged: GraphServerRequest = { method: request.method ?? 'GET', path: target, ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}), startedAt: performance.now() };
    requests.push(logged);
    if (new URL(target, url).pathname.toLowerCase().startsWith('/v1.0/')) await roundTrip(latencyMs);
    await answer(request, response, logged);
    // Every answer is sent by now (handlers end the response before they return).
    logged.endedAt = performance.now();
  }

  /** Routes one request (a batch's too) to its handler, and answers a failure as Graph or Entra would. */
  async function answer(request: IncomingMessage, response: ServerResponse, logged?: GraphServerRequest): Promise<void> {
    const target = request.url ?? '/';
    const parsed = new URL(target, url);
    const rawQuery = (target.split('?')[1] ?? '').split('&').filter(Boolean);
    const isGraph = parsed.pathname.toLowerCase().startsWith('/v1.0/');
    try {
      const matching = routes.flatMap((route) => {
        const match = route.pattern.exec(parsed.pathname);
        return match ? [{ route, params: match.slice(1) }] : [];
      });
      const found = matching.find(({ route }) => route.method === request.method);
      if (found) {
        await found.route.handle({ request, response, url: parsed, rawQuery, params: found.params, ...(logged ? { logged } : {}) });
      } else if (matching.length > 0) {
        throw isGraph ? new GraphFailure(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.') : new EntraFailure(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
      } else if (isGraph) {
        authenticate(request);
        throw new GraphFailure(400, 'BadRequest', `Resource not found for the segment '${parsed.pathname.split('/')[2] ?? ''}'.`);
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      }
    } catch (error) {
      if (error instanceof GraphFailure) {
        sendJson(response, error.status, graphErrorBody(request, error.code, error.message), { ...graphHeaders(request), ...error.headers });
      } else if (error instanceof EntraFailure) {
        sendJson(response, error.status, entraErrorBody(request, error, url));
      } else {
        sendJson(response, 500, graphErrorBody(request, 'InternalServerError', error instanceof Error ? error.message : String(error)), graphHeaders(request));
      }
    }
    if (isGraph) answered?.(target);
  }

  const server = https.createServer({ cert: tls.cert, key: tls.key }, (request, response) => void dispatch(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    addTenant(tenantId, app) {
      if (findTenant(tenantId)) throw new Error(`Tenant ${tenantId} already exists`);
      const tenant = new Tenant(tenantId, app.clientId, app);
      tenants.set(tenantId.toLowerCase(), tenant);
      return tenant;
    },
    tenant(tenantId) {
      const tenant = findTenant(tenantId);
      if (!tenant) throw new Error(`No tenant ${tenantId}`);
      return tenant;
    },
    throttle(count, retryAfterSeconds = 0, only) {
      throttled = { remaining: count, retryAfterSeconds, ...(only ? { only } : {}) };
    },
    failAfter(requestsFromNow, status = 500, message) {
      failure = { after: requestsFromNow, status, ...(message === undefined ? {} : { message }) };
    },
    onAnswered(listener) {
      answered = listener;
    },
    heal() {
      failure = undefined;
      throttled = { remaining: 0, retryAfterSeconds: 0 };
      answered = undefined;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    expireDeltaTokens(tenantId) {
      const expired = tenantId === undefined ? [...tenants.values()] : [findTenant(tenantId)];
      for (const tenant of expired) {
        if (!tenant) throw new Error(`No tenant ${tenantId ?? ''}`);
        tenant.deltaGeneration += 1;
      }
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Query options and wire formats
// ---------------------------------------------------------------------------------------------------------------

/** `$select` resolved against the type(s) of the collection (case-insensitive, canonical casing), plus `id`. */
function selection(query: URLSearchParams, types: string[][], defaults: string[], typeName: string): string[] {
  const raw = query.get('$select');
  if (raw === null) return defaults;
  const names = raw.split(',').map((name) => name.trim()).filter(Boolean);
  const resolved = names.map((name) => {
    for (const properties of types) {
      const canonical = properties.find((property) => property.toLowerCase() === name.toLowerCase());
      if (canonical) return canonical;
    }
    throw new GraphFailure(400, 'Request_BadRequest', `Could not find a property named '${name}' on type 'microsoft.graph.${typeName}'.`);
  });
  return [...new Set(['id', ...resolved])];
}

/** `manager` or `manager($select=a,b)` → the manager's properties; no `$expand` → undefined. */
function managerExpansion(expand: string | null): string[] | undefined {
  if (expand === null) return undefined;
  const match = /^manager(?:\(\$select=([^)]*)\))?$/i.exec(expand.trim());
  if (!match) throw new GraphFailure(400, 'Request_UnsupportedQuery', `The fake Graph server only expands 'manager' or 'manager($select=...)', not '${expand}'.`);
  if (match[1] === undefined) return USER_DEFAULT_SELECT;
  return selection(new URLSearchParams({ $select: match[1] }), [USER_PROPERTIES], USER_DEFAULT_SELECT, 'user');
}

/**
 * `/users`' `$filter`: none, or comparisons of userPrincipalName with `ge` and `le` joined by `and` (both work by
 * default, without advanced query parameters; `lt`, `gt` do not exist on directory objects). Strings compare
 * case-insensitively, as Entra's do: not in code-point order, so a client cannot count on JavaScript's.
 */
function upnRange(filter: string | null): (upn: string) => boolean {
  if (filter === null) return () => true;
  const clauses = filter.trim().split(/\s+and\s+/i).map((clause) => /^userPrincipalName\s+(ge|le)\s+'((?:[^']|'')*)'$/i.exec(clause.trim()));
  if (!clauses.every(Boolean)) {
    throw new GraphFailure(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property 'userPrincipalName' of resource 'User': '${filter}'.`);
  }
  const bounds = clauses.map((match) => ({ op: match![1]!.toLowerCase(), value: match![2]!.replaceAll("''", "'") }));
  return (upn) => bounds.every(({ op, value }) => (op === 'ge' ? UPN_ORDER.compare(upn, value) >= 0 : UPN_ORDER.compare(upn, value) <= 0));
}

const UPN_ORDER = new Intl.Collator('en', { sensitivity: 'accent' });

/** Only the given `$filter` expressions are supported; returns the one used. */
function rejectFilter(query: URLSearchParams, supported: string[]): string | undefined {
  const filter = query.get('$filter');
  if (filter === null) return undefined;
  const normalised = filter.trim().replace(/\s+/g, ' ');
  const match = supported.find((expression) => expression.toLowerCase() === normalised.toLowerCase());
  if (!match) throw new GraphFailure(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property or relationship: '${filter}'.`);
  return match;
}

function pageSize(top: string | null): number {
  if (top === null) return DEFAULT_PAGE;
  const size = Number(top);
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) {
    throw new GraphFailure(400, 'Request_BadRequest', `Invalid page size specified: '${top}'. Must be between 1 and ${MAX_PAGE} inclusive.`);
  }
  return size;
}

/** Opaque to clients; the fake keeps the offset in it. */
function skipToken(offset: number): string {
  return Buffer.from(`RFNwdA:${offset}`).toString('base64url');
}

function skipOffset(token: string | null): number {
  if (token === null) return 0;
  const match = /^RFNwdA:(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
  if (!match?.[1]) throw new GraphFailure(400, 'Directory_ExpiredPageToken', 'The specified page token value has expired and can no longer be included in your request.');
  return Number(match[1]);
}

/** `Prefer: odata.maxpagesize=N` (1…999), or undefined when absent or unusable (Graph ignores such preferences). */
function maxPageSize(request: IncomingMessage): number | undefined {
  const prefer = request.headers.prefer;
  const match = /(?:^|[,;\s])odata\.maxpagesize\s*=\s*(\d+)/i.exec(Array.isArray(prefer) ? prefer.join(',') : (prefer ?? ''));
  const size = Number(match?.[1]);
  return Number.isInteger(size) && size >= 1 && size <= MAX_PAGE ? size : undefined;
}

/** Opaque to clients (base64url JSON): the fake keeps a delta round's whole state in its tokens. */
function encodeState(state: TokenState): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

function decodeState(token: string): TokenState | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString());
    if (!value || typeof value !== 'object') return undefined;
    const state = value as { [K in keyof SkipState | keyof DeltaState | keyof GroupSkipState]?: unknown };
    const skip = state.kind === 'skip' || state.kind === 'groupSkip';
    const groups = state.kind === 'groupSkip' || state.kind === 'groupDelta';
    const numbers = skip ? [state.after, state.upTo, ...(state.kind === 'groupSkip' && state.since !== undefined ? [state.since] : [])] : [state.version];
    if (!['skip', 'delta', 'groupSkip', 'groupDelta'].includes(state.kind as string) || typeof state.tenant !== 'string' || typeof state.generation !== 'number') return undefined;
    if (!numbers.every((number) => typeof number === 'number')) return undefined;
    const known = groups ? [...GROUP_PROPERTIES, 'members'] : USER_PROPERTIES;
    if (state.select !== undefined && !(Array.isArray(state.select) && state.select.every((name) => known.includes(name as string)))) return undefined;
    return value as TokenState;
  } catch {
    return undefined;
  }
}

function project(properties: Record<string, unknown>, select: string[]): Record<string, unknown> {
  return Object.fromEntries(select.map((name) => [name, properties[name] ?? null]));
}

function decodeJwtPart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString());
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function errorCodeFor(status: number): string {
  const codes: Record<number, string> = { 400: 'BadRequest', 401: 'InvalidAuthenticationToken', 403: 'Authorization_RequestDenied', 404: 'Request_ResourceNotFound', 429: 'TooManyRequests', 500: 'InternalServerError', 502: 'BadGateway', 503: 'ServiceNotAvailable', 504: 'GatewayTimeout' };
  return codes[status] ?? 'UnknownError';
}

function tenantNotFound(tenantId: string, error: string): EntraFailure {
  return new EntraFailure(400, error, 90002, `Tenant '${tenantId}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`);
}

/** A new request id, and the caller's `client-request-id` (a header for Graph, a query parameter from MSAL). */
function requestIds(request: IncomingMessage): { requestId: string; clientRequestId: string } {
  const requestId = randomUUID();
  const fromQuery = new URL(request.url ?? '/', 'https://fake').searchParams.get('client-request-id');
  return { requestId, clientRequestId: request.headers['client-request-id']?.toString() ?? fromQuery ?? requestId };
}

function graphHeaders(request: IncomingMessage): Record<string, string> {
  const { requestId, clientRequestId } = requestIds(request);
  return { 'content-type': GRAPH_CONTENT_TYPE, 'request-id': requestId, 'client-request-id': clientRequestId };
}

function graphErrorBody(request: IncomingMessage, code: string, message: string): object {
  const { requestId, clientRequestId } = requestIds(request);
  return { error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': clientRequestId } } };
}

function entraErrorBody(request: IncomingMessage, failure: EntraFailure, url: string): object {
  const { requestId: traceId, clientRequestId: correlationId } = requestIds(request);
  const timestamp = `${new Date().toISOString().slice(0, 19).replace('T', ' ')}Z`;
  return {
    error: failure.error,
    error_description: `AADSTS${failure.aadsts}: ${failure.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [failure.aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${url}/error?code=${failure.aadsts}`,
  };
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
