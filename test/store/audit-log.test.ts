import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditLog, AuditQuery, AuditRecord } from '../../shared/audit/audit-log.js';
import { createTestApp } from '../support/test-app.js';

/** The AuditLog contract: any adapter (Table Storage, an in-memory fake) must pass it. */
export function describeAuditLogContract(name: string, make: () => Promise<AuditLog>): void {
  describe(`AuditLog contract: ${name}`, () => {
    let log: AuditLog;
    beforeEach(async () => {
      log = await make();
    });

    it('round-trips every field; optional ones absent stay absent; changedFields and changes are arrays', async () => {
      const full: AuditRecord = {
        runId: RUN_A,
        connection: 'HR',
        action: 'updated',
        subject: 'alice/x#1?',
        username: 'alice',
        ref: 'row 17',
        changedFields: ['email', 'department'],
        changes: [{ field: 'email', from: 'a@example.org', to: 'alice@example.org' }, { field: 'department', to: 'Sales' }, { field: 'pin', withheld: true }],
        reason: 'changed-in-source',
        detail: 'Email and "department" changed; ünïcode kept.',
        actor: 'user:ann@contoso.com',
        confirmedAt: AT,
        at: AT,
      };
      const minimal: AuditRecord = { runId: RUN_A, connection: 'HR', action: 'created', subject: 'bob', actor: 'timer', at: AT };
      const emptyFields: AuditRecord = { runId: RUN_A, connection: 'HR', action: 'skipped', subject: 'carol', changedFields: [], actor: 'timer', at: AT };
      await log.write([full, minimal, emptyFields]);

      const { records } = await log.query({ runId: RUN_A, limit: 100 });
      expect(sortRecords(records)).toStrictEqual(sortRecords([full, minimal, emptyFields]));
      const stored = records.find((r) => r.subject === 'bob');
      expect(Object.keys(stored ?? {}).sort()).toEqual(['action', 'actor', 'at', 'connection', 'runId', 'subject']);
      expect(Array.isArray(records.find((r) => r.subject === 'alice/x#1?')?.changedFields)).toBe(true);
    });

    it('writing the same record twice (in one call or two) leaves one', async () => {
      const record = user(RUN_A, 'dave', 'created', 'row 2');
      await log.write([record, record]);
      await log.write([record]);
      expect((await log.query({ runId: RUN_A, limit: 100 })).records).toStrictEqual([record]);

      const runLevel = runRecord(RUN_A, 'run-started');
      await log.write([runLevel]);
      await log.write([runLevel]);
      expect(sortRecords((await log.query({ runId: RUN_A, limit: 100 })).records)).toStrictEqual(sortRecords([record, runLevel]));
    });

    it('two records differing only in ref are two', async () => {
      const first = user(RUN_A, 'erin', 'skipped', 'row 3');
      const second = user(RUN_A, 'erin', 'skipped', 'row 9');
      const noRef: AuditRecord = { runId: RUN_A, connection: 'HR', action: 'skipped', subject: 'erin', actor: 'timer', at: AT };
      await log.write([first, second, noRef]);
      expect(sortRecords((await log.query({ runId: RUN_A, limit: 100 })).records)).toStrictEqual(sortRecords([first, second, noRef]));
    });

    describe('queries', () => {
      const runA = [
        runRecord(RUN_A, 'run-started'),
        user(RUN_A, 'alice', 'created', 'row 2'),
        user(RUN_A, 'bob', 'updated', 'row 3'),
        user(RUN_A, 'carol', 'skipped', 'row 4'),
        runRecord(RUN_A, 'run-succeeded'),
      ];
      const runB = [
        { ...runRecord(RUN_B, 'run-started', B_AT), connection: 'Sales' },
        { ...user(RUN_B, 'alice', 'updated', 'row 2', B_AT), connection: 'Sales' },
        { ...user(RUN_B, 'dave', 'created', 'row 5', B_AT), connection: 'Sales' },
        { ...runRecord(RUN_B, 'run-failed', B_AT), connection: 'Sales', reason: 'source-unavailable' },
      ];
      // A run whose id extends RUN_A's: a prefix match on the run id would wrongly include it.
      const runC = [user(RUN_C, 'erin', 'created', 'row 2'), runRecord(RUN_C, 'run-started')];

      beforeEach(async () => {
        await log.write([...runA, ...runB, ...runC]);
      });

      it('by runId returns only that run, including its run-level records', async () => {
        expect(sortRecords((await log.query({ runId: RUN_A, limit: 100 })).records)).toStrictEqual(sortRecords(runA));
        expect(sortRecords((await log.query({ runId: RUN_B, limit: 100 })).records)).toStrictEqual(sortRecords(runB));
        expect(sortRecords((await log.query({ runId: RUN_C, limit: 100 })).records)).toStrictEqual(sortRecords(runC));
        expect((await log.query({ runId: '20260101T000000Z-000000', limit: 100 })).records).toEqual([]);
      });

      it('by action, by subject and by connection, alone and combined', async () => {
        expect(sortRecords((await log.query({ action: 'created', limit: 100 })).records)).toStrictEqual(
          sortRecords([runA[1], runB[2], runC[0]].map(defined)),
        );
        expect(sortRecords((await log.query({ subject: 'alice', limit: 100 })).records)).toStrictEqual(sortRecords([runA[1], runB[1]].map(defined)));
        expect((await log.query({ subject: RUN_B, limit: 100 })).records.map((r) => r.action).sort()).toEqual(['run-failed', 'run-started']);
        expect(sortRecords((await log.query({ connection: 'Sales', limit: 100 })).records)).toStrictEqual(sortRecords(runB));
        expect((await log.query({ runId: RUN_A, action: 'updated', limit: 100 })).records).toStrictEqual([runA[2]]);
        expect((await log.query({ connection: 'HR', subject: 'alice', limit: 100 })).records).toStrictEqual([runA[1]]);
        expect((await log.query({ action: 're-enabled', limit: 100 })).records).toEqual([]);
      });

      it('pages with limit and continuationToken, returning every record exactly once', async () => {
        const all = [...runA, ...runB, ...runC];
        for (const query of [{}, { connection: 'HR' }, { runId: RUN_B }] satisfies Partial<AuditQuery>[]) {
          const expected = all.filter((r) => (!query.connection || r.connection === query.connection) && (!('runId' in query) || r.runId === query.runId));
          const seen = await readAllPages(log, { ...query, limit: 2 });
          expect(seen.pages.every((page) => page.length <= 2)).toBe(true);
          expect(seen.pages.length).toBeGreaterThanOrEqual(Math.ceil(expected.length / 2));
          expect(sortRecords(seen.records)).toStrictEqual(sortRecords(expected));
        }
      });
    });

    it('lists newest first across runs and partitions; a run-level record comes first among those of its millisecond', async () => {
      const at = (minutes: number) => new Date(Date.parse(AT) + minutes * 60_000).toISOString();
      const started = runRecord(RUN_A, 'run-started', at(0));
      const alice = user(RUN_A, 'alice', 'updated', 'row 2', at(1));
      const bob = user(RUN_A, 'bob', 'created', 'row 3', at(1));
      const finished = runRecord(RUN_A, 'run-needs-confirmation', at(2));
      const otherRun = { ...runRecord(RUN_B, 'run-started', at(60)), connection: 'Sales' };
      const confirmed = runRecord(RUN_A, 'run-confirmed', at(3 * 24 * 60));
      const disabled = { ...user(RUN_A, 'carol', 'disabled', 'row 4', at(3 * 24 * 60 + 1)), confirmedAt: at(3 * 24 * 60) };
      const succeeded = runRecord(RUN_A, 'run-succeeded', at(3 * 24 * 60 + 1));
      await log.write([alice, otherRun, succeeded, started, disabled, bob, confirmed, finished]);

      const newestFirst = [succeeded, disabled, confirmed, otherRun, finished, alice, bob, started];
      const all = (await log.query({ limit: 100 })).records;
      expect(all.map((r) => r.at)).toEqual(newestFirst.map((r) => r.at));
      expect(all.at(0)).toStrictEqual(succeeded);
      expect(sortRecords(all.slice(5, 7))).toStrictEqual(sortRecords([alice, bob]));
      // A run's records, however long after its start (a confirm days later), and newest first too.
      const ofRun = (await log.query({ runId: RUN_A, limit: 100 })).records;
      expect(sortRecords(ofRun)).toStrictEqual(sortRecords(newestFirst.filter((r) => r.runId === RUN_A)));
      expect(ofRun.map((r) => r.at)).toEqual(newestFirst.filter((r) => r.runId === RUN_A).map((r) => r.at));
    });

    it('since and until bound the time, both included, and page newest first', async () => {
      const at = (minutes: number) => new Date(Date.parse(AT) + minutes * 60_000).toISOString();
      const records = Array.from({ length: 10 }, (_, i) => user(RUN_A, `user-${i}`, 'updated', `row ${i + 2}`, at(i)));
      await log.write(records);
      const window = { since: at(2), until: at(7) };
      const seen = await readAllPages(log, { ...window, limit: 2 });
      expect(seen.pages.every((page) => page.length <= 2)).toBe(true);
      expect(seen.records).toStrictEqual(records.slice(2, 8).reverse());
      expect((await log.query({ since: at(9), limit: 100 })).records).toStrictEqual([records[9]]);
      expect((await log.query({ until: at(0), limit: 100 })).records).toStrictEqual([records[0]]);
      expect((await log.query({ ...window, subject: 'user-5', limit: 100 })).records).toStrictEqual([records[5]]);
      expect((await log.query({ since: at(3), until: at(3), runId: RUN_A, limit: 100 })).records).toStrictEqual([records[3]]);
      expect((await log.query({ since: at(10), limit: 100 })).records).toEqual([]);
    });

    it('pages through more records than one page over many partitions', async () => {
      const records = Array.from({ length: 137 }, (_, i) => user(RUN_A, `user-${i}`, 'created', `row ${i + 2}`));
      await log.write(records);
      const seen = await readAllPages(log, { runId: RUN_A, limit: 25 });
      expect(seen.records).toHaveLength(137);
      expect(new Set(seen.records.map((r) => r.subject)).size).toBe(137);
      expect(seen.pages.every((page) => page.length <= 25)).toBe(true);
      expect(sortRecords(seen.records)).toStrictEqual(sortRecords(records));
    });
  });
}

