import type okta from '@okta/okta-sdk-nodejs';
import type { RequestOptions } from '@okta/okta-sdk-nodejs/src/types/request-options.js';
import { z } from 'zod';
import type { SecretResolver } from '../../config/secrets.js';
import type { ConnectionProfile, OktaProfile } from '../../connections/profile.js';
import { AppError, isAppError } from '../../errors/app-error.js';
import type { AvailableGroup, DirectorySource, SourcePage } from '../../sync/directory-source.js';
import { selectGroups } from '../../sync/rules/groups.js';
import type { SourceEntry } from '../../sync/model.js';
import type { Run } from '../../sync/run-model.js';
import { mapOktaUser, type OktaUser } from './map-okta-user.js';

/** Okta recommends at most 200 a page for users and groups. */
const OKTA_MAX_PAGE = 200;
/** Below this share of the minute's budget, wait for the window to reset instead of spending it. */
const SLOW_DOWN_BELOW = 0.1;
/** An incremental run re-reads a little before its checkpoint: clocks differ and re-reading is harmless. */
const OVERLAP_MS = 5 * 60_000;

/**
 * The Okta SDK is loaded on first use: it is the largest module the app imports (~90 MB resident), and most
 * deployments sync no Okta org.
 */
let sdk: Promise<{ Client: typeof okta.Client; PacedRequestExecutor: typeof okta.DefaultRequestExecutor }> | undefined;
function loadSdk(): NonNullable<typeof sdk> {
  sdk ??= import('@okta/okta-sdk-nodejs').then(({ default: loaded }) => ({ Client: loaded.Client, PacedRequestExecutor: pacedRequestExecutor(loaded.DefaultRequestExecutor) }));
  return sdk;
}

/**
 * Paces requests by Okta's rate-limit headers: when the remaining budget of the window runs low it
 * waits for `X-Rate-Limit-Reset` before sending more. A 429 is still retried by the SDK.
 */
function pacedRequestExecutor(Base: typeof okta.DefaultRequestExecutor): typeof okta.DefaultRequestExecutor {
  return class PacedRequestExecutor extends Base {
    private remaining: number | undefined;
    private limit: number | undefined;
    private resetAt = 0;

    override async fetch(request: RequestOptions) {
      if (this.remaining !== undefined && this.limit !== undefined && this.remaining <= this.limit * SLOW_DOWN_BELOW) {
        const wait = this.resetAt - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 60_000)));
        this.remaining = undefined;
      }
      const response = await super.fetch(request);
      const remaining = Number(response.headers.get('x-rate-limit-remaining'));
      const limit = Number(response.headers.get('x-rate-limit-limit'));
      const reset = Number(response.headers.get('x-rate-limit-reset'));
      if (Number.isFinite(remaining) && response.headers.has('x-rate-limit-remaining')) this.remaining = remaining;
      if (Number.isFinite(limit) && limit > 0) this.limit = limit;
      if (Number.isFinite(reset) && reset > 0) this.resetAt = reset * 1000;
      return response;
    }
  };
}

const cursorSchema = z.discriminatedUnion('phase', [
  /** Members of each selected group in turn (Okta's `after` cursor). */
  z.object({ phase: z.literal('users'), group: z.number().int().min(0), after: z.string().optional() }),
  /** With group sync on: the org's groups, then each wanted group's members. */
  z.object({
    phase: z.literal('groups'),
    after: z.string().optional(),
    listed: z.boolean(),
    queue: z.array(z.object({ id: z.string(), name: z.string() })),
    current: z.object({ id: z.string(), name: z.string(), after: z.string().optional() }).optional(),
  }),
  /** An incremental run: users changed since the checkpoint. */
  z.object({ phase: z.literal('changes'), since: z.string(), after: z.string().optional() }),
]);
type Cursor = z.infer<typeof cursorSchema>;

const checkpointSchema = z.object({ since: z.string() });

/** Okta orgs through the Okta management API, with an API token or an OAuth 2.0 service app. */
export class OktaDirectorySource implements DirectorySource {
  readonly requiresPassword = false;
  readonly listsUsersRepeatedly = true;
  readonly supportsIncremental = true;
  private readonly clients = new Map<string, okta.Client>();
  private readonly pageSize: number;

  constructor(
    private readonly options: { secrets: SecretResolver; allowInsecureHttp: boolean; clock: () => Date },
    pageSize: number,
  ) {
    this.pageSize = Math.min(pageSize, OKTA_MAX_PAGE);
  }

