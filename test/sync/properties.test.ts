import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { environmentSecrets } from '../../shared/config/secrets.js';
import { parseProfile, type ConnectionProfileInput, type GroupSettings } from '../../shared/connections/profile.js';
import { decideEntries, type DecisionContext, type PlannedDecision } from '../../shared/sync/rules/decide.js';
import type { SyncDependencies } from '../../shared/sync/dependencies.js';
import type { DirectorySource } from '../../shared/sync/directory-source.js';
import { emptyCounts, type SourceEntry, type SourceUser, type StoredUser } from '../../shared/sync/model.js';
import { SHARD_COUNT } from '../../shared/sync/rules/partitioning.js';
import type { Run } from '../../shared/sync/run-model.js';
import { loadOrMakePlan } from '../../shared/sync/pipeline/shard-plan.js';
import { stageEntries } from '../../shared/sync/pipeline/staging.js';
import { MemoryFileStore, MemoryLicenceLedger, MemoryUsernameClaims, MemoryUserStore } from '../fakes/memory-stores.js';
import { stepped, steppedSync, type DeliveryMode } from '../support/step-driver.js';
import { auditOf, createTestApp, csvProfile, putProfile, uploadCsv, usersOf } from '../support/test-app.js';

/**
 * Issue 7, property tests of the reconciliation: applying the same pages twice has the effect of
 * applying them once, and the order pages arrive in does not change the outcome. First on the shard
 * planner itself (shard-plan.ts over pages staged as a page job stages them, on in-memory stores), then
 * through the real pipeline on Azurite with messages duplicated, handled concurrently and reordered at random.
 */

const NOW = '2026-11-21T10:00:00.000Z';
const LATER = '2026-11-22T10:00:00.000Z';
const DIRECTORY = 'dkprops';
const KEYS = ['ann', 'bob', 'cyd', 'dot', 'eve', 'fin'] as const;
/** Distinct ignoring case: the casing of a group listed two ways depends on which is read first. */
const GROUPS = ['Intranet-All', 'Intranet-Dev', 'Sales', 'Other'] as const;

interface Source {
  repeatsUsers: boolean;
  groups: GroupSettings;
  /** A complete (full) listing: stored users missing from it are disabled. */
  complete: boolean;
}

/**
 * A source whose accounts need a password (CSV) or not. No default password is set: hashing one
 * (scrypt, ~0.1 s) in every case would make hundreds of cases take minutes; the pipeline property
 * below creates CSV users with the default password.
 */
function directorySource(source: Source, requiresPassword: boolean, pages: readonly (readonly SourceEntry[])[]): DirectorySource {
  return {
    requiresPassword,
    listsUsersRepeatedly: source.repeatsUsers,
    supportsIncremental: false,
    readPage: async ({ page }) => ({ entries: [...(pages[page] ?? [])], next: page + 1 < pages.length ? page + 1 : null }),
    testConnection: async () => ({ detail: `${pages.length} page(s).`, warnings: [] }),
  };
}

/**
 * What the run's shards decide and finalise then applies: every shard planned by shard-plan.ts from the
 * pages staged by staging.ts, against `stored` (with their usernames claimed), on fresh in-memory stores.
 */