const AT = '2026-06-01T12:00:00.000Z';
const RUN_A = '20260601T120000000Z-aaaaaa';
const RUN_B = '20260601T130000000Z-bbbbbb';
const RUN_C = `${RUN_A}x`;
const B_AT = '2026-06-01T13:00:00.000Z';

function user(runId: string, subject: string, action: AuditRecord['action'], ref: string, at = AT): AuditRecord {
  return { runId, connection: 'HR', action, subject, username: subject, ref, actor: 'timer', at };
}

function runRecord(runId: string, action: AuditRecord['action'], at = AT): AuditRecord {
  return { runId, connection: 'HR', action, subject: runId, detail: `${action} detail`, actor: 'timer', at };
}

function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('missing fixture');
  return value;
}

function sortRecords(records: AuditRecord[]): AuditRecord[] {
  const keyOf = (r: AuditRecord) => [r.runId, r.subject, r.action, r.ref ?? ''].join('\u0001');
  return [...records].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

async function readAllPages(log: AuditLog, query: AuditQuery): Promise<{ records: AuditRecord[]; pages: AuditRecord[][] }> {
  const pages: AuditRecord[][] = [];
  let continuationToken: string | undefined;
  do {
    const page = await log.query({ ...query, ...(continuationToken ? { continuationToken } : {}) });
    pages.push(page.records);
    continuationToken = page.continuationToken;
    if (pages.length > 200) throw new Error('paging does not end');
  } while (continuationToken);
  return { records: pages.flat(), pages };
}

describeAuditLogContract('Table Storage on Azurite', async () => (await createTestApp()).app.deps.audit);

describe('TableAuditLog', () => {
  it('leaves out rows of the layout before newest-first keys (PartitionKey `{runId}~{bucket}`) instead of listing them as the newest', async () => {
    const t = await createTestApp();
    const current = runRecord(RUN_A, 'run-started');
    await t.app.deps.audit.write([current]);
    await t.table('auditTable').upsertEntity({ partitionKey: `${RUN_B}~3a`, rowKey: 'old~created~row 2', runId: RUN_B, connection: 'HR', action: 'created', subject: 'old', at: B_AT });
    expect((await t.app.deps.audit.query({ limit: 100 })).records).toStrictEqual([current]);
  });
});
