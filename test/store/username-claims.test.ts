import { describe, expect, it } from 'vitest';
import type { UsernameClaims, UsernameOwner } from '../../shared/sync/ports.js';
import { bucketOf } from '../../shared/sync/rules/partitioning.js';
import { MemoryUsernameClaims } from '../fakes/memory-stores.js';
import { createTestApp } from '../support/test-app.js';

const owner = (key: string, directoryKey = 'dir-a'): UsernameOwner => ({ directoryKey, key, connection: directoryKey === 'local' ? 'local' : 'A' });

/** The claimMany contract: any adapter (Table Storage batches, an in-memory fake) must pass it. */
function describeClaimManyContract(name: string, make: () => Promise<UsernameClaims>): void {
  describe(`UsernameClaims.claimMany contract: ${name}`, () => {
    it('claims many new names at once, more than one transaction holds in a partition', async () => {
      const usernames = await make();
      // 150 names of one username partition: two transactions.
      const names: string[] = [];
      for (let i = 0; names.length < 150; i++) if (bucketOf(`same.${i}`) === bucketOf('same.0')) names.push(`same.${i}`);
      const claims = [...names, 'x.one', 'x.two'].map((username) => ({ username, owner: owner(username) }));
      expect(await usernames.claimMany(claims)).toEqual(claims.map(() => ({ won: true })));
      for (const { username } of claims) expect(await usernames.find(username)).toEqual(owner(username));
    });

    it('a batch holding a taken name falls back to one by one: the others still win, the owner wins again', async () => {
      const usernames = await make();
      await usernames.claim('Taken', owner('someone-else', 'dir-b'));
      await usernames.claim('mine', owner('mine'));
      const outcomes = await usernames.claimMany([
        { username: 'free.1', owner: owner('free.1') },
        { username: 'taken', owner: owner('t') },
        { username: 'MINE', owner: owner('mine') },
        { username: 'free.2', owner: owner('free.2') },
      ]);
      expect(outcomes).toEqual([{ won: true }, { won: false, owner: owner('someone-else', 'dir-b') }, { won: true }, { won: true }]);
      expect(await usernames.find('free.2')).toEqual(owner('free.2'));
    });

    it('a name asked for twice in one call goes to the first asker, as one claim after another would', async () => {
      const usernames = await make();
      const outcomes = await usernames.claimMany([
        { username: 'dup', owner: owner('first') },
        { username: 'other', owner: owner('other') },
        { username: 'DUP', owner: owner('second') },
      ]);
      expect(outcomes).toEqual([{ won: true }, { won: true }, { won: false, owner: owner('first') }]);
    });
  });
}

/** The list contract: every name in case-insensitive order, after a name, of one directory. */
function describeListContract(name: string, make: () => Promise<UsernameClaims>): void {
  describe(`UsernameClaims.list contract (the sorted username index): ${name}`, () => {
    const collect = async (claims: AsyncIterable<{ username: string }>): Promise<string[]> => {
      const names: string[] = [];
      for await (const claim of claims) names.push(claim.username);
      return names;
    };

    it('lists every name across the 16 partitions in case-insensitive order, after a name, of one directory', async () => {
      const usernames = await make();
      const names = Array.from({ length: 150 }, (_, i) => `user.${String(i).padStart(3, '0')}`);
      await usernames.claimMany(names.map((username, i) => ({ username, owner: owner(username, i % 3 === 0 ? 'dir-b' : 'dir-a') })));
      await usernames.claim('Zed', owner('zed', 'local'));
      await usernames.claim('alpha', owner('alpha', 'dir-b'));
      const expected = ['alpha', ...names, 'Zed'];

      expect(await collect(usernames.list())).toEqual(expected);
      expect(await collect(usernames.list({ after: 'USER.099' }))).toEqual(expected.slice(expected.indexOf('user.099') + 1));
      expect(await collect(usernames.list({ after: 'zed' }))).toEqual([]);
      expect(await collect(usernames.list({ directoryKey: 'dir-b' }))).toEqual(['alpha', ...names.filter((_, i) => i % 3 === 0)]);
      const [first] = await collect(usernames.list({ directoryKey: 'local' }));
      expect(first).toBe('Zed');
      for await (const claim of usernames.list({ after: 'user.148' })) {
        expect(claim).toEqual({ username: 'user.149', owner: owner('user.149') });
        break;
      }
    });
  });
}

describeClaimManyContract('Table Storage on Azurite (batched claims)', async () => (await createTestApp()).app.deps.usernames);
describeClaimManyContract('in memory (test/fakes/memory-stores.ts)', async () => new MemoryUsernameClaims());
describeListContract('Table Storage on Azurite', async () => (await createTestApp()).app.deps.usernames);
describeListContract('in memory (test/fakes/memory-stores.ts)', async () => new MemoryUsernameClaims());
