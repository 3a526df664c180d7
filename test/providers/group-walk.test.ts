import { describe, expect, it } from 'vitest';
import { GROUP_WALK_START, groupWalkSchema, walkGroups, type GroupLists, type GroupWalk, type ListPage } from '../../shared/providers/group-walk.js';

/** A directory of groups whose members come two a page (`next`: `group:offset`), batching `size` groups a request when given. */
function directory(members: Record<string, string[]>, size?: number): { lists: GroupLists; batches: number[] } {
  const page = (groupId: string, next: string | undefined): ListPage<string> | undefined => {
    const all = members[groupId];
    if (!all) return undefined;
    const offset = next ? Number(next.split(':')[1]) : 0;
    return { items: all.slice(offset, offset + 2), ...(offset + 2 < all.length ? { next: `${groupId}:${offset + 2}` } : {}) };
  };
  const batches: number[] = [];
  const lists: GroupLists = {
    keptGroups: () => Promise.resolve({ items: Object.keys(members).map((id) => ({ id, name: id.toUpperCase() })) }),
    members: (groupId, next) => Promise.resolve(page(groupId, next)),
    ...(size
      ? {
          batch: {
            size,
            members: (reads) => {
              batches.push(reads.length);
              return Promise.resolve(reads.map((read) => page(read.id, read.next)));
            },
          },
        }
      : {}),
  };
  return { lists, batches };
}

/** Every page of the walk from `start`, each through the cursor schema as a queue message would carry it. */
async function walkAll(lists: GroupLists, start: GroupWalk): Promise<{ memberships: string[]; cursors: GroupWalk[] }> {
  const memberships: string[] = [];
  const cursors: GroupWalk[] = [];
  let cursor: GroupWalk | undefined = start;
  while (cursor) {
    const walked = await walkGroups(lists, groupWalkSchema.parse(JSON.parse(JSON.stringify(cursor))), 'page', { pageSize: 3, maxRequests: 2 });
    memberships.push(...walked.entries.map((entry) => `${entry.kind === 'membership' ? entry.group : ''}:${entry.key}`));
    cursor = walked.next;
    if (cursor) cursors.push(cursor);
  }
  return { memberships: memberships.sort(), cursors };
}

describe('the groups walk', () => {
  const members: Record<string, string[]> = Object.fromEntries(Array.from({ length: 12 }, (_, g) => [`g${g}`, Array.from({ length: g % 2 === 0 ? 7 : 1 }, (_, m) => `u${g}-${m}`)]));
  const expected = Object.entries(members).flatMap(([id, keys]) => keys.map((key) => `${id.toUpperCase()}:${key}`)).sort();

  it('reads the same memberships one group a request and in batches, never holding more than a batch of part-read groups', async () => {
    const single = await walkAll(directory(members).lists, GROUP_WALK_START);
    const { lists, batches } = directory(members, 5);
    const batched = await walkAll(lists, GROUP_WALK_START);
    expect(single.memberships).toEqual(expected);
    expect(batched.memberships).toEqual(expected);
    expect(Math.max(...batches)).toBe(5);
    expect(Math.max(...batched.cursors.map((cursor) => cursor.queue.filter((group) => group.next).length))).toBeLessThanOrEqual(5);
  });

  it('reads on a cursor written before part-read groups were queued: its current group from where it was, then the queue', async () => {
    const before = { phase: 'groups', listed: true, queue: [{ id: 'g1', name: 'G1' }], current: { id: 'g0', name: 'G0', next: 'g0:4' } };
    const { memberships } = await walkAll(directory(members, 5).lists, groupWalkSchema.parse(before));
    expect(memberships).toEqual(['G0:u0-4', 'G0:u0-5', 'G0:u0-6', 'G1:u1-0']);
  });

  it('leaves out a group that is gone, and reads the others', async () => {
    const { lists } = directory({ g1: ['a'], g2: ['b'] }, 5);
    const { memberships } = await walkAll(lists, { phase: 'groups', listed: true, queue: [{ id: 'g1', name: 'G1' }, { id: 'gone', name: 'GONE' }, { id: 'g2', name: 'G2' }] });
    expect(memberships).toEqual(['G1:a', 'G2:b']);
  });
});
