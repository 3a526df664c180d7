import { describe, expect, it } from 'vitest';
import type { UsernameClaims, UsernameOwner } from '../../shared/store/ports.js';
import { bucketOf } from '../../shared/sync/partitioning.js';
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

describeClaimManyContract('Table Storage on Azurite (batched claims)', async () => (await createTestApp()).app.deps.usernames);
describeClaimManyContract('in memory (test/fakes/memory-stores.ts)', async () => new MemoryUsernameClaims());
