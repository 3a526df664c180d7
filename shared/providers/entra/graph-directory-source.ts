import type { Client } from '@microsoft/microsoft-graph-client';
import type { SecretResolver } from '../../config/secrets.js';
import { listingConcurrencyOf, type ConnectionProfile, type EntraProfile } from '../../connections/profile.js';
import { AppError } from '../../errors/app-error.js';
import type { AvailableGroup, SourcePage } from '../../sync/directory-source.js';
import type { SourceEntry } from '../../sync/model.js';
import { groupWalkChains } from '../group-walk.js';
import { PagedDirectorySource, type Listing } from '../paged-source.js';
import { get, GRAPH_MAX_PAGE, graphFailure, GraphClients, type GraphPage } from './graph-client.js';
import { afterUsers, cursorSchema, type Cursor, type PhaseCursor } from './graph-cursor.js';
import { changesPage, latestCheckpoint, memberChangesPage, resumeFrom } from './graph-delta.js';
import { availableGraphGroups, groupsPage, selectedGroupMembership, type GraphGroup } from './graph-groups.js';
import { managerChains, managersPage } from './graph-managers.js';
import { mapGraphUser, userSelect, type GraphUser } from './map-graph-user.js';

/**
 * Microsoft Entra ID tenants read through Microsoft Graph with the app's own credential: the client and
 * credential (graph-client.ts), the cursor (graph-cursor.ts), incremental runs (graph-delta.ts) and
 * groups (graph-groups.ts) tied into one listing here; users and managers are the phases of its own.
 */
export class GraphDirectorySource extends PagedDirectorySource<EntraProfile, Client, Cursor> {
  protected readonly selectedGroupKind = 'security group';
  private readonly clients: GraphClients;
  private readonly pageSize: number;

  constructor(secrets: SecretResolver, pageSize: number) {
    super();
    this.clients = new GraphClients(secrets);
    this.pageSize = Math.min(pageSize, GRAPH_MAX_PAGE);
  }

  /** Acquires a token and reads one group: names what is wrong without echoing the secret. */
  async testConnection(profileInput: ConnectionProfile): Promise<{ detail: string; warnings: string[] }> {
    const profile = this.profileOf(profileInput);
    return this.withClient(profile, async (client) => {
      if (profile.selectedGroups[0]) {
        const group = await get<GraphGroup>(client, `/groups/${encodeURIComponent(profile.selectedGroups[0])}?$select=id,displayName`);
        return { detail: `Connected to tenant ${profile.tenantId}; read the selected group "${group.displayName ?? group.id}".`, warnings: [] };
      }
      await get<GraphPage<GraphGroup>>(client, `/groups?$select=id,displayName&$top=1`);
      return { detail: `Connected to tenant ${profile.tenantId}; no group is selected yet, so no users would sync.`, warnings: [] };
    });
  }

  async availableGroups(profileInput: ConnectionProfile): Promise<AvailableGroup[]> {
    const profile = this.profileOf(profileInput);
    return this.withClient(profile, (client) => availableGraphGroups(client, profile));
  }

  protected profileOf(profile: ConnectionProfile): EntraProfile {
    if (profile.type !== 'entra') throw new AppError('profile-invalid', `"${profile.name}" is not an Entra ID profile.`);
    return profile;
  }

  protected client(profile: EntraProfile): Client {
    return this.clients.for(profile);
  }

  protected failure(error: unknown, profile: EntraProfile): AppError {
    return graphFailure(error, profile);
  }

  protected listing(client: Client, profile: EntraProfile): Listing<Cursor> {
    return {
      cursor: cursorSchema,
      start: { phase: 'users', group: 0 },
      resume: (checkpoint) => resumeFrom(checkpoint, profile),
      // A full run starts the delta chain at its own start: changes made while it lists are read again next time.
      checkpoint: () => latestCheckpoint(client, profile),
      phases: {
        users: (cursor, ref) => this.usersPage(client, profile, cursor, ref),
        groups: (cursor, ref) => groupsPage(client, profile, cursor, ref, this.pageSize),
        managers: (cursor, ref) => managersPage(client, cursor, ref, this.pageSize),
        changes: (cursor, ref) => changesPage(client, profile, cursor, ref),
        'member-changes': (cursor, ref) => memberChangesPage(client, profile, cursor, ref),
      },
    };
  }

  /**
   * Users (of the selected groups), the kept groups' members over the chains left, managers over as many chains as
   * may run at once (at 100 users a page the longest list: its chains take the slots the short group chains free).
   */
  protected chainStarts(profile: EntraProfile): Record<string, Cursor> {
    const others = profile.orgChart ? 2 : 1;
    return {
      users: { phase: 'users', group: 0 },
      ...(profile.groups.mode !== 'off' ? groupWalkChains(listingConcurrencyOf(profile), others) : {}),
      ...(profile.orgChart ? managerChains(listingConcurrencyOf(profile)) : {}),
    };
  }

  /** Runs started before the managers phase was split read it as one chain, `managers`, over every user. */
  protected override retiredChainStarts(profile: EntraProfile): Record<string, Cursor> {
    return profile.orgChart ? { managers: { phase: 'managers' } } : {};
  }

  private async usersPage(client: Client, profile: EntraProfile, start: PhaseCursor<'users'>, ref: string): Promise<SourcePage> {
    const groupId = profile.selectedGroups[start.group]!;
    // A selected group that group sync keeps has exactly these users as members: note their memberships
    // now rather than list the same (often whole-directory) group again in the groups phase.
    const cursor = start.next === undefined ? { ...start, ...(await selectedGroupMembership(client, profile, groupId)) } : start;
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
}
