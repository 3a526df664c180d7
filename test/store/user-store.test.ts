import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { UserStore } from '../../shared/sync/ports.js';
import type { StoredUser } from '../../shared/sync/model.js';
import { SHARD_COUNT, bucketOf, shardOf, shardOfBucket } from '../../shared/sync/rules/partitioning.js';
import { MemoryUserStore } from '../fakes/memory-stores.js';
import { createTestApp } from '../support/test-app.js';

/** The UserStore contract: any adapter (Table Storage, an in-memory fake) must pass it. */
export function describeUserStoreContract(name: string, make: () => Promise<UserStore>): void {
  describe(`UserStore contract: ${name}`, () => {
    let store: UserStore;
    beforeEach(async () => {
      store = await make();
    });

    it('round-trips every field through get, listShard, list(directoryKey) and list()', async () => {
      const dk = directoryKey();
      const full = fullUser(dk, 'alice');
      const minimal = minimalUser(dk, 'bob');
      await store.write([full, minimal]);

      expect(await store.get(dk, 'alice')).toStrictEqual(full);
      expect(await store.get(dk, 'bob')).toStrictEqual(minimal);
      const stored = await store.get(dk, 'bob');
      for (const optional of ['manager', 'passwordHash', 'disabledReason', 'managerKey', 'groups', 'localGroups', 'roles']) expect(Object.keys(stored ?? {})).not.toContain(optional);

      expect((await store.listShard(dk, shardOf('alice'))).find((u) => u.key === 'alice')).toStrictEqual(full);
      expect((await store.listShard(dk, shardOf('bob'))).find((u) => u.key === 'bob')).toStrictEqual(minimal);
      expect(sortByKey(await collect(store.list(dk)))).toStrictEqual([full, minimal]);
      expect(sortByKey(await collect(store.list()))).toStrictEqual([full, minimal]);
    });

    it('answers undefined and empty lists for users and directories it does not hold', async () => {
      const dk = directoryKey();
      await store.write([minimalUser(dk, 'carol')]);
      expect(await store.get(dk, 'nobody')).toBeUndefined();
      expect(await store.get(directoryKey(), 'carol')).toBeUndefined();
      const otherShard = (shardOf('carol') + 1) % SHARD_COUNT;
      expect(await store.listShard(dk, otherShard)).toEqual([]);
      expect(await collect(store.list(directoryKey()))).toEqual([]);
    });

    it('writes more than 100 users of one partition and users of many partitions in one call', async () => {
      const dk = directoryKey();
      const bucket = 0x2a;
      const crowded = keysInBucket(bucket, 230).map((key) => minimalUser(dk, key));
      const spread = Array.from({ length: 300 }, (_, i) => minimalUser(dk, `spread-${i}`));
      await store.write([...crowded, ...spread]);

      const inShard = await store.listShard(dk, shardOfBucket(bucket));
      const expectedInShard = [...crowded, ...spread].filter((u) => shardOf(u.key) === shardOfBucket(bucket));
      expect(expectedInShard.length).toBeGreaterThanOrEqual(230);
      expect(sortByKey(inShard)).toStrictEqual(sortByKey(expectedInShard));

      const all = await collect(store.list(dk));
      expect(all).toHaveLength(530);
      expect(sortByKey(all)).toStrictEqual(sortByKey([...crowded, ...spread]));
      expect(new Set(spread.map((u) => bucketOf(u.key))).size).toBeGreaterThan(150);
      expect(await store.get(dk, 'spread-299')).toStrictEqual(spread[299]);
    });

    it('round-trips keys with / \\ # ? %, spaces, unicode and control characters, each in shardOf(key)', async () => {
      const dk = directoryKey();
      const keys = [
        'a/b',
        'a%2Fb',
        'a%2fb',
        'back\\slash',
        'hash#tag',
        'what?now',
        '100%',
        '%',
        '%%41',
        'with space',
        ' padded ',
        "o'brien",
        'quote"double',
        'tilde~and~more',
        'ünïcødé',
        '日本語のキー',
        'emoji 😀',
        'tab\there',
        'line\nbreak',
        'nul\u0000char',
        'bell\u0007',
        'del\u007f',
        'c1\u0085\u009f',
        'x'.repeat(200),
      ];
      const users = keys.map((key, i) => ({ ...minimalUser(dk, key), username: `user${i}` }));
      await store.write(users);

      for (const user of users) {
        expect(await store.get(dk, user.key)).toStrictEqual(user);
        const shard = await store.listShard(dk, shardOf(user.key));
        expect(shard.filter((u) => u.key === user.key)).toStrictEqual([user]);
      }
      const listed = await collect(store.list(dk));
      expect(listed.map((u) => u.key).sort()).toEqual([...keys].sort());
      expect(sortByKey(listed)).toStrictEqual(sortByKey(users));
    });

    it('rewriting a user replaces it: changed fields change and a removed optional field is gone', async () => {
      const dk = directoryKey();
      const before = fullUser(dk, 'dave');
      await store.write([before]);
      const after: StoredUser = {
        ...minimalUser(dk, 'dave'),
        email: 'dave@new.example.org',
        attributes: { office: 'Leeds' },
        directoryControlled: ['username'],
        updatedAt: '2026-02-02T00:00:00.000Z',
      };
      await store.write([after]);

      const stored = await store.get(dk, 'dave');
      expect(stored).toStrictEqual(after);
      expect(stored?.manager).toBeUndefined();
      expect(stored?.disabledReason).toBeUndefined();
      expect(stored?.attributes).toEqual({ office: 'Leeds' });
      expect(await collect(store.list(dk))).toStrictEqual([after]);
    });

    it('writes a user given twice in one call once, the later copy winning', async () => {
      const dk = directoryKey();
      const first = minimalUser(dk, 'gina');
      const second = { ...first, email: 'gina@second.example.org', sourceHash: 'hash-2' };
      await store.write([first, minimalUser(dk, 'hank'), second]);
      expect(await store.get(dk, 'gina')).toStrictEqual(second);
      expect(await store.listShard(dk, shardOf('gina'))).toContainEqual(second);
      expect(await store.get(dk, 'hank')).toStrictEqual(minimalUser(dk, 'hank'));
    });

    it('keeps two directories apart, even for the same key', async () => {
      const dkA = directoryKey();
      const dkB = directoryKey();
      const a = { ...fullUser(dkA, 'erin'), connection: 'A', email: 'erin@a.example.org' };
      const b = { ...minimalUser(dkB, 'erin'), connection: 'B', email: 'erin@b.example.org' };
      const onlyA = minimalUser(dkA, 'frank');
      await store.write([a, b, onlyA]);

      expect(await store.get(dkA, 'erin')).toStrictEqual(a);
      expect(await store.get(dkB, 'erin')).toStrictEqual(b);
      expect(await store.get(dkB, 'frank')).toBeUndefined();
      expect(await store.listShard(dkA, shardOf('erin'))).toContainEqual(a);
      expect(await store.listShard(dkB, shardOf('erin'))).toStrictEqual([b]);
      expect(sortByKey(await collect(store.list(dkA)))).toStrictEqual([a, onlyA]);
      expect(await collect(store.list(dkB))).toStrictEqual([b]);

      const everyone = await collect(store.list());
      expect(everyone).toHaveLength(3);
      expect(everyone).toEqual(expect.arrayContaining([a, b, onlyA]));
    });

    it('replace writes one user only at the version read: a stale ETag, a row created meanwhile or a plain write in between leave the row as it is', async () => {
      const dk = directoryKey();
      const first = minimalUser(dk, 'ivy');
      expect(await store.getVersioned(dk, 'ivy')).toBeUndefined();
      const created = await store.replace(first, { ifAbsent: true });
      expect(created.written).toBe(true);
      expect(await store.replace({ ...first, email: 'ivy@twice.example.org' }, { ifAbsent: true })).toEqual({ written: false, changed: true });

      const read = await store.getVersioned(dk, 'ivy');
      expect(read).toEqual({ user: first, etag: created.written ? created.etag : '' });
      const second = { ...first, email: 'ivy@second.example.org' };
      const replaced = await store.replace(second, { ifMatch: read!.etag });
      expect(replaced.written && replaced.etag).not.toBe(read!.etag);
      expect(await store.replace({ ...first, email: 'ivy@stale.example.org' }, { ifMatch: read!.etag })).toEqual({ written: false, changed: true });
      expect(await store.get(dk, 'ivy')).toStrictEqual(second);

      const before = await store.getVersioned(dk, 'ivy');
      await store.write([{ ...second, sourceHash: 'hash-written' }]);
      expect(await store.replace({ ...second, email: 'ivy@lost.example.org' }, { ifMatch: before!.etag })).toEqual({ written: false, changed: true });
      await store.setManagerLinks(dk, [{ key: 'ivy', managerKey: 'boss' }]);
      const linked = await store.getVersioned(dk, 'ivy');
      expect(linked?.etag).not.toBe(before!.etag);
      expect(linked?.user).toStrictEqual({ ...second, sourceHash: 'hash-written', managerKey: 'boss' });
    });

    it('of many replaces at the same version, exactly one is written', async () => {
      const dk = directoryKey();
      await store.write([minimalUser(dk, 'jay')]);
      const { etag } = (await store.getVersioned(dk, 'jay'))!;
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => store.replace({ ...minimalUser(dk, 'jay'), email: `jay${i}@example.org` }, { ifMatch: etag })));
      const winners = outcomes.flatMap((outcome, i) => (outcome.written ? [i] : []));
      expect(winners).toHaveLength(1);
      expect((await store.get(dk, 'jay'))?.email).toBe(`jay${winners[0]}@example.org`);
    });

    it('listShard reads exactly the shard’s 16 partitions: not the neighbouring buckets, not a directory whose key sorts next to it', async () => {
      const dk = directoryKey();
      const neighbour = `${dk.slice(0, -1)}${dk.endsWith('f') ? 'e' : 'f'}`;
      // Buckets at the edges of shards 0, 1 and 2 (0–15, 16–31, 32–47).
      const edges = [0, 15, 16, 31, 32].map((bucket) => keysInBucket(bucket, 1)[0]!);
      const ours = edges.map((key) => minimalUser(dk, key));
      await store.write([...ours, ...edges.map((key) => minimalUser(neighbour, key))]);

      expect(sortByKey(await store.listShard(dk, 0))).toStrictEqual(sortByKey(ours.slice(0, 2)));
      expect(sortByKey(await store.listShard(dk, 1))).toStrictEqual(sortByKey(ours.slice(2, 4)));
      expect(await store.listShard(dk, 2)).toStrictEqual([ours[4]]);
      expect(await store.listShard(dk, 3)).toEqual([]);
    });
  });
}

