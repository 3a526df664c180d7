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

    it('round-trips every field; optional ones absent stay absent; changedFields is an array', async () => {
      const full: AuditRecord = {
        runId: RUN_A,
        connection: 'HR',
        action: 'updated',
        subject: 'alice/x#1?',
        username: 'alice',
        ref: 'row 17',
        changedFields: ['email', 'department'],
        reason: 'changed-in-source',
        detail: 'Email and "department" changed; ünïcode kept.',
        at: AT,
      };
      const minimal: AuditRecord = { runId: RUN_A, connection: 'HR', action: 'created', subject: 'bob', at: AT };
      const emptyFields: AuditRecord = { runId: RUN_A, connection: 'HR', action: 'skipped', subject: 'carol', changedFields: [], at: AT };
      await log.write([full, minimal, emptyFields]);

      const { records } = await log.query({ runId: RUN_A, limit: 100 });
      expect(sortRecords(records)).toStrictEqual(sortRecords([full, minimal, emptyFields]));
      const stored = records.find((r) => r.subject === 'bob');
      expect(Object.keys(stored ?? {}).sort()).toEqual(['action', 'at', 'connection', 'runId', 'subject']);
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
      const noRef: AuditRecord = { runId: RUN_A, connection: 'HR', action: 'skipped', subject: 'erin', at: AT };
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
        { ...runRecord(RUN_B, 'run-started'), connection: 'Sales' },
        { ...user(RUN_B, 'alice', 'updated', 'row 2'), connection: 'Sales' },
        { ...user(RUN_B, 'dave', 'created', 'row 5'), connection: 'Sales' },
        { ...runRecord(RUN_B, 'run-failed'), connection: 'Sales', reason: 'source-unavailable' },
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
const RUN_A = '20260601T120000Z-aaaaaa';
const RUN_B = '20260601T130000Z-bbbbbb';
const RUN_C = `${RUN_A}x`;

function user(runId: string, subject: string, action: AuditRecord['action'], ref: string): AuditRecord {
  return { runId, connection: 'HR', action, subject, username: subject, ref, at: AT };
}

function runRecord(runId: string, action: AuditRecord['action']): AuditRecord {
  return { runId, connection: 'HR', action, subject: runId, detail: `${action} detail`, at: AT };
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
