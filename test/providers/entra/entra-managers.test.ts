import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { environmentSecrets } from '../../../shared/config/secrets.js';
import { parseProfile } from '../../../shared/connections/profile.js';
import { GraphDirectorySource } from '../../../shared/providers/entra/graph-directory-source.js';
import type { Run } from '../../../shared/sync/run-model.js';
import { startGraphServer, type FakeTenant, type GraphServer } from '../../fakes/graph-server.js';
import { fakeEntraProfile } from '../../support/test-app.js';

/**
 * Issue 16: Graph answers 100 users a page when expanding their managers, so the managers phase is read as several
 * chains, each a range of userPrincipalName. Through the real Graph adapter and SDK against the Graph fake (which
 * compares UPNs case-insensitively): together the chains must give every user's manager exactly once.
 */
describe('the managers phase read as ranges of userPrincipalName', () => {
  let server: GraphServer;
  let tenant: FakeTenant;
  const SECRET = 'managers-secret-value';
  /** UPN → the user's id; every user reports to `boss`. */
  const people = new Map<string, string>();

  beforeAll(async () => {
    server = await startGraphServer({ cert: inject('tlsCert'), key: inject('tlsKey') });
    tenant = server.addTenant(randomUUID(), { clientId: randomUUID(), clientSecret: SECRET });
    tenant.addUser({ id: 'boss', userPrincipalName: 'boss@contoso.com' });
    // At and around every letter (a range's bound), in both cases; digits, the other characters a UPN may start
    // with, non-ASCII (not allowed in a UPN today, but a range must not depend on it); and enough to need pages.
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const starts = [...letters, ...letters.toUpperCase(), ...'0123456789', ...".'-_!#^~", 'é', 'Ø', 'ß', 'Ωmega', '中'];
    const names = starts.flatMap((start) => [`${start}`, `${start}a`, `${start}z`, `${start}~`, `${start}.x`]);
    for (let i = 0; i < 300; i++) names.push(`user${i}`);
    names.forEach((name, i) => {
      // UPNs are unique whatever their case: 'A' beside 'a' is 'A1'.
      const upn = people.has(`${name.toLowerCase()}@contoso.com`) ? `${name}1@contoso.com` : `${name}@contoso.com`;
      people.set(upn.toLowerCase(), `u${i}`);
      tenant.addUser({ id: `u${i}`, userPrincipalName: upn, managerId: 'boss' });
    });
  });
  afterAll(() => server.close());

  const source = new GraphDirectorySource(environmentSecrets({ MANAGERS_SECRET: SECRET }), 999);
  const runWith = (listingConcurrency: number): Run =>
    ({
      kind: 'full',
      profile: parseProfile(fakeEntraProfile('Managers', { ...tenant, graphUrl: server.url, secretName: 'MANAGERS_SECRET' }, { listingConcurrency })),
    }) as Run;

  /** Reads a chain to its end: the manager entries (user id → manager id, in order) and the pages it took. */
  async function readChain(run: Run, chain: string): Promise<{ managers: [string, string][]; pages: number }> {
    const managers: [string, string][] = [];
    let cursor: unknown = null;
    let page = 0;
    do {
      const read = await source.readPage({ run, chain, page, cursor });
      for (const entry of read.entries) if (entry.kind === 'manager') managers.push([entry.key, entry.manager]);
      cursor = read.next;
      page++;
    } while (cursor);
    return { managers, pages: page };
  }

  const everyone = () => [...people.values()].sort();

  it.each([8, 3, 1, 32])('listingConcurrency %i: the ranges give every user with a manager exactly once, and split the pages', async (concurrency) => {
    const run = runWith(concurrency);
    const chains = source.chains(run).filter((name) => name.startsWith('managers'));
    expect(chains).toEqual(Array.from({ length: chains.length }, (_, index) => `managers-${index}`));
    // As many as may list at once, but a range is at least a letter.
    expect(chains.length).toBe(Math.min(concurrency, 27));
    const reads = await Promise.all(chains.map((chain) => readChain(run, chain)));
    const found = reads.flatMap((read) => read.managers);
    expect(found.every(([, manager]) => manager === 'boss')).toBe(true);
    expect(found.map(([user]) => user).sort()).toEqual(everyone());
    // ~600 users are 6 pages of 100 as one chain; spread, no range holds them all.
    if (concurrency > 1) expect(Math.max(...reads.map((read) => read.pages))).toBeLessThan(6);
  });

  it('a tenant that refuses the range is told how to read the managers in one chain', async () => {
    const run = runWith(8);
    server.failAfter(0, 400, "Unsupported or invalid query filter clause specified for property 'userPrincipalName'.");
    try {
      const refused = source.readPage({ run, chain: 'managers-1', page: 0, cursor: null });
      await expect(refused).rejects.toMatchObject({ code: 'source-query-refused', message: expect.stringContaining("Set the profile's listingConcurrency to 1") });
      // One chain has no range: Graph's refusal is then the usual failure.
      await expect(source.readPage({ run: runWith(1), chain: 'managers-0', page: 0, cursor: null })).rejects.not.toMatchObject({ code: 'source-query-refused' });
    } finally {
      server.heal();
    }
  });

  it("a run's managers chain from before the split reads every user, 100 a page", async () => {
    const { managers, pages } = await readChain(runWith(8), 'managers');
    expect(managers.map(([user]) => user).sort()).toEqual(everyone());
    expect(pages).toBe(Math.ceil((people.size + 1) / 100));
  });
});