async function reconcile(pages: readonly (readonly SourceEntry[])[], stored: ReadonlyMap<string, StoredUser>, source: Source, now: string, requiresPassword = false): Promise<PlannedDecision[]> {
  const runFiles = new MemoryFileStore();
  const users = new MemoryUserStore();
  const usernames = new MemoryUsernameClaims();
  await users.write([...stored.values()]);
  for (const user of stored.values()) await usernames.claim(user.username, { directoryKey: DIRECTORY, key: user.key, connection: 'Props' });
  const profile = parseProfile({
    name: 'Props',
    schedule: { kind: 'off' },
    ...(source.repeatsUsers
      ? { type: 'entra', tenantId: '00000000-0000-0000-0000-000000000001', clientId: '00000000-0000-0000-0000-000000000002', credential: { kind: 'secret', secretName: 'PROPS_SECRET' }, selectedGroups: ['all'] }
      : { type: 'csv', source: { kind: 'blob', blobName: 'props.csv' } }),
    groups: source.groups,
  } as ConnectionProfileInput);
  // Planning a shard reads and writes only these ports; the run's other stores play no part in it.
  const ports: Partial<SyncDependencies> = {
    runFiles,
    users,
    usernames,
    licences: new MemoryLicenceLedger(undefined),
    sources: () => directorySource(source, requiresPassword, pages),
    secrets: environmentSecrets({}),
    clock: () => new Date(now),
  };
  const deps = ports as SyncDependencies;
  const run: Run = {
    runId: 'props-run',
    connection: 'Props',
    directoryKey: DIRECTORY,
    trigger: 'manual',
    startedBy: 'cli:tester',
    kind: 'full',
    dryRun: false,
    profile,
    state: 'reconciling',
    pagesFetched: pages.length,
    listing: source.complete ? 'complete' : 'failed',
    shardsDone: 0,
    counts: emptyCounts(),
    skipReasons: {},
    unreadableRecords: 0,
    warnings: [],
    startedAt: now,
  };
  for (const [page, entries] of pages.entries()) await stageEntries(runFiles, run.runId, page, entries);
  const plans = [];
  for (let shard = 0; shard < SHARD_COUNT; shard++) plans.push(await loadOrMakePlan(deps, run, shard));
  // As finalise-job.ts: the source's disables always, users missing from the listing only after a complete, fully readable one.
  const mayDisable = run.listing === 'complete' && plans.every((plan) => plan.unreadable === 0);
  return plans.flatMap((plan) => [...plan.decisions, ...plan.sourceDisables, ...(mayDisable ? plan.pendingDisables : [])]);
}

/** The stored users after applying decisions (every write is the decision's whole target row). */
function apply(stored: ReadonlyMap<string, StoredUser>, decisions: readonly PlannedDecision[]): Map<string, StoredUser> {
  const next = new Map(stored);
  for (const decision of decisions) if ('user' in decision) next.set(decision.key, decision.user);
  return next;
}