function directoryKey(): string {
  return `dk${randomBytes(6).toString('hex')}`;
}

function minimalUser(dk: string, key: string): StoredUser {
  return {
    directoryKey: dk,
    key,
    connection: 'People',
    username: key,
    email: `user@example.org`,
    firstName: 'First',
    lastName: 'Last',
    status: 'active',
    attributes: {},
    directoryControlled: ['username', 'email', 'firstName', 'lastName'],
    sourceHash: 'hash-0',
    sourceRef: 'row 2',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

function fullUser(dk: string, key: string): StoredUser {
  return {
    ...minimalUser(dk, key),
    email: `${key}@example.org`,
    firstName: 'Ålice',
    lastName: "O'Neil",
    status: 'disabled',
    attributes: { department: 'Sales', jobTitle: 'Lead, "EMEA"', empty: '' },
    manager: 'boss',
    directoryControlled: ['username', 'email', 'firstName', 'lastName', 'department', 'jobTitle'],
    sourceHash: 'sha256-abc',
    passwordHash: 'scrypt$16384$8$1$salt$hash',
    sourceRef: 'row 17',
    createdAt: '2026-01-01T10:00:00.000Z',
    updatedAt: '2026-01-05T10:00:00.000Z',
    disabledReason: 'missing-from-source',
    managerKey: 'boss',
    groups: ['Intranet-All', 'Sales, EMEA'],
    localGroups: ['Onboarding'],
    roles: ['Editor'],
  };
}

/** `count` distinct keys that all hash to `bucket`. */
function keysInBucket(bucket: number, count: number): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) if (bucketOf(`crowd-${i}`) === bucket) keys.push(`crowd-${i}`);
  return keys;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of items) result.push(item);
  return result;
}

function sortByKey(users: StoredUser[]): StoredUser[] {
  return [...users].sort((a, b) => (a.directoryKey + a.key < b.directoryKey + b.key ? -1 : 1));
}

describeUserStoreContract('Table Storage on Azurite', async () => (await createTestApp()).app.deps.users);
describeUserStoreContract('in memory (test/fakes/memory-stores.ts)', async () => new MemoryUserStore());
