import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { Client, GraphError, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import pLimit from 'p-limit';
import { z } from 'zod';
import type { SecretResolver } from '../../config/secrets.js';
import type { ConnectionProfile, EntraProfile } from '../../connections/profile.js';
import { AppError, isAppError } from '../../errors/app-error.js';
import type { AvailableGroup, DirectorySource, SourcePage } from '../../sync/directory-source.js';
import type { SourceEntry } from '../../sync/model.js';
import type { Run } from '../../sync/run-model.js';
import { selectGroups } from '../../sync/rules/groups.js';
import { mapGraphUser, userSelect, type GraphUser } from './map-graph-user.js';

const CLOUDS = {
  global: { graph: 'https://graph.microsoft.com', authority: 'https://login.microsoftonline.com' },
  usgov: { graph: 'https://graph.microsoft.us', authority: 'https://login.microsoftonline.us' },
  china: { graph: 'https://microsoftgraph.chinacloudapi.cn', authority: 'https://login.chinacloudapi.cn' },
} as const;

/** Graph's largest page; groups pages stay small so a cursor listing them fits in a queue message. */
const GRAPH_MAX_PAGE = 999;
const GROUP_PAGE = 100;
/** The SDK honours Retry-After on 429/503/504; after these retries the page job's own redelivery takes over. */
const RETRIES = 8;
/** Graph requests one groups-phase page job may make while gathering a page's worth of memberships. */
const GROUP_REQUESTS_PER_PAGE = 20;

/**
 * Where the listing is: each page job reads one Graph page. Users first (transitive members of each
 * selected group, in turn), then — with group sync on — the groups and their members, then managers.
 */
const cursorSchema = z.discriminatedUnion('phase', [
  /** `member`: the selected group's name when group sync keeps it, so its memberships come with its users. */
  z.object({ phase: z.literal('users'), group: z.number().int().min(0), next: z.string().optional(), member: z.string().optional() }),
  z.object({
    phase: z.literal('groups'),
    listNext: z.string().optional(),
    listed: z.boolean(),
    queue: z.array(z.object({ id: z.string(), name: z.string() })),
    current: z.object({ id: z.string(), name: z.string(), next: z.string().optional() }).optional(),
  }),
  z.object({ phase: z.literal('managers'), next: z.string().optional() }),
  /** An incremental run: the users delta's pages, then the groups delta's (for membership changes). */
  z.object({ phase: z.literal('changes'), next: z.string(), groups: z.string() }),
  z.object({ phase: z.literal('member-changes'), next: z.string(), users: z.string() }),
]);
type Cursor = z.infer<typeof cursorSchema>;

interface GraphPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

interface GraphGroup {
  id: string;
  displayName?: string;
  securityEnabled?: boolean;
  mailEnabled?: boolean;
  groupTypes?: string[];
}

/** Microsoft Entra ID tenants read through Microsoft Graph with the app's own credential. */
export class GraphDirectorySource implements DirectorySource {
  readonly requiresPassword = false;
  readonly listsUsersRepeatedly = true;
  readonly supportsIncremental = true;
  private readonly clients = new Map<string, Client>();
  private readonly pageSize: number;

  constructor(
    private readonly secrets: SecretResolver,
    pageSize: number,
  ) {
    this.pageSize = Math.min(pageSize, GRAPH_MAX_PAGE);
  }

  async readPage(request: { run: Run; page: number; cursor: unknown }): Promise<SourcePage> {
    const profile = entraProfileOf(request.run.profile);
    if (!profile.selectedGroups.length) {
      throw new AppError('no-groups-selected', `No security group is selected for "${profile.name}", so no users sync (select at least one group).`);
    }
    const { run } = request;
    const first = request.cursor === null || request.cursor === undefined;
    const client = this.client(profile);
    const ref = `page ${request.page}`;
    try {
      if (first && run.kind === 'incremental') {
        const checkpoint = parseCheckpoint(run.checkpoint, profile);
        return await this.changesPage(client, profile, { phase: 'changes', next: checkpoint.users, groups: checkpoint.groups }, ref);
      }
      const cursor: Cursor = first ? { phase: 'users', group: 0 } : cursorSchema.parse(request.cursor);
      switch (cursor.phase) {
        case 'changes':
          return await this.changesPage(client, profile, cursor, ref);
        case 'member-changes':
          return await this.memberChangesPage(client, profile, cursor, ref);
        case 'users': {
          const page = await this.usersPage(client, profile, cursor, ref);
          // A full run starts the delta chain at its own start: changes made while it lists are read again next time.
          return first ? { ...page, checkpoint: await this.latestCheckpoint(client, profile) } : page;
        }
        case 'groups':
          return await this.groupsPage(client, profile, cursor, ref);
        case 'managers':
          return await this.managersPage(client, profile, cursor, ref);
      }
    } catch (error) {
      throw graphFailure(error, profile);
    }
  }

  /** Acquires a token and reads one group: names what is wrong without echoing the secret. */
  async testConnection(profileInput: ConnectionProfile): Promise<{ detail: string; warnings: string[] }> {
    const profile = entraProfileOf(profileInput);
    const client = this.client(profile);
    try {
      if (profile.selectedGroups[0]) {
        const group = (await get<GraphGroup>(client, `/groups/${encodeURIComponent(profile.selectedGroups[0])}?$select=id,displayName`)) as GraphGroup;
        return { detail: `Connected to tenant ${profile.tenantId}; read the selected group "${group.displayName ?? group.id}".`, warnings: [] };
      }
      await get<GraphPage<GraphGroup>>(client, `/groups?$select=id,displayName&$top=1`);
      return { detail: `Connected to tenant ${profile.tenantId}; no group is selected yet, so no users would sync.`, warnings: [] };
    } catch (error) {
      throw graphFailure(error, profile);
    }
  }

  /** The tenant's security groups (and mail-enabled ones, if the profile includes them), for an admin to pick. */
  async availableGroups(profileInput: ConnectionProfile): Promise<AvailableGroup[]> {
    const profile = entraProfileOf(profileInput);
    const client = this.client(profile);
    const groups: AvailableGroup[] = [];
    try {
      let url: string | undefined = `/groups?$select=id,displayName,securityEnabled,mailEnabled,groupTypes&$top=${GRAPH_MAX_PAGE}`;
      while (url) {
        const page: GraphPage<GraphGroup> = await get(client, url);
        for (const group of page.value) {
          if (!inScope(profile, group)) continue;
          groups.push({ id: group.id, name: group.displayName ?? group.id, kind: group.mailEnabled ? 'mail-enabled security' : 'security' });
        }
        url = page['@odata.nextLink'];
      }
    } catch (error) {
      throw graphFailure(error, profile);
    }
    return groups.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async usersPage(client: Client, profile: EntraProfile, start: Extract<Cursor, { phase: 'users' }>, ref: string): Promise<SourcePage> {
    const groupId = profile.selectedGroups[start.group]!;
    // A selected group that group sync keeps has exactly these users as members: note their memberships
    // now rather than list the same (often whole-directory) group again in the groups phase.
    const cursor = start.next === undefined ? { ...start, ...(await this.selectedGroupMembership(client, profile, groupId)) } : start;
    const url =
      cursor.next ??
      `/groups/${encodeURIComponent(groupId)}/transitiveMembers/microsoft.graph.user?$select=${userSelect(profile).join(',')}&$top=${this.pageSize}&$count=true`;
    const page: GraphPage<GraphUser> = await get(client, url, { ConsistencyLevel: 'eventual' });
    const entries = page.value.map((user) => mapGraphUser(profile, user, `${ref} (user ${user.id})`)).filter((entry): entry is SourceEntry => entry !== undefined);
    if (cursor.member !== undefined) {
      for (const member of page.value) entries.push({ kind: 'membership', key: member.id, ref: `${ref} (group ${groupId})`, group: cursor.member });
    }
    const next: Cursor | null = page['@odata.nextLink']
      ? { ...cursor, next: page['@odata.nextLink'] }
      : cursor.group + 1 < profile.selectedGroups.length
        ? { phase: 'users', group: cursor.group + 1 }
        : afterUsers(profile);
    return { entries, next };
  }

  /** `{ member: name }` when group sync keeps the selected group (the groups phase then skips it), else nothing. */
  private async selectedGroupMembership(client: Client, profile: EntraProfile, groupId: string): Promise<{ member?: string }> {
    if (profile.groups.mode === 'off') return {};
    const group = await get<GraphGroup>(client, `/groups/${encodeURIComponent(groupId)}?$select=id,displayName,securityEnabled,mailEnabled,groupTypes`);
    return keptGroup(profile, group) ? { member: group.displayName ?? group.id } : {};
  }

  /**
   * The groups phase: one page job reads on through the group lists and the kept groups' members until
   * it holds a page's worth of memberships (or has made GROUP_REQUESTS_PER_PAGE requests), so hundreds of
   * small groups do not each cost a page job — a queue message, a page row and staging blobs — of their own.
   */
  private async groupsPage(client: Client, profile: EntraProfile, start: Extract<Cursor, { phase: 'groups' }>, ref: string): Promise<SourcePage> {
    const entries: SourceEntry[] = [];
    let cursor = start;
    for (let requests = 1; ; requests++) {
      const step = await this.groupsStep(client, profile, cursor, ref);
      entries.push(...step.entries);
      if (!step.next || (step.next as Cursor).phase !== 'groups') return { entries, next: step.next ?? null };
      cursor = step.next as Extract<Cursor, { phase: 'groups' }>;
      if (entries.length >= this.pageSize || requests >= GROUP_REQUESTS_PER_PAGE) return { entries, next: cursor };
    }
  }

  private async groupsStep(client: Client, profile: EntraProfile, cursor: Extract<Cursor, { phase: 'groups' }>, ref: string): Promise<SourcePage> {
    const current = cursor.current ?? cursor.queue[0];
    if (current) {
      const queue = cursor.current ? cursor.queue : cursor.queue.slice(1);
      const url = cursor.current?.next ?? `/groups/${encodeURIComponent(current.id)}/transitiveMembers/microsoft.graph.user?$select=id&$top=${this.pageSize}&$count=true`;
      const page: GraphPage<{ id: string }> = await get(client, url, { ConsistencyLevel: 'eventual' });
      const entries: SourceEntry[] = page.value.map((member) => ({ kind: 'membership', key: member.id, ref: `${ref} (group ${current.id})`, group: current.name }));
      const nextLink = page['@odata.nextLink'];
      const next: Cursor = nextLink
        ? { ...cursor, queue, current: { id: current.id, name: current.name, next: nextLink } }
        : { phase: 'groups', listed: cursor.listed, queue, ...(cursor.listNext ? { listNext: cursor.listNext } : {}) };
      return { entries, next: this.groupsDone(next) ? afterGroups(profile) : next };
    }
    const url = cursor.listNext ?? `/groups?$select=id,displayName,securityEnabled,mailEnabled,groupTypes&$top=${GROUP_PAGE}`;
    const page: GraphPage<GraphGroup> = await get(client, url);
    // Selected groups' memberships came with their users (see usersPage).
    const wanted = page.value.filter((group) => keptGroup(profile, group) && !profile.selectedGroups.includes(group.id));
    const next: Cursor = {
      phase: 'groups',
      listed: true,
      queue: wanted.map((group) => ({ id: group.id, name: group.displayName ?? group.id })),
      ...(page['@odata.nextLink'] ? { listNext: page['@odata.nextLink'] } : {}),
    };
    return { entries: [], next: this.groupsDone(next) ? afterGroups(profile) : next };
  }

  /** Delta links for users and groups meaning "from now on": the checkpoint of a full run. */
  private async latestCheckpoint(client: Client, profile: EntraProfile): Promise<string> {
    const latest = async (url: string) => {
      const page: GraphPage<unknown> & { '@odata.deltaLink'?: string } = await get(client, url);
      if (!page['@odata.deltaLink']) throw new AppError('source-unavailable', `Microsoft Graph gave no delta link for ${url}.`, { transient: true });
      return page['@odata.deltaLink'];
    };
    const checkpoint: Checkpoint = {
      users: await latest(`/users/delta?$select=${userSelect(profile).join(',')}&$deltatoken=latest`),
      groups: await latest('/groups/delta?$select=displayName,members&$deltatoken=latest'),
    };
    return JSON.stringify(checkpoint);
  }

  /**
   * One page of the users that changed since the checkpoint. A changed user still in a selected group
   * is read as a partial user (groups and manager stay as stored until the next full run); a deleted
   * user, or one no longer in any selected group, is absent: disabled if we have them.
   */
  private async changesPage(client: Client, profile: EntraProfile, cursor: Extract<Cursor, { phase: 'changes' }>, ref: string): Promise<SourcePage> {
    const page: GraphPage<GraphUser & { '@removed'?: unknown }> & { '@odata.deltaLink'?: string } = await getDelta(client, cursor.next, profile);
    const limit = pLimit(8);
    const entries = await Promise.all(
      page.value.map((user) => limit(() => (user['@removed'] ? absent(user.id, ref, 'removed-from-directory') : this.reread(client, profile, user.id, ref)))),
    );
    const nextLink = page['@odata.nextLink'];
    if (nextLink) return { entries, next: { ...cursor, next: nextLink } };
    if (!page['@odata.deltaLink']) throw new AppError('source-unavailable', 'The users delta ended without a delta link.', { transient: true });
    return { entries, next: { phase: 'member-changes', next: cursor.groups, users: page['@odata.deltaLink'] } };
  }

  /**
   * One page of the groups whose membership changed: every user added to or removed from any group
   * (nested ones included) is checked against the selected groups again, so joining or leaving the
   * scope is seen within the interval, not only at the next full run.
   */
  private async memberChangesPage(client: Client, profile: EntraProfile, cursor: Extract<Cursor, { phase: 'member-changes' }>, ref: string): Promise<SourcePage> {
    const page: GraphPage<{ id: string; 'members@delta'?: { '@odata.type'?: string; id: string }[] }> & { '@odata.deltaLink'?: string } = await getDelta(client, cursor.next, profile);
    const userIds = new Set<string>();
    for (const group of page.value) {
      for (const member of group['members@delta'] ?? []) if (member['@odata.type'] === '#microsoft.graph.user') userIds.add(member.id);
    }
    const limit = pLimit(8);
    const entries = await Promise.all([...userIds].map((id) => limit(() => this.reread(client, profile, id, ref))));
    const nextLink = page['@odata.nextLink'];
    if (nextLink) return { entries, next: { ...cursor, next: nextLink } };
    if (!page['@odata.deltaLink']) throw new AppError('source-unavailable', 'The groups delta ended without a delta link.', { transient: true });
    const checkpoint: Checkpoint = { users: cursor.users, groups: page['@odata.deltaLink'] };
    return { entries, next: null, checkpoint: JSON.stringify(checkpoint) };
  }

  /** A user the deltas name, as it is now: in scope (read whole), or absent. */
  private async reread(client: Client, profile: EntraProfile, userId: string, ref: string): Promise<SourceEntry> {
    const at = `${ref} (user ${userId})`;
    let whole: GraphUser;
    try {
      if (!(await this.inSelectedGroups(client, profile, userId))) return absent(userId, ref, 'left-scope');
      // A delta entry may carry only the properties that changed: read the user whole.
      whole = await get(client, `/users/${encodeURIComponent(userId)}?$select=${userSelect(profile).join(',')}`);
    } catch (error) {
      // Deleted between the delta and now: the users delta reports the removal.
      if (error instanceof GraphError && error.statusCode === 404) return absent(userId, ref, 'removed-from-directory');
      throw error;
    }
    const entry = mapGraphUser(profile, whole, at);
    if (!entry || entry.kind !== 'user') return absent(userId, ref, 'left-scope');
    return { ...entry, user: { ...entry.user, partial: true } };
  }

  private async inSelectedGroups(client: Client, profile: EntraProfile, userId: string): Promise<boolean> {
    const result = (await client
      .api(`/users/${encodeURIComponent(userId)}/checkMemberGroups`)
      .middlewareOptions([new RetryHandlerOptions(1, RETRIES)])
      .post({ groupIds: profile.selectedGroups })) as { value: string[] };
    return result.value.length > 0;
  }

  private groupsDone(cursor: Extract<Cursor, { phase: 'groups' }>): boolean {
    return cursor.listed && !cursor.listNext && !cursor.queue.length && !cursor.current;
  }

  private async managersPage(client: Client, profile: EntraProfile, cursor: Extract<Cursor, { phase: 'managers' }>, ref: string): Promise<SourcePage> {
    const url = cursor.next ?? `/users?$select=id&$expand=manager($select=id)&$top=${this.pageSize}`;
    const page: GraphPage<{ id: string; manager?: { id?: string } }> = await get(client, url);
    const entries: SourceEntry[] = page.value
      .filter((user) => user.manager?.id)
      .map((user) => ({ kind: 'manager', key: user.id, ref, manager: user.manager!.id! }));
    return { entries, next: page['@odata.nextLink'] ? { phase: 'managers', next: page['@odata.nextLink'] } : null };
  }

  private client(profile: EntraProfile): Client {
    const { graph, authority } = graphEndpoints(profile);
    const id = `${profile.tenantId}|${profile.clientId}|${graph}|${authority}|${JSON.stringify(profile.credential)}`;
    let client = this.clients.get(id);
    if (!client) {
      const credential = this.credential(profile, authority);
      client = Client.initWithMiddleware({
        authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [`${graph}/.default`] }),
        baseUrl: graph,
        defaultVersion: 'v1.0',
        // The auth handler only signs requests to known Graph hosts; a sovereign or test host is named here.
        customHosts: new Set([new URL(graph).hostname]),
      });
      this.clients.set(id, client);
    }
    return client;
  }

  private credential(profile: EntraProfile, authorityHost: string): TokenCredential {
    const options = { authorityHost, ...(profile.authorityHost ? { disableInstanceDiscovery: true } : {}) };
    if (profile.credential.kind === 'secret') {
      return new ClientSecretCredential(profile.tenantId, profile.clientId, this.secrets.resolve(profile.credential.secretName), options);
    }
    return new ClientCertificateCredential(profile.tenantId, profile.clientId, { certificate: this.secrets.resolve(profile.credential.certificateSecret) }, options);
  }
}