/** Decisions as a sorted list, for comparing outcomes that may come in another order. */
function normalised(decisions: readonly PlannedDecision[], withoutRefs: boolean): string[] {
  return decisions
    .map((decision) => {
      let copy = structuredClone(decision) as Record<string, unknown>;
      // A duplicate's detail lists the copies in the order they were read; which copies is what matters.
      if (decision.action === 'skip' && decision.reason === 'duplicate-match-value') {
        const refs = [...decision.detail.matchAll(/row \d+/g)].map(([ref]) => ref).sort();
        copy.detail = refs.join(', ');
      }
      // A user read several times (Entra: once per selected group) is the last reading: its ref says where that was.
      if (withoutRefs) copy = JSON.parse(JSON.stringify(copy).replace(/"(ref|sourceRef)":"[^"]*"/g, '"$1":""')) as Record<string, unknown>;
      return JSON.stringify(copy);
    })
    .sort();
}

const name = fc.stringMatching(/^[A-Z][a-z]{0,6}$/);
const sourceUser = (key: string): fc.Arbitrary<SourceUser> =>
  fc.record({
    username: fc.constantFrom(key, key, `${key}.renamed`),
    email: fc.constantFrom(`${key}@example.org`, `${key}@example.com`, '', 'not-an-email'),
    firstName: name,
    lastName: fc.oneof(name, fc.constant('')),
    active: fc.boolean(),
    attributes: fc.dictionary(fc.constantFrom('department', 'jobTitle', 'office'), fc.constantFrom('A', 'B', 'c'), { maxKeys: 2 }),
  });

/** How the users stored by earlier runs were created. */
const EARLIER: DecisionContext = {
  directoryKey: DIRECTORY,
  connection: 'Props',
  now: '2026-01-01T00:00:00.000Z',
  requiresPassword: false,
  hasDefaultPassword: false,
  keepLocalGroups: false,
};

/** Users stored by earlier runs, for some of the keys (some since disabled or blocked). */
const storedUsers: fc.Arbitrary<Map<string, StoredUser>> = fc
  .uniqueArray(fc.constantFrom(...KEYS), { maxLength: KEYS.length })
  .chain((keys) =>
    fc.tuple(...keys.map((key) => fc.tuple(sourceUser(key), fc.constantFrom('active', 'disabled', 'blocked') as fc.Arbitrary<StoredUser['status']>))).map((rows) => {
      const stored = new Map<string, StoredUser>();
      rows.forEach(([user, status], index) => {
        const key = keys[index]!;
        const [created] = decideEntries(key, [{ kind: 'user', key, ref: 'row 1', user: { ...user, active: true, email: `${key}@example.org`, lastName: 'Earlier' } }], undefined, EARLIER);
        if (created?.action !== 'create') throw new Error(`setup: expected a create, got ${JSON.stringify(created)}`);
        stored.set(key, { ...created.user, status });
      });
      return stored;
    }),
  );

/** Splits entries into 1–4 pages at random cut points. */
function paged(entries: SourceEntry[], cuts: number[]): SourceEntry[][] {
  const at = [...new Set(cuts.map((cut) => cut % (entries.length + 1)))].sort((a, b) => a - b);
  const pages: SourceEntry[][] = [];
  let from = 0;
  for (const cut of [...at, entries.length]) {
    pages.push(entries.slice(from, cut));
    from = cut;
  }
  return pages.filter((page) => page.length > 0);
}

/**
 * An Entra-like listing: each user in scope listed once or twice (once per selected group it is in,
 * the same reading each time), membership entries and manager entries, in any order over the pages.
 */
const entraListing = fc
  .record({
    users: fc.uniqueArray(fc.constantFrom(...KEYS), { maxLength: KEYS.length }).chain((keys) => fc.tuple(...keys.map((key) => sourceUser(key).map((user) => ({ key, user }))))),
    repeats: fc.array(fc.nat(), { maxLength: 4 }),
    memberships: fc.array(fc.record({ key: fc.constantFrom(...KEYS), group: fc.constantFrom(...GROUPS) }), { maxLength: 8 }),
    managers: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...KEYS), { maxKeys: 3 }),
    order: fc.array(fc.nat(), { maxLength: 40 }),
    cuts: fc.array(fc.nat(), { maxLength: 3 }),
  })
  .map(({ users, repeats, memberships, managers, order, cuts }) => {
    const entries: SourceEntry[] = [];
    for (const { key, user } of users) entries.push({ kind: 'user', key, ref: `user ${key}`, user });
    for (const index of repeats) {
      const repeated = users[index % Math.max(users.length, 1)];
      if (repeated) entries.push({ kind: 'user', key: repeated.key, ref: `user ${repeated.key} again`, user: repeated.user });
    }
    for (const { key, group } of memberships) entries.push({ kind: 'membership', key, ref: `member ${key}`, group });
    for (const [key, manager] of Object.entries(managers)) entries.push({ kind: 'manager', key, ref: `manager ${key}`, manager });
    // Shuffle by the generated order: the source may list these in any order.
    const shuffled = entries.map((entry, index) => ({ entry, rank: order[index] ?? index })).sort((a, b) => a.rank - b.rank).map(({ entry }) => entry);
    return paged(shuffled, cuts);
  });