  async readPage(request: { run: Run; page: number; cursor: unknown }): Promise<SourcePage> {
    const profile = oktaProfileOf(request.run.profile);
    if (!profile.selectedGroups.length) {
      throw new AppError('no-groups-selected', `No group is selected for "${profile.name}", so no users sync (select at least one group).`);
    }
    const { run } = request;
    const first = request.cursor === null || request.cursor === undefined;
    const client = await this.client(profile);
    const ref = `page ${request.page}`;
    try {
      if (first && run.kind === 'incremental') return await this.changesPage(client, profile, { phase: 'changes', since: parseCheckpoint(run.checkpoint, profile) }, ref);
      const cursor: Cursor = first ? { phase: 'users', group: 0 } : cursorSchema.parse(request.cursor);
      switch (cursor.phase) {
        case 'users': {
          const page = await this.usersPage(client, profile, cursor, ref);
          // The next incremental run reads what changed from (a little before) the start of this one.
          return first ? { ...page, checkpoint: JSON.stringify({ since: new Date(this.options.clock().getTime() - OVERLAP_MS).toISOString() }) } : page;
        }
        case 'groups':
          return await this.groupsPage(client, profile, cursor, ref);
        case 'changes':
          return await this.changesPage(client, profile, cursor, ref);
      }
    } catch (error) {
      throw oktaFailure(error, profile);
    }
  }

  async testConnection(profileInput: ConnectionProfile): Promise<{ detail: string; warnings: string[] }> {
    const profile = oktaProfileOf(profileInput);
    const client = await this.client(profile);
    try {
      const groupId = profile.selectedGroups[0];
      if (groupId) {
        const group = await client.groupApi.getGroup({ groupId });
        return { detail: `Connected to ${new URL(profile.orgUrl).host}; read the selected group "${group.profile?.name ?? groupId}".`, warnings: [] };
      }
      await (await client.groupApi.listGroups({ limit: 1 })).getNextPage();
      return { detail: `Connected to ${new URL(profile.orgUrl).host}; no group is selected yet, so no users would sync.`, warnings: [] };
    } catch (error) {
      throw oktaFailure(error, profile);
    }
  }

  async availableGroups(profileInput: ConnectionProfile): Promise<AvailableGroup[]> {
    const profile = oktaProfileOf(profileInput);
    const client = await this.client(profile);
    const groups: AvailableGroup[] = [];
    try {
      for await (const group of await client.groupApi.listGroups({ limit: OKTA_MAX_PAGE })) {
        if (group) groups.push({ id: group.id ?? '', name: group.profile?.name ?? group.id ?? '', kind: String(group.type ?? 'OKTA_GROUP') });
      }
    } catch (error) {
      throw oktaFailure(error, profile);
    }
    return groups.sort((a, b) => a.name.localeCompare(b.name));
  }

  private async usersPage(client: okta.Client, profile: OktaProfile, cursor: Extract<Cursor, { phase: 'users' }>, ref: string): Promise<SourcePage> {
    const groupId = profile.selectedGroups[cursor.group]!;
    const collection = await client.groupApi.listGroupUsers({ groupId, limit: this.pageSize, ...(cursor.after ? { after: cursor.after } : {}) });
    const users = (await collection.getNextPage()) as unknown as OktaUser[];
    const entries = users.map((user) => mapOktaUser(profile, user, `${ref} (user ${user.id})`));
    const after = afterOf(collection.nextUri);
    const next: Cursor | null = after
      ? { ...cursor, after }
      : cursor.group + 1 < profile.selectedGroups.length
        ? { phase: 'users', group: cursor.group + 1 }
        : profile.groups.mode !== 'off'
          ? { phase: 'groups', listed: false, queue: [] }
          : null;
    return { entries, next };
  }

  private async groupsPage(client: okta.Client, profile: OktaProfile, cursor: Extract<Cursor, { phase: 'groups' }>, ref: string): Promise<SourcePage> {
    const current = cursor.current ?? cursor.queue[0];
    if (current) {
      const queue = cursor.current ? cursor.queue : cursor.queue.slice(1);
      const collection = await client.groupApi.listGroupUsers({ groupId: current.id, limit: this.pageSize, ...(cursor.current?.after ? { after: cursor.current.after } : {}) });
      const members = (await collection.getNextPage()) as unknown as OktaUser[];
      const entries: SourceEntry[] = members.map((member) => ({ kind: 'membership', key: member.id, ref: `${ref} (group ${current.id})`, group: current.name }));
      const after = afterOf(collection.nextUri);
      const next: Extract<Cursor, { phase: 'groups' }> = after
        ? { ...cursor, queue, current: { id: current.id, name: current.name, after } }
        : { phase: 'groups', listed: cursor.listed, queue, ...(cursor.after ? { after: cursor.after } : {}) };
      return { entries, next: groupsDone(next) ? null : next };
    }
    const collection = await client.groupApi.listGroups({ limit: this.pageSize, ...(cursor.after ? { after: cursor.after } : {}) });
    const groups = (await collection.getNextPage()) as unknown as { id: string; profile?: { name?: string } }[];
    const wanted = groups.filter((group) => selectGroups(profile.groups, [group.profile?.name ?? ''])?.length);
    const after = afterOf(collection.nextUri);
    const next: Extract<Cursor, { phase: 'groups' }> = {
      phase: 'groups',
      listed: true,
      queue: wanted.map((group) => ({ id: group.id, name: group.profile?.name ?? group.id })),
      ...(after ? { after } : {}),
    };
    return { entries: [], next: groupsDone(next) ? null : next };
  }