/** An incremental run's starting point: the users and groups delta links of the last successful run. */
const checkpointSchema = z.object({ users: z.string().min(1), groups: z.string().min(1) });
type Checkpoint = z.infer<typeof checkpointSchema>;

function parseCheckpoint(text: string | undefined, profile: EntraProfile): Checkpoint {
  try {
    return checkpointSchema.parse(JSON.parse(text ?? ''));
  } catch {
    throw new AppError('checkpoint-expired', `The checkpoint of "${profile.name}" cannot be read.`);
  }
}

/** Follows a delta link; Graph answers 410 once the token has expired (after about a week). */
async function getDelta<T>(client: Client, url: string, profile: EntraProfile): Promise<T> {
  try {
    return await get<T>(client, url);
  } catch (error) {
    if (error instanceof GraphError && error.statusCode === 410) {
      throw new AppError('checkpoint-expired', `The Graph delta token of "${profile.name}" has expired (${error.code ?? 'HTTP 410'}).`);
    }
    throw error;
  }
}

function absent(key: string, ref: string, reason: 'removed-from-directory' | 'left-scope'): SourceEntry {
  return { kind: 'absent', key, ref: `${ref} (user ${key})`, reason };
}

function entraProfileOf(profile: ConnectionProfile): EntraProfile {
  if (profile.type !== 'entra') throw new AppError('profile-invalid', `"${profile.name}" is not an Entra ID profile.`);
  return profile;
}