/** A CSV-like listing: rows with refs, some keys twice (duplicates), unreadable rows with and without a key. */
const csvListing = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...KEYS).chain((key) => sourceUser(key).map((user) => ({ kind: 'user' as const, key, user }))) },
      { weight: 1, arbitrary: fc.constant({ kind: 'malformed' as const }) },
      { weight: 1, arbitrary: fc.constantFrom(...KEYS).map((key) => ({ kind: 'column-count' as const, key })) },
    ),
    { maxLength: 10 },
  )
  .chain((rows) => fc.tuple(fc.constant(rows), fc.array(fc.nat(), { maxLength: 3 })))
  .map(([rows, cuts]) => {
    const entries = rows.map((row, index): SourceEntry => {
      const ref = `row ${index + 2}`;
      if (row.kind === 'user') return { kind: 'user', key: row.key, ref, user: row.user };
      if (row.kind === 'malformed') return { kind: 'invalid', ref, reason: 'malformed-row', detail: `Unclosed quote starting on line ${index + 2}` };
      return { kind: 'invalid', key: row.key, ref, reason: 'column-count', detail: `${ref} has 3 columns; the header has 5` };
    });
    return paged(entries, cuts);
  });

const groupSettings = fc.constantFrom<GroupSettings>(
  { mode: 'off', keepLocalGroups: false },
  { mode: 'all', keepLocalGroups: false },
  { mode: 'regex', pattern: '^Intranet-', keepLocalGroups: false },
);

const sources = {
  entra: fc.record({ pages: entraListing, groups: groupSettings, complete: fc.boolean() }).map(({ pages, groups, complete }) => ({ pages, source: { repeatsUsers: true, groups, complete } })),
  csv: fc.record({ pages: csvListing, complete: fc.boolean() }).map(({ pages, complete }) => ({ pages, source: { repeatsUsers: false, groups: { mode: 'off' as const, keepLocalGroups: false }, complete } })),
};

