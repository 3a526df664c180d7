import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseProfile } from '../../shared/connections/profile.js';
import type { RunStore } from '../../shared/sync/ports.js';
import { emptyCounts } from '../../shared/sync/model.js';
import { MAIN_CHAIN, newRunId, type PageRecord, type Run, type ShardResult } from '../../shared/sync/run-model.js';
import { createTestApp } from '../support/test-app.js';

/** The RunStore contract: any adapter (Table Storage, an in-memory fake) must pass it. */
export function describeRunStoreContract(name: string, make: () => Promise<RunStore>): void {
  describe(`RunStore contract: ${name}`, () => {
    let store: RunStore;
    beforeEach(async () => {
      store = await make();
    });

    it('create then get round-trips a full run and a minimal one (optional fields stay absent)', async () => {
      const full = fullRun(runId(new Date('2026-03-01T10:00:00Z')));
      const minimal = minimalRun(runId(new Date('2026-03-01T11:00:00Z')));
      await store.create(full);
      await store.create(minimal);

      expect(await store.get(full.runId)).toStrictEqual(full);
      const stored = await store.get(minimal.runId);
      expect(stored).toStrictEqual(minimal);
      for (const optional of ['fromRunId', 'error', 'endedAt']) expect(Object.keys(stored ?? {})).not.toContain(optional);
      expect(await store.get(runId(new Date('2026-03-01T12:00:00Z')))).toBeUndefined();
    });

    it('update stores what change returns, and can remove optional fields', async () => {
      const run = fullRun(runId(new Date('2026-03-02T10:00:00Z')));
      await store.create(run);
      const change = vi.fn((current: Run): Run => {
        const { error: _error, endedAt: _ended, ...rest } = current;
        return { ...rest, state: 'reconciling', pagesFetched: current.pagesFetched + 2, warnings: ['w1', 'w2', 'w3'] };
      });
      const updated = await store.update(run.runId, change);

      expect(change).toHaveBeenCalledWith(run);
      const { error: _error, endedAt: _ended, ...rest } = run;
      const expected: Run = { ...rest, state: 'reconciling', pagesFetched: 9, warnings: ['w1', 'w2', 'w3'] };
      expect(updated).toStrictEqual(expected);
      expect(await store.get(run.runId)).toStrictEqual(expected);
    });

    it('update under 20 concurrent increments of pagesFetched loses none (ETag retries)', async () => {
      const run = minimalRun(runId(new Date('2026-03-03T10:00:00Z')));
      await store.create(run);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.update(run.runId, (current) => ({ ...current, pagesFetched: current.pagesFetched + 1 }))),
      );
      expect((await store.get(run.runId))?.pagesFetched).toBe(20);
      // Each successful write saw a different predecessor: the results are exactly 1..20.
      expect(results.map((r) => r?.pagesFetched).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('update returning undefined leaves the run; update of a missing run is undefined', async () => {
      const run = fullRun(runId(new Date('2026-03-04T10:00:00Z')));
      await store.create(run);
      expect(await store.update(run.runId, () => undefined)).toStrictEqual(run);
      expect(await store.get(run.runId)).toStrictEqual(run);

      const change = vi.fn((current: Run) => current);
      expect(await store.update(runId(new Date('2026-03-04T11:00:00Z')), change)).toBeUndefined();
      expect(change).not.toHaveBeenCalled();
    });

    it('putPage stores a page only once: a second put returns the first record', async () => {
      const run = minimalRun(runId(new Date('2026-03-05T10:00:00Z')));
      await store.create(run);
      const first: PageRecord = { page: 3, entries: 4, unreadable: 1, next: { cursor: 'c-4', skip: 16, nested: [1, 'two'] } };
      const second: PageRecord = { page: 3, entries: 99, unreadable: 0 };
      expect(await store.putPage(run.runId, first)).toStrictEqual(first);
      expect(await store.putPage(run.runId, second)).toStrictEqual(first);
      expect(await store.getPage(run.runId, MAIN_CHAIN, 3)).toStrictEqual(first);

      const last: PageRecord = { page: 4, entries: 2, unreadable: 0 };
      expect(await store.putPage(run.runId, last)).toStrictEqual(last);
      const storedLast = await store.getPage(run.runId, MAIN_CHAIN, 4);
      expect(storedLast).toStrictEqual(last);
      expect(Object.keys(storedLast ?? {})).not.toContain('next');
      // Pages are rows beside the run, not changes to it.
      expect(await store.get(run.runId)).toStrictEqual(run);
    });

    it('concurrent putPage calls for one page all return the one stored record', async () => {
      const id = runId(new Date('2026-03-05T11:00:00Z'));
      await store.create(minimalRun(id));
      const pages: PageRecord[] = Array.from({ length: 8 }, (_, i) => ({ page: 0, entries: i + 1, unreadable: 0, next: i }));
      const returned = await Promise.all(pages.map((page) => store.putPage(id, page)));
      const stored = await store.getPage(id, MAIN_CHAIN, 0);
      expect(pages).toContainEqual(stored);
      for (const record of returned) expect(record).toStrictEqual(stored);
    });

    it("each chain's pages are their own records: one page number in two chains is two pages", async () => {
      const id = runId(new Date('2026-03-06T09:00:00Z'));
      await store.create(minimalRun(id));
      const main: PageRecord = { page: 0, entries: 1, unreadable: 0, next: 'm1' };
      const users: PageRecord = { chain: 'users', page: 0, entries: 2, unreadable: 0 };
      expect(await store.putPage(id, main)).toStrictEqual(main);
      expect(await store.putPage(id, users)).toStrictEqual(users);
      expect(await store.getPage(id, MAIN_CHAIN, 0)).toStrictEqual(main);
      expect(await store.getPage(id, 'users', 0)).toStrictEqual(users);
      expect(await store.getPage(id, 'groups-0', 0)).toBeUndefined();
    });

    it('getPage of a missing page or run is undefined', async () => {
      const id = runId(new Date('2026-03-06T10:00:00Z'));
      await store.create(minimalRun(id));
      await store.putPage(id, { page: 1, entries: 1, unreadable: 0 });
      expect(await store.getPage(id, MAIN_CHAIN, 0)).toBeUndefined();
      expect(await store.getPage(id, MAIN_CHAIN, 2)).toBeUndefined();
      expect(await store.getPage(runId(new Date('2026-03-06T11:00:00Z')), MAIN_CHAIN, 1)).toBeUndefined();
    });

    it('putShardResult upserts; listShardResults returns one per shard of that run only', async () => {
      const id = runId(new Date('2026-03-07T10:00:00Z'));
      const other = runId(new Date('2026-03-07T11:00:00Z'));
      await store.create(minimalRun(id));
      await store.create(minimalRun(other));
      await store.putPage(id, { page: 0, entries: 4, unreadable: 0 });

      const shard3First = shardResult(3, 1);
      const shard3Second: ShardResult = { ...shardResult(3, 5), error: { code: 'internal-error', message: 'boom' } };
      await store.putShardResult(id, shard3First);
      await store.putShardResult(id, shardResult(0, 2));
      await store.putShardResult(id, shardResult(15, 3));
      await store.putShardResult(id, shard3Second);
      await store.putShardResult(other, shardResult(7, 9));

      const results = (await store.listShardResults(id)).sort((a, b) => a.shard - b.shard);
      expect(results).toStrictEqual([shardResult(0, 2), shard3Second, shardResult(15, 3)]);
      expect(await store.listShardResults(other)).toStrictEqual([shardResult(7, 9)]);
      expect(await store.listShardResults(runId(new Date('2026-03-07T12:00:00Z')))).toEqual([]);
    });

    it('list filters by connection, newest first, and keeps to the limit', async () => {
      const starts = ['2026-04-01T08:00:00Z', '2026-04-03T08:00:00Z', '2026-04-02T08:00:00Z', '2026-04-05T08:00:00Z', '2026-04-04T08:00:00Z'];
      const runs = starts.map((at, i) => ({
        ...minimalRun(runId(new Date(at))),
        connection: i % 2 === 0 ? 'HR' : 'Sales',
        startedAt: new Date(at).toISOString(),
      }));
      for (const run of runs) await store.create(run);
      const newestFirst = [...runs].sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));

      expect(await store.list({ limit: 10 })).toStrictEqual(newestFirst);
      expect(await store.list({ limit: 2 })).toStrictEqual(newestFirst.slice(0, 2));
      expect((await store.list({ connection: 'HR', limit: 10 })).map((r) => r.startedAt)).toEqual([
        '2026-04-04T08:00:00.000Z',
        '2026-04-02T08:00:00.000Z',
        '2026-04-01T08:00:00.000Z',
      ]);
      expect((await store.list({ connection: 'Sales', limit: 1 })).map((r) => r.startedAt)).toEqual(['2026-04-05T08:00:00.000Z']);
      expect(await store.list({ connection: 'Nobody', limit: 10 })).toEqual([]);
    });
  });
}

