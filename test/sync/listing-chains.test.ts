import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseProfile, type ConnectionProfileInput } from '../../shared/connections/profile.js';
import type { SyncDependencies } from '../../shared/sync/dependencies.js';
import { MAIN_CHAIN, type Run } from '../../shared/sync/run-model.js';
import { startGraphServer, type FakeTenant, type GraphServer } from '../fakes/graph-server.js';
import { drive, handle, outcomeOf, stepped, steppedSync, type DeliveryMode, type Outcome, type SteppedApp } from '../support/step-driver.js';
import { auditOf, createTestApp, putProfile, syncNow, usersOf, fakeEntraProfile, type TestApp } from '../support/test-app.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';

/**
 * Issue 16: a run's listing is read as several page chains at once (users, shares of the groups' members,
 * managers), through the real Graph adapter against the Graph fake, with messages picked in a random order,
 * duplicated and handled concurrently by the step driver.
 */

describe('a listing read as several page chains at once', () => {
  let server: GraphServer;
  beforeAll(async () => {
    server = await startGraphServer({ cert: inject('tlsCert'), key: inject('tlsKey') });
  });
  afterAll(() => server.close());
  afterEach(() => server.heal());

  const SECRET = 'chains-secret-value';

  /** Twelve people in two selected groups, six more groups group sync keeps, a manager chain. */
  function tenant(): FakeTenant {
    const a = server.addTenant(randomUUID(), { clientId: randomUUID(), clientSecret: SECRET });
    const ids = Array.from({ length: 12 }, (_, i) => `p${i.toString().padStart(2, '0')}`);
    for (const id of ids) a.addUser({ id, userPrincipalName: `${id}@contoso.com`, mail: `${id}@contoso.com`, givenName: id, surname: 'Chain', department: 'Sales' });
    for (const id of ids.slice(1)) a.updateUser(id, { managerId: ids[Math.floor(Number(id.slice(1)) / 3)]! });
    a.addGroup({ id: 'all', displayName: 'Intranet-All', members: ids.slice(0, 8) });
    a.addGroup({ id: 'more', displayName: 'Intranet-More', members: ids.slice(6) });
    for (let g = 0; g < 6; g++) a.addGroup({ id: `team${g}`, displayName: `Intranet-Team${g}`, members: ids.filter((_, i) => i % 6 === g || i % 5 === g) });
    a.addGroup({ id: 'other', displayName: 'Elsewhere', members: ids.slice(0, 3) });
    return a;
  }

  const profile = (a: FakeTenant, extra: Partial<ConnectionProfileInput> = {}): ConnectionProfileInput =>
    fakeEntraProfile('Chains', { ...a, graphUrl: server.url, secretName: 'CHAINS_SECRET' }, {
      selectedGroups: ['all', 'more'],
      attributeMap: { department: 'department' },
      groups: { mode: 'regex', pattern: '^Intranet-', keepLocalGroups: false },
      ...extra,
    });

  async function appFor(a: FakeTenant, extra: Partial<ConnectionProfileInput> = {}): Promise<TestApp> {
    const t = await createTestApp({ CHAINS_SECRET: SECRET, USERSYNC_PAGE_SIZE: '2' });
    await putProfile(t, profile(a, extra));
    return t;
  }

  /** The source without its chains: the listing read as the one chain `main`, as before chains existed. */
  function oneChain(app: SteppedApp): SteppedApp {
    const sources = (p: Parameters<SyncDependencies['sources']>[0]) => {
      const { chains: _chains, ...source } = app.deps.sources(p);
      return source;
    };
    return { ...app, deps: { ...app.deps, sources } };
  }

  /** What must not depend on how the listing was read: page refs and the per-chain bookkeeping left out. */
  function comparable(outcome: Outcome): unknown {
    const { pagesFetched: _pages, chains: _chains, ...run } = outcome.run as Partial<Run>;
    const text = JSON.stringify({ ...outcome, run }).replace(/"(ref|sourceRef)":"[^"]*"/g, '"$1":""');
    return JSON.parse(text) as unknown;
  }

  const chainNames = (phase: string, count: number): string[] => Array.from({ length: count }, (_, index) => `${phase}-${index}`);

  let a: FakeTenant;
  let reference: unknown;
  beforeAll(async () => {
    a = tenant();
    const app = oneChain(stepped(await appFor(a)));
    const { run } = await steppedSync(app, 'Chains');
    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete', counts: { created: 12 } });
    expect(Object.keys(run.chains ?? {})).toEqual([MAIN_CHAIN]);
    const outcome = await outcomeOf(app.deps, 'Chains', run);
    // The listing has every part: the kept groups' memberships and the managers.
    expect(outcome.groups).toEqual(['Intranet-All', 'Intranet-More', ...Array.from({ length: 6 }, (_, g) => `Intranet-Team${g}`)]);
    expect(outcome.users.filter((user) => Array.isArray(user.groups) && user.groups.some((group) => String(group).startsWith('Intranet-Team')))).toHaveLength(12);
    expect(outcome.users.filter((user) => user.managerKey !== undefined)).toHaveLength(11);
    reference = comparable(outcome);
  });

  // 2: the managers chains wait for a place; 5: the groups spread over three chains, the managers over five.
  it.each([2, 5])('listingConcurrency %i: chains interleaved in a random order, duplicated and concurrent give the users, audit trail and counts of one chain', async (listingConcurrency) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<DeliveryMode>('once', 'twice', 'concurrent'), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
        async (modes, picks) => {
          const app = stepped(await appFor(a, { listingConcurrency }));
          const { run } = await steppedSync(app, 'Chains', {
            modeOf: (_job, index) => modes[index % modes.length]!,
            pick: (pending, step) => picks[step % picks.length]! % pending,
          });
          // users, max(1, concurrency - 2) shares of the groups, concurrency ranges of the managers.
          const groupChains = Math.max(1, listingConcurrency - 2);
          expect(Object.keys(run.chains ?? {})).toEqual(['users', ...chainNames('groups', groupChains), ...chainNames('managers', listingConcurrency)]);
          expect(Object.values(run.chains ?? {}).every((chain) => chain.state === 'complete' && chain.pages > 0)).toBe(true);
          expect(comparable(await outcomeOf(app.deps, 'Chains', run))).toEqual(reference);
          expect(app.finished).toHaveLength(1);
        },
      ),
      { numRuns: 3 },
    );
  });

  it('a run started before listings had chains (no chains on its row, a message without one) lists as the one chain main', async () => {
    const app = oneChain(stepped(await appFor(a)));
    const started = await startRun(app.deps, { connection: 'Chains', trigger: 'manual', startedBy: 'cli:tester' });
    // As the earlier version stored and queued it.
    await app.deps.runs.update(started.runId, ({ chains: _chains, ...run }) => run);
    app.queue.pending.splice(0, app.queue.pending.length, { queue: 'pages', message: { runId: started.runId, page: 0, cursor: null } });
    await drive(app);
    const run = await app.deps.runs.get(started.runId);
    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete', chains: { main: { state: 'complete' } } });
    expect(comparable(await outcomeOf(app.deps, 'Chains', run!))).toEqual(reference);
  });

  it('a run started before the managers were split (one chain, managers, over every user) finishes with the same outcome', async () => {
    const app = stepped(await appFor(a));
    const started = await startRun(app.deps, { connection: 'Chains', trigger: 'manual', startedBy: 'cli:tester' });
    // As the earlier version stored and queued it: one managers chain where the ranges are now.
    const ranges = (name: string | undefined) => Boolean(name?.startsWith('managers-'));
    await app.deps.runs.update(started.runId, (run) => ({
      ...run,
      chains: { ...Object.fromEntries(Object.entries(run.chains ?? {}).filter(([name]) => !ranges(name))), managers: { state: 'listing', pages: 0 } },
    }));
    const kept = app.queue.pending.filter((job) => !ranges((job.message as { chain?: string }).chain));
    app.queue.pending.splice(0, app.queue.pending.length, ...kept, { queue: 'pages', message: { runId: started.runId, chain: 'managers', page: 0, cursor: null } });
    await drive(app);
    const run = await app.deps.runs.get(started.runId);
    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete', chains: { managers: { state: 'complete' } } });
    expect(Object.keys(run?.chains ?? {}).filter(ranges)).toEqual([]);
    expect(comparable(await outcomeOf(app.deps, 'Chains', run!))).toEqual(reference);
  });

  it('at most listingConcurrency chains list at once; the pages read count every chain', async () => {
    const startWith = async (listingConcurrency: number) => {
      const app = stepped(await appFor(a, { listingConcurrency }));
      return { app, run: await startRun(app.deps, { connection: 'Chains', trigger: 'manual', startedBy: 'cli:tester' }) };
    };
    const states = (run: Run) => Object.fromEntries(Object.entries(run.chains ?? {}).map(([name, chain]) => [name, chain.state]));
    expect(states((await startWith(3)).run)).toEqual({ users: 'listing', 'groups-0': 'listing', 'managers-0': 'listing', 'managers-1': 'waiting', 'managers-2': 'waiting' });
    // The default for Entra, 8: users, six shares of the groups and the first range of managers at once; seven wait.
    const byDefault = stepped(await appFor(a));
    const defaultRun = await startRun(byDefault.deps, { connection: 'Chains', trigger: 'manual', startedBy: 'cli:tester' });
    expect(states(defaultRun)).toEqual({
      users: 'listing',
      ...Object.fromEntries(chainNames('groups', 6).map((name) => [name, 'listing'])),
      ...Object.fromEntries(chainNames('managers', 8).map((name, m) => [name, m ? 'waiting' : 'listing'])),
    });
    expect(() => parseProfile(profile(a, { listingConcurrency: 0 }))).toThrow(/listingConcurrency/);
    const { app: waiting, run } = await startWith(2);
    expect(states(run)).toEqual({ users: 'listing', 'groups-0': 'listing', 'managers-0': 'waiting', 'managers-1': 'waiting' });
    // Only the listing chains' first pages are queued; the waiting one starts when one of them ends.
    expect(waiting.queue.pending.map((job) => job.message)).toEqual([
      { runId: run.runId, chain: 'users', page: 0, cursor: null },
      { runId: run.runId, chain: 'groups-0', page: 0, cursor: null },
    ]);
    await drive(waiting);
    const ended = await waiting.deps.runs.get(run.runId);
    const chains = ended?.chains ?? {};
    expect(ended).toMatchObject({ state: 'succeeded', listing: 'complete' });
    // Every chain read pages of its own (page records per chain), and the run's count is their sum.
    let recorded = 0;
    for (const chain of Object.keys(chains)) {
      let page = 0;
      while (await waiting.deps.runs.getPage(run.runId, chain, page)) page++;
      expect(page, chain).toBe(chains[chain]!.pages);
      expect(page, chain).toBeGreaterThan(0);
      recorded += page;
    }
    expect(ended?.pagesFetched).toBe(recorded);
  });

  it("a chain's job delivered again after its chain ended queues the chain it started, if a crash lost that message", async () => {
    const app = stepped(await appFor(a, { listingConcurrency: 2 }));
    const run = await startRun(app.deps, { connection: 'Chains', trigger: 'manual', startedBy: 'cli:tester' });
    const [users] = app.queue.pending.splice(0, 1);
    await handle(app.deps, users!);
    // The users chain ended and started the first waiting managers chain; the worker crashed before the message was sent.
    expect((await app.deps.runs.get(run.runId))?.chains).toMatchObject({ users: { state: 'complete' }, 'managers-0': { state: 'listing' } });
    const lost = app.queue.pending.findIndex((job) => (job.message as { chain?: string }).chain === 'managers-0');
    expect(lost).toBeGreaterThanOrEqual(0);
    app.queue.pending.splice(lost, 1);
    await handle(app.deps, users!);
    expect(app.queue.pending.map((job) => job.message)).toContainEqual({ runId: run.runId, chain: 'managers-0', page: 0, cursor: null });
    await drive(app);
    expect(await app.deps.runs.get(run.runId)).toMatchObject({ state: 'succeeded', listing: 'complete' });
  });

  it('a chain failing half way fails the listing once the others have ended: what they read lands, nobody is disabled', async () => {
    const t = await appFor(a, { orgChart: false, listingConcurrency: 2 });
    expect(await syncNow(t, 'Chains')).toMatchObject({ state: 'succeeded', counts: { created: 12 } });
    // Since: p05 left both selected groups (a complete listing would disable them), p00 moved department.
    a.setMembers('all', ['p00', 'p01', 'p02', 'p03', 'p04', 'p06', 'p07']);
    a.updateUser('p00', { department: 'Legal' });
    try {
      const app = stepped(t);
      let armed = false;
      const { run } = await steppedSync(app, 'Chains', {
        // The users chain is delivered first and ends; the groups chain then fails after its first request.
        intercept: async (job) => {
          const message = job.message as { chain?: string };
          if (!armed && message.chain === 'groups-0') {
            armed = true;
            server.failAfter(1, 403, 'Insufficient privileges to complete the operation.');
          }
          return false;
        },
      });
      expect(armed).toBe(true);
      expect(run).toMatchObject({ state: 'failed', listing: 'failed', error: { code: 'source-auth-failed' } });
      expect(run.chains).toMatchObject({ users: { state: 'complete' }, 'groups-0': { state: 'failed', error: { code: 'source-auth-failed' } } });
      const users = await usersOf(t, 'Chains');
      expect(users.get('p00@contoso.com')?.attributes.department).toBe('Legal');
      expect(users.get('p05@contoso.com')?.status).toBe('active');
      expect((await auditOf(t, run.runId)).filter((record) => record.action === 'disabled')).toEqual([]);
    } finally {
      a.setMembers('all', ['p00', 'p01', 'p02', 'p03', 'p04', 'p05', 'p06', 'p07']);
      a.updateUser('p00', { department: 'Sales' });
    }
  });
});