/** The Graph and sign-in endpoints of the profile's national cloud, unless set explicitly. */
export function graphEndpoints(profile: EntraProfile): { graph: string; authority: string } {
  const cloud = CLOUDS[profile.cloud];
  return { graph: (profile.graphBaseUrl ?? cloud.graph).replace(/\/+$/, ''), authority: (profile.authorityHost ?? cloud.authority).replace(/\/+$/, '') };
}

function afterUsers(profile: EntraProfile): Cursor | null {
  return profile.groups.mode !== 'off' ? { phase: 'groups', listed: false, queue: [] } : afterGroups(profile);
}

function afterGroups(profile: EntraProfile): Cursor | null {
  return profile.orgChart ? { phase: 'managers' } : null;
}

/** A group whose memberships group sync keeps: in scope, and its name passes the profile's filter. */
function keptGroup(profile: EntraProfile, group: GraphGroup): boolean {
  return inScope(profile, group) && Boolean(selectGroups(profile.groups, [group.displayName ?? ''])?.length);
}

/** Security groups, and mail-enabled (Exchange / Microsoft 365) ones when the profile includes them. */
function inScope(profile: EntraProfile, group: GraphGroup): boolean {
  if (group.mailEnabled) return profile.includeMailEnabledGroups;
  return group.securityEnabled === true;
}