function runId(at: Date): string {
  return newRunId(at, randomBytes(3).toString('hex'));
}

const PROFILE = parseProfile({
  name: 'HR Export',
  type: 'csv',
  source: { kind: 'https', url: 'https://hr.example.org/users.csv', username: 'sync', passwordSecret: 'HR_PASSWORD' },
  schedule: { kind: 'daily', hour: 3, timeZone: 'Europe/London' },
  matchField: 'email',
  managerField: 'Manager',
  columnMap: { 'Given Name': 'firstName' },
  delimiter: ';',
  encoding: 'windows-1252',
});

function minimalRun(id: string): Run {
  return {
    runId: id,
    connection: 'HR Export',
    directoryKey: 'dk0123456789ab',
    trigger: 'schedule',
    startedBy: 'timer',
    kind: 'full',
    dryRun: false,
    profile: PROFILE,
    state: 'listing',
    pagesFetched: 0,
    listing: 'in-progress',
    shardsDone: 0,
    counts: emptyCounts(),
    skipReasons: {},
    unreadableRecords: 0,
    warnings: [],
    startedAt: '2026-03-01T10:00:00.000Z',
  };
}

function fullRun(id: string): Run {
  return {
    ...minimalRun(id),
    trigger: 'manual',
    dryRun: true,
    fromRunId: '20260201T000000Z-abcdef',
    state: 'failed',
    pagesFetched: 7,
    listing: 'failed',
    shardsDone: 16,
    counts: { created: 1, updated: 2, unchanged: 3, disabled: 4, 're-enabled': 5, blocked: 8, activated: 9, conflict: 7, skipped: 6 },
    skipReasons: { 'missing-email': 4, 'duplicate-match-value': 2 },
    unreadableRecords: 3,
    warnings: ['The listing did not complete.', 'Ünïcode "quoted" warning'],
    error: { code: 'source-unavailable', message: 'The server answered 503.' },
    endedAt: '2026-03-01T10:05:00.000Z',
  };
}

function shardResult(shard: number, seed: number): ShardResult {
  return {
    shard,
    counts: { ...emptyCounts(), created: seed, unchanged: seed * 2 },
    skipReasons: seed > 1 ? { 'missing-email': seed } : {},
    pendingDisables: seed * 3,
    unreadable: seed % 2,
  };
}

describeRunStoreContract('Table Storage on Azurite', async () => (await createTestApp()).app.deps.runs);