  /**
   * Users whose Okta record changed since the checkpoint (`search=lastUpdated gt …`, which also sees
   * deactivated users). One still in a selected group is a partial user; one that is not is absent.
   */
  private async changesPage(client: okta.Client, profile: OktaProfile, cursor: Extract<Cursor, { phase: 'changes' }>, ref: string): Promise<SourcePage> {
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
    return { entries, next: null, checkpoint: JSON.stringify({ since: new Date(startedAt.getTime() - OVERLAP_MS).toISOString() }) };
  }

  private async client(profile: OktaProfile): Promise<okta.Client> {
    const url = new URL(profile.orgUrl);
    if (url.protocol !== 'https:' && !this.options.allowInsecureHttp) {
      throw new AppError('source-insecure-url', `The Okta org URL must use https:// (got ${url.protocol}//${url.host}).`);
    }
    // Loaded before the lookup, so the lookup and the insert below are not split by an await.
    const { Client, PacedRequestExecutor } = await loadSdk();
    const id = `${profile.orgUrl}|${JSON.stringify(profile.credential)}`;
    let client = this.clients.get(id);
    if (!client) {
      const { credential } = profile;
      // No cache: a single read must see the latest state (collections are never cached anyway).
      const base = { orgUrl: url.origin, cacheMiddleware: null, requestExecutor: new PacedRequestExecutor({ maxRetries: 4, requestTimeout: 0 }) };
      client =
        credential.kind === 'token'
          ? new Client({ ...base, token: this.options.secrets.resolve(credential.tokenSecret) })
          : new Client({
              ...base,
              authorizationMode: 'PrivateKey',
              clientId: credential.clientId,
              scopes: ['okta.users.read', 'okta.groups.read'],
              privateKey: this.options.secrets.resolve(credential.privateKeySecret),
              ...(credential.keyId ? { keyId: credential.keyId } : {}),
            });
      this.clients.set(id, client);
    }
    return client;
  }
}

function oktaProfileOf(profile: ConnectionProfile): OktaProfile {
  if (profile.type !== 'okta') throw new AppError('profile-invalid', `"${profile.name}" is not an Okta profile.`);
  return profile;
}

function groupsDone(cursor: Extract<Cursor, { phase: 'groups' }>): boolean {
  return cursor.listed && !cursor.after && !cursor.queue.length && !cursor.current;
}

/** Okta pages with an opaque `after` cursor inside the `Link: rel="next"` URL. */
function afterOf(nextUri: string | undefined): string | undefined {
  return nextUri ? (new URL(nextUri).searchParams.get('after') ?? undefined) : undefined;
}

function parseCheckpoint(text: string | undefined, profile: OktaProfile): string {
  try {
    return checkpointSchema.parse(JSON.parse(text ?? '')).since;
  } catch {
    throw new AppError('checkpoint-expired', `The checkpoint of "${profile.name}" cannot be read.`);
  }
}

/** Okta failures as errors an admin can act on; the token is never part of them. */
function oktaFailure(error: unknown, profile: OktaProfile): AppError {
  if (isAppError(error)) return error;
  const host = new URL(profile.orgUrl).host;
  const status = typeof error === 'object' && error !== null && 'status' in error ? Number((error as { status: unknown }).status) : undefined;
  const code = typeof error === 'object' && error !== null && 'errorCode' in error ? String((error as { errorCode: unknown }).errorCode) : undefined;
  const summary = typeof error === 'object' && error !== null && 'errorSummary' in error ? String((error as { errorSummary: unknown }).errorSummary) : error instanceof Error ? error.message : String(error);
  if (status === 401 || code === 'E0000011') {
    return new AppError(
      'source-auth-failed',
      `${host} refused the credentials (${code ?? 'HTTP 401'}: ${summary}). An API token is revoked when its user is deactivated and expires after 30 days unused: create a new one as an active admin user and update the app setting.`,
    );
  }
  if (status === 403) return new AppError('source-auth-failed', `${host} denied access (${code ?? 'HTTP 403'}: ${summary}); grant okta.users.read and okta.groups.read.`);
  if (status === 404) return new AppError('source-not-found', `${host} has no such object (${code ?? 'HTTP 404'}: ${summary}); check the selected group ids.`);
  const transient = status === undefined || status === 429 || status >= 500;
  return new AppError('source-unavailable', `${host} answered ${status ? `HTTP ${status}` : 'nothing usable'} (${summary}).`, { transient });
}