async function get<T>(client: Client, url: string, headers: Record<string, string> = {}): Promise<T> {
  return (await client
    .api(url)
    .headers(headers)
    .middlewareOptions([new RetryHandlerOptions(1, RETRIES)])
    .get()) as T;
}

/** Graph and sign-in failures as errors an admin can act on; never the secret, only what was refused. */
function graphFailure(error: unknown, profile: EntraProfile): AppError {
  if (isAppError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : '';
  // A sign-in failure reaches us from the credential, or wrapped by the Graph client (status -1).
  const code = /AADSTS\d+/.exec(message)?.[0];
  const tenantUnknown = /endpoints_resolution_error/.test(message);
  if (code || tenantUnknown || ['AuthenticationError', 'AuthenticationRequiredError', 'CredentialUnavailableError'].includes(name)) {
    const hint = tenantUnknown
      ? 'the tenant was not found (or its sign-in endpoint cannot be reached)'
      : code === 'AADSTS7000215'
        ? 'the client secret is wrong or expired'
        : code === 'AADSTS700016'
          ? 'the application (client) id is not registered in this tenant'
          : code === 'AADSTS90002'
            ? 'the tenant was not found'
            : 'sign-in failed';
    return new AppError('source-auth-failed', `Could not sign in to tenant ${profile.tenantId}: ${hint}${code ? ` (${code})` : ''}.`);
  }
  if (error instanceof GraphError && error.statusCode > 0) {
    const status = error.statusCode;
    const what = `${error.code ?? 'error'}: ${error.message}`;
    if (status === 401 || status === 403) {
      return new AppError('source-auth-failed', `Microsoft Graph refused the request (${what}). Grant the app admin consent for User.Read.All, Group.Read.All and GroupMember.Read.All.`);
    }
    if (status === 404) return new AppError('source-not-found', `Microsoft Graph has no such object in tenant ${profile.tenantId} (${what}); check the selected group ids.`);
    return new AppError('source-unavailable', `Microsoft Graph answered HTTP ${status} (${what}).`, { transient: status === 429 || status >= 500 });
  }
  return new AppError('source-unavailable', `Could not reach Microsoft Graph: ${message}`, { transient: true });
}
