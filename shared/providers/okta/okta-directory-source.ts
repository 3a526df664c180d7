import type okta from '@okta/okta-sdk-nodejs';
import { z } from 'zod';
import type { SecretResolver } from '../../config/secrets.js';
import { listingConcurrencyOf, type ConnectionProfile, type OktaProfile } from '../../connections/profile.js';
import { AppError } from '../../errors/app-error.js';
import type { AvailableGroup, SourcePage } from '../../sync/directory-source.js';
import { selectGroups } from '../../sync/rules/groups.js';
import type { SourceEntry } from '../../sync/model.js';
import { GROUP_WALK_START, groupWalkChains, groupWalkSchema, walkGroups, type GroupLists, type ListPage } from '../group-walk.js';
import { PagedDirectorySource, readCheckpoint, type Listing } from '../paged-source.js';
import { mapOktaUser, type OktaUser } from './map-okta-user.js';
import { afterOf, oktaFailure, OktaClients } from './okta-client.js';

/** Okta recommends at most 200 a page for users and groups. */
const OKTA_MAX_PAGE = 200;
/** An incremental run re-reads a little before its checkpoint: clocks differ and re-reading is harmless. */
const OVERLAP_MS = 5 * 60_000;

const cursorSchema = z.discriminatedUnion('phase', [
  /** Members of each selected group in turn (Okta's `after` cursor). */
  z.object({ phase: z.literal('users'), group: z.number().int().min(0), after: z.string().optional() }),
  /** With group sync on: the org's groups, then each wanted group's members. */
  groupWalkSchema,
  /** An incremental run: users changed since the checkpoint. */
  z.object({ phase: z.literal('changes'), since: z.string(), after: z.string().optional() }),
]);
type Cursor = z.infer<typeof cursorSchema>;
type PhaseCursor<P extends Cursor['phase']> = Extract<Cursor, { phase: P }>;

const checkpointSchema = z.object({ since: z.string() });

/** Okta orgs through the Okta management API, with an API token or an OAuth 2.0 service app (okta-client.ts). */
export class OktaDirectorySource extends PagedDirectorySource<OktaProfile, okta.Client, Cursor> {
  protected readonly selectedGroupKind = 'group';
  private readonly clients: OktaClients;
  private readonly pageSize: number;

  constructor(
    private readonly options: { secrets: SecretResolver; allowInsecureHttp: boolean; clock: () => Date },
    pageSize: number,
  ) {
    super();
    this.clients = new OktaClients(options);
    this.pageSize = Math.min(pageSize, OKTA_MAX_PAGE);
  }

  async testConnection(profileInput: ConnectionProfile): Promise<{ detail: string; warnings: string[] }> {
    const profile = this.profileOf(profileInput);
    return this.withClient(profile, async (client) => {
      const groupId = profile.selectedGroups[0];
      if (groupId) {
        const group = await client.groupApi.getGroup({ groupId });
        return { detail: `Connected to ${new URL(profile.orgUrl).host}; read the selected group "${group.profile?.name ?? groupId}".`, warnings: [] };
      }
      await (await client.groupApi.listGroups({ limit: 1 })).getNextPage();
      return { detail: `Connected to ${new URL(profile.orgUrl).host}; no group is selected yet, so no users would sync.`, warnings: [] };
    });
  }

  async availableGroups(profileInput: ConnectionProfile): Promise<AvailableGroup[]> {
    const profile = this.profileOf(profileInput);
    const groups: AvailableGroup[] = [];
    await this.withClient(profile, async (client) => {
      for await (const group of await client.groupApi.listGroups({ limit: OKTA_MAX_PAGE })) {
        if (group) groups.push({ id: group.id ?? '', name: group.profile?.name ?? group.id ?? '', kind: String(group.type ?? 'OKTA_GROUP') });
      }
    });
    return groups.sort((a, b) => a.name.localeCompare(b.name));
  }

  protected profileOf(profile: ConnectionProfile): OktaProfile {
    if (profile.type !== 'okta') throw new AppError('profile-invalid', `"${profile.name}" is not an Okta profile.`);
    return profile;
  }

  protected client(profile: OktaProfile): Promise<okta.Client> {
    return this.clients.for(profile);
  }

  protected failure(error: unknown, profile: OktaProfile): AppError {
    return oktaFailure(error, profile);
  }

  protected listing(client: okta.Client, profile: OktaProfile): Listing<Cursor> {
    return {
      cursor: cursorSchema,
      start: { phase: 'users', group: 0 },
      resume: (checkpoint) => ({ phase: 'changes', since: readCheckpoint(checkpointSchema, checkpoint, profile).since }),
      // The next incremental run reads what changed from (a little before) the start of this one.
      checkpoint: async () => checkpointAt(this.options.clock()),
      phases: {
        users: (cursor, ref) => this.usersPage(client, profile, cursor, ref),
        groups: (cursor, ref) => this.groupsPage(client, profile, cursor, ref),
        changes: (cursor, ref) => this.changesPage(client, profile, cursor, ref),
      },
    };
  }