describe('reconciliation properties (shard-plan.ts over staged pages, in memory)', () => {
  describe.each(Object.entries(sources))('%s-like listings', (kind, listing) => {
    it('applying the same pages twice leaves what applying them once does', async () => {
      await fc.assert(
        fc.asyncProperty(listing, storedUsers, fc.boolean(), async ({ pages, source }, stored, requiresPassword) => {
          const once = apply(stored, await reconcile(pages, stored, source, NOW, requiresPassword));
          const again = await reconcile(pages, once, source, LATER, requiresPassword);
          // The second pass changes no one: it finds the users unchanged (not in the plan), or skips the same rows again.
          expect(again.filter((decision) => decision.action !== 'skip')).toEqual([]);
          expect(apply(once, again)).toEqual(once);
        }),
        { numRuns: 300 },
      );
    });

    it('page order does not change the decisions', async () => {
      await fc.assert(
        fc.asyncProperty(listing, storedUsers, fc.array(fc.nat(), { maxLength: 6 }), async ({ pages, source }, stored, ranks) => {
          const permuted = pages.map((page, index) => ({ page, rank: ranks[index] ?? -index })).sort((a, b) => a.rank - b.rank).map(({ page }) => page);
          const withoutRefs = kind === 'entra';
          expect(normalised(await reconcile(permuted, stored, source, NOW), withoutRefs)).toEqual(normalised(await reconcile(pages, stored, source, NOW), withoutRefs));
        }),
        { numRuns: 300 },
      );
    });
  });

  it('a page staged twice (Entra lists users repeatedly) decides exactly what it decides once', async () => {
    await fc.assert(
      fc.asyncProperty(sources.entra, storedUsers, async ({ pages, source }, stored) => {
        const once = await reconcile(pages, stored, source, NOW);
        for (const [index, page] of pages.entries()) {
          const doubled = [...pages.slice(0, index + 1), page, ...pages.slice(index + 1)];
          expect(await reconcile(doubled, stored, source, NOW)).toEqual(once);
        }
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * The same through the real pipeline: a CSV run on Azurite whose messages are each delivered once,
 * twice, or to two workers at once, and picked from the queue in a random order, ends with the rows,
 * audit records and counts that reading each row once gives. Each case is a whole run (~5 s with its duplicates): few runs.
 */
describe('reconciliation property through Azurite (duplicated, concurrent and reordered messages)', () => {
  const HEADER = 'username,email,firstName,lastName,department';
  type Row = { kind: 'user'; key: string; email: string; department: string } | { kind: 'broken'; key: string } | { kind: 'short'; key: string };
  const row = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('user' as const), key: fc.constantFrom(...KEYS), email: fc.constantFrom('ok', 'ok', 'ok', 'missing', 'invalid'), department: fc.constantFrom('Sales', 'Legal') }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('broken' as const), key: fc.constantFrom(...KEYS) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('short' as const), key: fc.constantFrom(...KEYS) }) },
  ) as fc.Arbitrary<Row>;
  const line = (r: Row) => {
    if (r.kind === 'broken') return `${r.key},"${r.key}@example.org,Broken,Row,Sales`;
    if (r.kind === 'short') return `${r.key},${r.key}@example.org,Short`;
    const email = r.email === 'ok' ? `${r.key}@example.org` : r.email === 'missing' ? '' : 'not-an-email';
    return `${r.key},${email},${r.key.toUpperCase()},Tester,${r.department}`;
  };

  it('ends with the outcome of reading each row once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 1, maxLength: 9 }).filter((rows) => rows.some((r) => r.kind === 'user')),
        fc.array(fc.constantFrom<DeliveryMode>('once', 'twice', 'concurrent'), { minLength: 1, maxLength: 40 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
        async (rows, modes, picks) => {
          const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Initial-Pa55!' });
          await putProfile(t, csvProfile('Prop', 'prop.csv'));
          await uploadCsv(t, 'prop.csv', [HEADER, ...rows.map(line)].join('\n') + '\n');
          const app = stepped(t);
          const { run } = await steppedSync(app, 'Prop', {
            modeOf: (_job, index) => modes[index % modes.length]!,
            pick: (pending, step) => (picks[step % picks.length]! % pending),
          });

          // The model: a key on more than one row (readable or not) is a duplicate; a broken row has no key.
          const keyed = rows.map((r, index) => ({ r, ref: `row ${index + 2}` })).filter(({ r }) => r.kind !== 'broken');
          const copies = (key: string) => keyed.filter(({ r }) => r.key === key).length;
          const expectedSkips: Record<string, string> = {};
          const created = new Map<string, string>();
          rows.forEach((r, index) => {
            const ref = `row ${index + 2}`;
            if (r.kind === 'broken') expectedSkips[ref] = 'malformed-row';
            else if (copies(r.key) > 1) expectedSkips[ref] = 'duplicate-match-value';
            else if (r.kind === 'short') expectedSkips[ref] = 'column-count';
            else if (r.email === 'missing') expectedSkips[ref] = 'missing-email';
            else if (r.email === 'invalid') expectedSkips[ref] = 'invalid-email';
            else created.set(r.key, r.department);
          });

          // A listing where every row is skipped fails the run (all-rows-skipped).
          const ended = created.size > 0 ? 'succeeded' : 'failed';
          expect(run).toMatchObject({ state: ended, shardsDone: 16, listing: 'complete' });
          expect(run.counts).toMatchObject({ created: created.size, skipped: Object.keys(expectedSkips).length, updated: 0, disabled: 0 });
          // Rows that cannot be tied to a user with certainty: broken quotes and wrong column counts.
          expect(run.unreadableRecords).toBe(rows.filter((r) => r.kind !== 'user').length);
          const users = await usersOf(t, 'Prop');
          expect(new Map([...users].map(([username, user]) => [username, user.attributes.department]))).toEqual(created);
          const audit = await auditOf(t, run.runId);
          expect(audit.filter((record) => record.action === 'created').map((record) => record.subject).sort()).toEqual([...created.keys()].sort());
          expect(Object.fromEntries(audit.filter((record) => record.action === 'skipped').map((record) => [record.ref, record.reason]))).toEqual(expectedSkips);
          expect(audit.filter((record) => record.action === `run-${ended}`)).toHaveLength(1);
          expect(app.finished).toHaveLength(1);
        },
      ),
      { numRuns: 4 },
    );
  });
});
