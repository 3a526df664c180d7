import type { Client } from '@microsoft/microsoft-graph-client';
import pLimit from 'p-limit';
import { z } from 'zod';
import type { EntraProfile } from '../../connections/profile.js';
import { AppError } from '../../errors/app-error.js';
import type { SourcePage } from '../../sync/directory-source.js';
import type { SourceEntry } from '../../sync/model.js';
import { readCheckpoint } from '../paged-source.js';
import { get, isGraphStatus, post, type GraphPage } from './graph-client.js';
import type { PhaseCursor } from './graph-cursor.js';
import { mapGraphUser, userSelect, type GraphUser } from './map-graph-user.js';

/**
 * Incremental runs: the users and groups delta links a full run takes at its start (the checkpoint), and
 * the pages of changes read from them by the next incremental run.
 */

const checkpointSchema = z.object({ users: z.string().min(1), groups: z.string().min(1) });
type Checkpoint = z.infer<typeof checkpointSchema>;

type DeltaPage<T> = GraphPage<T> & { '@odata.deltaLink'?: string };

/** Where an incremental run starts: the users and groups delta links of the last successful run. */
export function resumeFrom(text: string | undefined, profile: EntraProfile): PhaseCursor<'changes'> {
  const checkpoint = readCheckpoint(checkpointSchema, text, profile);
  return { phase: 'changes', next: checkpoint.users, groups: checkpoint.groups };
}

/** Delta links for users and groups meaning "from now on": the checkpoint of a full run. */
export async function latestCheckpoint(client: Client, profile: EntraProfile): Promise<string> {
  const latest = async (url: string) => {
    const page: DeltaPage<unknown> = await get(client, url);
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
export async function changesPage(client: Client, profile: EntraProfile, cursor: PhaseCursor<'changes'>, ref: string): Promise<SourcePage> {
  const page: DeltaPage<GraphUser & { '@removed'?: unknown }> = await getDelta(client, cursor.next, profile);
  const limit = pLimit(8);
  const entries = await Promise.all(
    page.value.map((user) => limit(() => (user['@removed'] ? absent(user.id, ref, 'removed-from-directory') : reread(client, profile, user.id, ref)))),
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
export async function memberChangesPage(client: Client, profile: EntraProfile, cursor: PhaseCursor<'member-changes'>, ref: string): Promise<SourcePage> {
  const page: DeltaPage<{ id: string; 'members@delta'?: { '@odata.type'?: string; id: string }[] }> = await getDelta(client, cursor.next, profile);
  const userIds = new Set<string>();
  for (const group of page.value) {
    for (const member of group['members@delta'] ?? []) if (member['@odata.type'] === '#microsoft.graph.user') userIds.add(member.id);
  }
  const limit = pLimit(8);
  const entries = await Promise.all([...userIds].map((id) => limit(() => reread(client, profile, id, ref))));
  const nextLink = page['@odata.nextLink'];
  if (nextLink) return { entries, next: { ...cursor, next: nextLink } };
  if (!page['@odata.deltaLink']) throw new AppError('source-unavailable', 'The groups delta ended without a delta link.', { transient: true });
  const checkpoint: Checkpoint = { users: cursor.users, groups: page['@odata.deltaLink'] };
  return { entries, next: null, checkpoint: JSON.stringify(checkpoint) };
}

/** A user the deltas name, as it is now: in scope (read whole), or absent. */
async function reread(client: Client, profile: EntraProfile, userId: string, ref: string): Promise<SourceEntry> {
  const at = `${ref} (user ${userId})`;
  let whole: GraphUser;
  try {
    if (!(await inSelectedGroups(client, profile, userId))) return absent(userId, ref, 'left-scope');
    // A delta entry may carry only the properties that changed: read the user whole.
    whole = await get(client, `/users/${encodeURIComponent(userId)}?$select=${userSelect(profile).join(',')}`);
  } catch (error) {
    // Deleted between the delta and now: the users delta reports the removal.
    if (isGraphStatus(error, 404)) return absent(userId, ref, 'removed-from-directory');
    throw error;
  }
  const entry = mapGraphUser(profile, whole, at);
  if (!entry || entry.kind !== 'user') return absent(userId, ref, 'left-scope');
  return { ...entry, user: { ...entry.user, partial: true } };
}

async function inSelectedGroups(client: Client, profile: EntraProfile, userId: string): Promise<boolean> {
  const result: { value: string[] } = await post(client, `/users/${encodeURIComponent(userId)}/checkMemberGroups`, { groupIds: profile.selectedGroups });
  return result.value.length > 0;
}

/** Follows a delta link; Graph answers 410 once the token has expired (after about a week). */
async function getDelta<T>(client: Client, url: string, profile: EntraProfile): Promise<T> {
  try {
    return await get<T>(client, url);
  } catch (error) {
    if (isGraphStatus(error, 410)) {
      throw new AppError('checkpoint-expired', `The Graph delta token of "${profile.name}" has expired (${error.code ?? 'HTTP 410'}).`);
    }
    throw error;
  }
}

function absent(key: string, ref: string, reason: 'removed-from-directory' | 'left-scope'): SourceEntry {
  return { kind: 'absent', key, ref: `${ref} (user ${key})`, reason };
}