  /** The selected groups' members, and the kept groups' members over the chains left. */
  protected chainStarts(profile: OktaProfile): Record<string, Cursor> {
    return {
      users: { phase: 'users', group: 0 },
      ...(profile.groups.mode !== 'off' ? groupWalkChains(listingConcurrencyOf(profile), 1) : {}),
    };
  }

  private async usersPage(client: okta.Client, profile: OktaProfile, cursor: PhaseCursor<'users'>, ref: string): Promise<SourcePage> {
    const page = await this.groupUsers(client, profile.selectedGroups[cursor.group]!, cursor.after);
    const entries = page.items.map((user) => mapOktaUser(profile, user, `${ref} (user ${user.id})`));
    const next: Cursor | null = page.next
      ? { ...cursor, after: page.next }
      : cursor.group + 1 < profile.selectedGroups.length
        ? { phase: 'users', group: cursor.group + 1 }
        : profile.groups.mode !== 'off'
          ? GROUP_WALK_START
          : null;
    return { entries, next };
  }

  private async groupsPage(client: okta.Client, profile: OktaProfile, cursor: PhaseCursor<'groups'>, ref: string): Promise<SourcePage> {
    const lists: GroupLists = {
      keptGroups: async (after) => {
        // A chain keeps its share of each page: a page as many times larger (Okta allows 10,000) keeps the requests as few.
        const collection = await client.groupApi.listGroups({ limit: this.pageSize * (cursor.share?.of ?? 1), ...(after ? { after } : {}) });
        const groups = (await collection.getNextPage()) as unknown as { id: string; profile?: { name?: string } }[];
        const kept = groups.filter((group) => selectGroups(profile.groups, [group.profile?.name ?? ''])?.length);
        return { items: kept.map((group) => ({ id: group.id, name: group.profile?.name ?? group.id })), next: afterOf(collection.nextUri) };
      },
      members: async (groupId, after) => {
        const page = await this.groupUsers(client, groupId, after);
        return { items: page.items.map((member) => member.id), next: page.next };
      },
    };
    // One request a page job: Okta's budget is per minute, and the paced executor may wait out the window.
    const walked = await walkGroups(lists, cursor, ref, { pageSize: this.pageSize, maxRequests: 1 });
    return { entries: walked.entries, next: walked.next ?? null };
  }

  /**
   * Users whose Okta record changed since the checkpoint (`search=lastUpdated gt …`, which also sees
   * deactivated users). One still in a selected group is a partial user; one that is not is absent.
   */
  private async changesPage(client: okta.Client, profile: OktaProfile, cursor: PhaseCursor<'changes'>, ref: string): Promise<SourcePage> {
    const startedAt = this.options.clock();
    const collection = await client.userApi.listUsers({ search: `lastUpdated gt "${cursor.since}"`, limit: this.pageSize, ...(cursor.after ? { after: cursor.after } : {}) });
    const users = (await collection.getNextPage()) as unknown as OktaUser[];
    const entries: SourceEntry[] = [];
    for (const user of users) {
      const at = `${ref} (user ${user.id})`;
      const groups: string[] = [];
      if (user.status !== 'DEPROVISIONED') {
        for await (const group of await client.userApi.listUserGroups({ userId: user.id })) if (group?.id) groups.push(group.id);
      }
      if (!groups.some((id) => profile.selectedGroups.includes(id))) {
        entries.push({ kind: 'absent', key: user.id, ref: at, reason: user.status === 'DEPROVISIONED' ? 'removed-from-directory' : 'left-scope' });
        continue;
      }
      const entry = mapOktaUser(profile, user, at);
      if (entry.kind === 'user') entries.push({ ...entry, user: { ...entry.user, partial: true } });
    }
    const after = afterOf(collection.nextUri);
    if (after) return { entries, next: { ...cursor, after } };
    return { entries, next: null, checkpoint: checkpointAt(startedAt) };
  }

  /** One page of a group's members. */
  private async groupUsers(client: okta.Client, groupId: string, after: string | undefined): Promise<ListPage<OktaUser>> {
    const collection = await client.groupApi.listGroupUsers({ groupId, limit: this.pageSize, ...(after ? { after } : {}) });
    return { items: (await collection.getNextPage()) as unknown as OktaUser[], next: afterOf(collection.nextUri) };
  }
}

function checkpointAt(startedAt: Date): string {
  return JSON.stringify({ since: new Date(startedAt.getTime() - OVERLAP_MS).toISOString() });
}
