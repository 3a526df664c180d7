import { z } from 'zod';
import type { SourceEntry } from '../sync/model.js';
import { bucketOf } from '../sync/rules/partitioning.js';

/**
 * The groups phase of a directory read through its API, with group sync on: list the directory's groups a
 * page at a time, queue those group sync keeps, then read their members — several groups in one request where
 * the directory batches (Graph). The cursor holds the position: at most one page of the group list is queued
 * (and at most a batch of groups part read, with their next pages), so it fits in a queue message.
 */
const queuedGroup = z.object({ id: z.string(), name: z.string(), next: z.string().optional() });
export const groupWalkSchema = z.object({
  phase: z.literal('groups'),
  /** The next page of the group list. */
  listNext: z.string().optional(),
  /** Whether the group list has been read from its start. */
  listed: z.boolean(),
  /** Groups whose members are still to read; `next`: the next page of a group read in part. */
  queue: z.array(queuedGroup),
  /** A cursor written before the queue held part-read groups: the group being read, read first. */
  current: queuedGroup.optional(),
  /** A walk of one of `of` listing chains keeps the groups whose id hashes to `index` (absent: every group). */
  share: z.object({ index: z.number().int().min(0), of: z.number().int().min(1) }).optional(),
});
export type GroupWalk = z.infer<typeof groupWalkSchema>;

export const GROUP_WALK_START: GroupWalk = { phase: 'groups', listed: false, queue: [] };

/**
 * The groups phase as chains (`groups-0` …), as many as the listing's concurrency leaves beside the source's
 * `otherChains` (at least one), each reading the members of its share of the kept groups. A share is by a hash of the group's id, not its place in the list: the directory does not promise
 * the same order to every chain, and no chain has to wait for another's list. Each chain still reads the
 * group list (a walk reads its list `count` times larger a page, so the requests stay as many).
 */
export function groupWalkChains(concurrency: number, otherChains: number): Record<string, GroupWalk> {
  const count = Math.max(1, concurrency - otherChains);
  return Object.fromEntries(Array.from({ length: count }, (_, index) => [`groups-${index}`, { ...GROUP_WALK_START, share: { index, of: count } }]));
}

/** One page of a list, and the bookmark of the next page if there is one. */
export interface ListPage<T> {
  items: T[];
  next?: string | undefined;
}

/** A group to read a page of members of: from its first page, or from `next`. */
export interface MembersRead {
  id: string;
  next?: string | undefined;
}

/** The two lists a directory gives the walk. */
export interface GroupLists {
  /** A page of the directory's groups, only those group sync keeps. */
  keptGroups(next: string | undefined): Promise<ListPage<{ id: string; name: string }>>;
  /** A page of a group's members (user ids); undefined when the group is gone (deleted since it was listed). */
  members(groupId: string, next: string | undefined): Promise<ListPage<string> | undefined>;
  /** Where the directory batches requests: a page of each of up to `size` groups in one request, in order. */
  batch?: { size: number; members(reads: MembersRead[]): Promise<(ListPage<string> | undefined)[]> };
}

/**
 * Walks on from `start` until the page holds `pageSize` memberships or `maxRequests` requests were made, so
 * that many small groups do not each cost a page job; `next` is undefined once every kept group is read.
 */
export async function walkGroups(
  lists: GroupLists,
  start: GroupWalk,
  ref: string,
  limits: { pageSize: number; maxRequests: number },
): Promise<{ entries: SourceEntry[]; next: GroupWalk | undefined }> {
  const entries: SourceEntry[] = [];
  let cursor = start;
  for (let requests = 1; ; requests++) {
    const next = await step(lists, cursor, ref, entries);
    if (!next || entries.length >= limits.pageSize || requests >= limits.maxRequests) return { entries, next };
    cursor = next;
  }
}

/** One request: a page of members of the queued groups (one, or a batch), or else a page of the group list. */
async function step(lists: GroupLists, cursor: GroupWalk, ref: string, entries: SourceEntry[]): Promise<GroupWalk | undefined> {
  const { share } = cursor;
  const shared = share ? { share } : {};
  const pending = cursor.current ? [cursor.current, ...cursor.queue] : cursor.queue;
  let next: GroupWalk;
  if (pending.length) {
    const reads = pending.slice(0, lists.batch?.size ?? 1);
    const pages = lists.batch && reads.length > 1 ? await lists.batch.members(reads) : [await lists.members(reads[0]!.id, reads[0]!.next)];
    const partRead: GroupWalk['queue'] = [];
    reads.forEach((group, index) => {
      const page = pages[index];
      for (const key of page?.items ?? []) entries.push({ kind: 'membership', key, ref: `${ref} (group ${group.id})`, group: group.name });
      if (page?.next) partRead.push({ id: group.id, name: group.name, next: page.next });
    });
    // Part-read groups go first: the next read takes them all again, so the cursor never holds more than a batch of next links.
    next = { phase: 'groups', listed: cursor.listed, queue: [...partRead, ...pending.slice(reads.length)], ...(cursor.listNext ? { listNext: cursor.listNext } : {}), ...shared };
  } else {
    const page = await lists.keptGroups(cursor.listNext);
    const queue = share ? page.items.filter((group) => bucketOf(group.id) % share.of === share.index) : page.items;
    next = { phase: 'groups', listed: true, queue, ...(page.next ? { listNext: page.next } : {}), ...shared };
  }
  return next.listed && !next.listNext && !next.queue.length ? undefined : next;
}
