import type { Client } from '@microsoft/microsoft-graph-client';
import type { EntraProfile } from '../../connections/profile.js';
import type { AvailableGroup, SourcePage } from '../../sync/directory-source.js';
import { selectGroups } from '../../sync/rules/groups.js';
import { walkGroups, type GroupLists, type ListPage, type MembersRead } from '../group-walk.js';
import { get, getBatch, GRAPH_MAX_BATCH, GRAPH_MAX_PAGE, isGraphStatus, type GraphPage } from './graph-client.js';
import { afterGroups, type PhaseCursor } from './graph-cursor.js';

/** Groups pages stay small so a cursor listing them fits in a queue message. */
const GROUP_PAGE = 100;
/** Graph requests (a batch is one) one groups-phase page job may make while gathering a page's worth of memberships. */
const GROUP_REQUESTS_PER_PAGE = 20;
const GROUP_SELECT = 'id,displayName,securityEnabled,mailEnabled,groupTypes';

export interface GraphGroup {
  id: string;
  displayName?: string;
  securityEnabled?: boolean;
  mailEnabled?: boolean;
  groupTypes?: string[];
}

/** The tenant's security groups (and mail-enabled ones, if the profile includes them), for an admin to pick. */
export async function availableGraphGroups(client: Client, profile: EntraProfile): Promise<AvailableGroup[]> {
  const groups: AvailableGroup[] = [];
  let url: string | undefined = `/groups?$select=${GROUP_SELECT}&$top=${GRAPH_MAX_PAGE}`;
  while (url) {
    const page: GraphPage<GraphGroup> = await get(client, url);
    for (const group of page.value) {
      if (!inScope(profile, group)) continue;
      groups.push({ id: group.id, name: group.displayName ?? group.id, kind: group.mailEnabled ? 'mail-enabled security' : 'security' });
    }
    url = page['@odata.nextLink'];
  }
  return groups.sort((a, b) => a.name.localeCompare(b.name));
}

/** `{ member: name }` when group sync keeps the selected group (the groups phase then skips it), else nothing. */
export async function selectedGroupMembership(client: Client, profile: EntraProfile, groupId: string): Promise<{ member?: string }> {
  if (profile.groups.mode === 'off') return {};
  const group = await get<GraphGroup>(client, `/groups/${encodeURIComponent(groupId)}?$select=${GROUP_SELECT}`);
  return keptGroup(profile, group) ? { member: group.displayName ?? group.id } : {};
}

/**
 * The groups phase: one page job reads on through the group lists and the kept groups' members until
 * it holds a page's worth of memberships (or has made GROUP_REQUESTS_PER_PAGE requests), so hundreds of
 * small groups do not each cost a page job — a queue message, a page row and staging blobs — of their own.
 * The members of up to GRAPH_MAX_BATCH groups are read in one `$batch` round trip (most groups are one page).
 */
export async function groupsPage(client: Client, profile: EntraProfile, cursor: PhaseCursor<'groups'>, ref: string, pageSize: number): Promise<SourcePage> {
  const membersUrl = (groupId: string): string => `/groups/${encodeURIComponent(groupId)}/transitiveMembers/microsoft.graph.user?$select=id&$top=${pageSize}&$count=true`;
  const members = async (groupId: string, next: string | undefined): Promise<ListPage<string> | undefined> => {
    try {
      return membersOf(await get<GraphPage<{ id: string }>>(client, next ?? membersUrl(groupId), EVENTUAL));
    } catch (error) {
      // Deleted since it was listed: it has no members to sync (its memberships end with it).
      if (isGraphStatus(error, 404)) return undefined;
      throw error;
    }
  };
  const lists: GroupLists = {
    async keptGroups(next) {
      // A chain keeps its share of each page: a page as many times larger keeps its cursor as small and its requests as few.
      const top = Math.min(GRAPH_MAX_PAGE, GROUP_PAGE * (cursor.share?.of ?? 1));
      const page: GraphPage<GraphGroup> = await get(client, next ?? `/groups?$select=${GROUP_SELECT}&$top=${top}`);
      // Selected groups' memberships came with their users (see selectedGroupMembership).
      const kept = page.value.filter((group) => keptGroup(profile, group) && !profile.selectedGroups.includes(group.id));
      return { items: kept.map((group) => ({ id: group.id, name: group.displayName ?? group.id })), next: page['@odata.nextLink'] };
    },
    members,
    batch: {
      size: GRAPH_MAX_BATCH,
      async members(reads: MembersRead[]) {
        const answers = await getBatch<GraphPage<{ id: string }>>(client, reads.map((read) => ({ url: read.next ?? membersUrl(read.id), headers: EVENTUAL })));
        const pages: (ListPage<string> | undefined)[] = [];
        // A request of the batch that failed (throttled, say: the SDK retries only whole requests) is read
        // again on its own, as without batching — waiting out Retry-After — so no group's members are lost.
        for (const [index, answer] of answers.entries()) {
          const read = reads[index]!;
          pages.push(answer.status === 200 && answer.body ? membersOf(answer.body) : await members(read.id, read.next));
        }
        return pages;
      },
    },
  };
  const walked = await walkGroups(lists, cursor, ref, { pageSize, maxRequests: GROUP_REQUESTS_PER_PAGE });
  return { entries: walked.entries, next: walked.next ?? afterGroups(profile) };
}

/** `$count` on a cast needs Graph's advanced queries. */
const EVENTUAL = { ConsistencyLevel: 'eventual' };

function membersOf(page: GraphPage<{ id: string }>): ListPage<string> {
  return { items: page.value.map((member) => member.id), next: page['@odata.nextLink'] };
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
