import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProfile, type CsvProfile } from '../../shared/connections/profile.js';
import { isAppError } from '../../shared/errors/app-error.js';
import { detectDelimiter, detectEncoding, firstLine, transcodeToUtf8, type CsvEncoding } from '../../shared/providers/csv/format.js';
import { mapErrorRecord, mapRow, planColumns } from '../../shared/providers/csv/map-row.js';
import { readCsvRecords, type CsvRecordResult } from '../../shared/providers/csv/records.js';
import { decideEntries, type DecisionContext } from '../../shared/sync/rules/decide.js';
import type { SourceEntry } from '../../shared/sync/model.js';
import { stepped, steppedSync } from '../support/step-driver.js';
import { auditOf, createTestApp, csvProfile, putProfile, uploadCsv, usersOf } from '../support/test-app.js';

/**
 * Issue 7, bad input never crashes a worker: random bytes, random text full of quotes, delimiters and
 * byte order marks in every supported encoding, and files cut off anywhere, through the CSV reader and
 * mapping (format.ts, records.ts, map-row.ts) and through whole CSV runs on Azurite. Whatever the input,
 * the only errors are the stable ones (a bad header, an empty file), every bad row is skipped with its
 * own reason, and a run always ends.
 */

const PROFILE = parseProfile(csvProfile('Fuzz', 'fuzz.csv', { managerField: 'manager', groupsColumn: 'groups' })) as CsvProfile;
const ROW_REASONS = ['column-count', 'missing-match-value', 'malformed-row'];
const SKIP_REASONS = [...ROW_REASONS, 'value-too-long', 'control-characters', 'username-invalid', 'missing-username', 'missing-first-name', 'missing-last-name', 'missing-email', 'invalid-email', 'missing-password', 'duplicate-match-value'];
const RUN_ERRORS = ['csv-empty', 'csv-header-invalid', 'all-rows-skipped'];

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  // At most ~256 chunks: small ones where boundaries are interesting, without crawling through a huge value.
  const step = Math.max(size, Math.ceil(bytes.length / 256));
  for (let at = 0; at < bytes.length; at += step) yield bytes.subarray(at, at + step);
}

async function collect(input: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function records(utf8: Buffer, delimiter: ReturnType<typeof detectDelimiter>, chunkSize: number, start = { offset: 0, line: 1 }): Promise<CsvRecordResult[]> {
  const results: CsvRecordResult[] = [];
  const input = chunked(utf8.subarray(start.offset), chunkSize);
  for await (const result of readCsvRecords(input, { delimiter, startOffset: start.offset, startLine: start.line })) results.push(result);
  return results;
}

/**
 * What a CSV run reads from a file, as CsvDirectorySource does it: encoding, delimiter, header, then
 * every record mapped to an entry. Throws only the AppErrors a run fails with.
 */
async function readFile(bytes: Buffer, chunkSize: number, profile: CsvProfile = PROFILE): Promise<{ entries: SourceEntry[]; results: CsvRecordResult[]; utf8: Buffer }> {
  const { encoding, bomLength } = detectEncoding(bytes.subarray(0, 64 * 1024));
  const utf8 = await collect(transcodeToUtf8(chunked(bytes, chunkSize), profile.encoding ?? encoding, bomLength));
  const delimiter = profile.delimiter ?? detectDelimiter(firstLine(utf8.subarray(0, 64 * 1024).toString('utf8')));
  const results = await records(utf8, delimiter, chunkSize);
  const [header, ...rows] = results;
  if (!header) return { entries: [], results, utf8 };
  if (header.kind === 'error') return { entries: [], results, utf8 };
  const plan = planColumns(header.fields.map((field) => field.trim()), profile);
  return { entries: rows.map((row) => (row.kind === 'record' ? mapRow(plan, row) : mapErrorRecord(row))), results, utf8 };
}

function expectOnlyStableErrors(error: unknown): void {
  if (!isAppError(error)) throw error;
  expect(RUN_ERRORS).toContain(error.code);
  expect(error.message.length).toBeGreaterThan(10);
}

function expectWellFormed(entries: SourceEntry[]): void {
  let lastLine = 1;
  for (const entry of entries) {
    const line = Number(/^row (\d+)$/.exec(entry.ref)?.[1]);
    expect(line).toBeGreaterThan(lastLine);
    lastLine = line;
    if (entry.kind === 'invalid') {
      expect(ROW_REASONS).toContain(entry.reason);
      expect(entry.detail).toMatch(new RegExp(`(row|line) ${line}\\b`));
    } else {
      expect(entry.kind).toBe('user');
      if (entry.kind !== 'user') continue;
      expect(entry.key).not.toBe('');
      expect(entry.key).toBe(entry.key.toLowerCase());
    }
  }
}

const context: DecisionContext = { directoryKey: 'dkfuzz', connection: 'Fuzz', now: '2026-11-21T10:00:00.000Z', requiresPassword: true, hasDefaultPassword: true, keepLocalGroups: false };

/** Every entry decided: anything that is not a user to create or change is a skip with a known reason. */
function expectDecidable(entries: SourceEntry[]): void {
  const byKey = new Map<string, SourceEntry[]>();
  for (const entry of entries) if (entry.key !== undefined) byKey.set(entry.key, [...(byKey.get(entry.key) ?? []), entry]);
  for (const [key, list] of byKey) {
    for (const decision of decideEntries(key, list, undefined, context)) {
      expect(['create', 'skip']).toContain(decision.action);
      if (decision.action === 'skip') {
        expect(SKIP_REASONS).toContain(decision.reason);
        expect(decision.detail).not.toBe('');
      }
    }
  }
}

/** Text with everything that makes CSV hard: quotes, every delimiter, line endings, BOMs, accents, emoji, NUL. */
const unit = fc.constantFrom('a', 'b', 'Z', '1', ' ', '"', '"', ',', ';', '\t', '|', '\n', '\r\n', '\r', '\uFEFF', 'é', 'ß', '€', '😀', '\0', '@', '.');
const HEADERS = [
  'username,email,firstName,lastName',
  'Username;E-mail;First Name;Surname;Department;manager;groups',
  'user_name\temail_address\tgiven name\tfamily-name\tpassword',
  '"username"|"mail"|"forename"|"last name"|"Office, floor"',
  'username,email,firstName,lastName,username', // two columns for one field
  'login,mail',
];
const encodings: CsvEncoding[] = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1252'];

function encode(text: string, encoding: CsvEncoding, bom: boolean): Buffer {
  switch (encoding) {
    case 'utf-8':
      return Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text, 'utf8')]);
    case 'utf-16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'utf-16be': {
      const le = Buffer.from(text, 'utf16le');
      return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(le).swap16()]);
    }
    case 'windows-1252':
      return Buffer.from(text, 'latin1');
  }
}

/** A CSV-ish file: a plausible header, rows of hostile text, in any encoding, possibly cut off at any byte. */
const hostileFile = fc
  .record({
    header: fc.constantFrom(...HEADERS),
    rows: fc.array(
      fc.oneof(
        { weight: 8, arbitrary: fc.string({ unit, maxLength: 40 }) },
        // Now and then a value no Table row could hold (a row key is at most 1 KiB, a column 32K characters).
        { weight: 1, arbitrary: fc.tuple(fc.string({ unit, maxLength: 4 }), fc.constantFrom(300, 1500, 40_000)).map(([text, times]) => `${text}${'x'.repeat(times)},a@b.org,A,B`) },
      ),
      { maxLength: 12 },
    ),
    eol: fc.constantFrom('\n', '\r\n'),
    encoding: fc.constantFrom(...encodings),
    bom: fc.boolean(),
    cut: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ header, rows, eol, encoding, bom, cut }) => {
    const bytes = encode([header, ...rows].join(eol), encoding, bom);
    return cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
  });

/** Random bytes, some with a byte order mark or a good header in front. */
const randomBytes = fc
  .tuple(fc.constantFrom('', '\uFEFF', 'username,email,firstName,lastName\n'), fc.uint8Array({ maxLength: 300 }))
  .map(([prefix, bytes]) => Buffer.concat([Buffer.from(prefix, 'utf8'), Buffer.from(bytes)]));

describe('fuzzed CSV bytes through format, records and map-row', () => {
  it.each([
    ['random bytes', randomBytes],
    ['hostile text in any encoding, cut off anywhere', hostileFile],
  ] as const)('%s: only stable errors; every row an entry with a specific reason', async (_name, files) => {
    await fc.assert(
      fc.asyncProperty(files, fc.integer({ min: 1, max: 64 }), async (bytes, chunkSize) => {
        let read;
        try {
          read = await readFile(bytes, chunkSize);
        } catch (error) {
          expectOnlyStableErrors(error);
          return;
        }
        expectWellFormed(read.entries);
        expectDecidable(read.entries);
        // Every byte is accounted for: the last record ends where the input does.
        const last = read.results.at(-1);
        if (last) expect(last.endOffset).toBeLessThanOrEqual(read.utf8.length);
      }),
      { numRuns: 400 },
    );
  });

  it('reading resumed after any record (the next page) gives exactly the records that followed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileFile, randomBytes), fc.integer({ min: 1, max: 64 }), fc.nat(), async (bytes, chunkSize, at) => {
        const { encoding, bomLength } = detectEncoding(bytes);
        const utf8 = await collect(transcodeToUtf8(chunked(bytes, chunkSize), encoding, bomLength));
        const all = await records(utf8, ',', chunkSize);
        if (all.length === 0) return;
        const split = at % all.length;
        const from = all[split]!;
        expect(await records(utf8, ',', chunkSize, { offset: from.endOffset, line: from.nextLine })).toEqual(all.slice(split + 1));
      }),
      { numRuns: 400 },
    );
  });

  it('chunk boundaries never change what is read', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileFile, randomBytes), fc.integer({ min: 1, max: 16 }), async (bytes, chunkSize) => {
        const whole = await readFile(bytes, Math.max(bytes.length, 1)).catch((error: unknown) => error);
        const pieces = await readFile(bytes, chunkSize).catch((error: unknown) => error);
        if (whole instanceof Error || pieces instanceof Error) {
          expect(isAppError(whole) && isAppError(pieces) && whole.code === pieces.code).toBe(true);
          return;
        }
        expect(pieces).toEqual(whole);
      }),
      { numRuns: 150 },
    );
  });

  it('a quote left open runs out after 100 lines instead of swallowing the file', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `user${i},user${i}@example.org,First,Last`);
    rows[5] = 'broken,"broken@example.org,First,Last';
    const { entries } = await readFile(Buffer.from(['username,email,firstName,lastName', ...rows].join('\n')), 1000);
    expect(entries).toHaveLength(300);
    expect(entries.filter((entry) => entry.kind === 'invalid')).toEqual([expect.objectContaining({ ref: 'row 7', reason: 'malformed-row' })]);
  });
});

describe('fuzzed CSV files through whole runs on Azurite', () => {
  it('every run ends, succeeded or failed with a stable code; bad rows are skipped with their reason', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Fuzz-Default-Pa55' });
    const app = stepped(t);
    let index = 0;
    // Few cases: each is a whole run (~3 s).
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileFile, randomBytes, fc.constant(Buffer.alloc(0))), async (bytes) => {
        const name = `Fuzz${index++}`;
        await putProfile(t, csvProfile(name, `${name}.csv`, { managerField: 'manager', groupsColumn: 'groups' }));
        await uploadCsv(t, `${name}.csv`, bytes);
        const { run, report } = await steppedSync(app, name);
        // Nothing threw (a thrown error would have been retried by the queue).
        expect(report.retried).toEqual([]);
        expect(['succeeded', 'failed']).toContain(run.state);
        if (run.state === 'failed') {
          expect(RUN_ERRORS).toContain(run.error?.code);
          expect(run.counts.disabled).toBe(0);
          return;
        }
        const audit = await auditOf(t, run.runId);
        const skipped = audit.filter((record) => record.action === 'skipped');
        expect(skipped).toHaveLength(run.counts.skipped);
        for (const record of skipped) {
          expect(SKIP_REASONS).toContain(record.reason);
          expect(record.detail).toBeTruthy();
        }
        expect((await usersOf(t, name)).size).toBe(run.counts.created + run.counts.blocked);
        expect(JSON.stringify(audit)).not.toContain('Fuzz-Default-Pa55');
      }),
      { numRuns: 5, seed: 7 },
    );
  });

  it('a value too long for Table Storage skips its row (value-too-long), not its whole shard', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Fuzz-Default-Pa55' });
    await putProfile(t, csvProfile('Huge', 'huge.csv'));
    const rows = [
      'ann,ann@example.org,Ann,A,Sales',
      `${'u'.repeat(1500)},long@example.org,Long,Key,Sales`, // a row key of 1,500 characters
      `big,big@example.org,Big,Value,${'d'.repeat(70_000)}`, // more than a column holds
      `wide,${'e'.repeat(70_000)},Wide,Email,Sales`, // and an invalid email that would be quoted in full
      `bea,bea@example.org,${'B'.repeat(300)},A,Sales`,
      'cal,cal@example.org,Cal,A,Sales',
    ];
    await uploadCsv(t, 'huge.csv', ['username,email,firstName,lastName,department', ...rows].join('\n'));
    const { run, report } = await steppedSync(stepped(t), 'Huge');
    expect(report.retried).toEqual([]);
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 2, skipped: 4 }, skipReasons: { 'value-too-long': 4 } });
    expect([...(await usersOf(t, 'Huge')).keys()].sort()).toEqual(['ann', 'cal']);
    const skipped = (await auditOf(t, run.runId)).filter((record) => record.action === 'skipped');
    expect(Object.fromEntries(skipped.map((record) => [record.ref, record.detail]))).toEqual({
      'row 3': 'The match value is 1500 characters long; at most 256 can identify a user.',
      'row 4': 'The attributes take more than 30000 characters together.',
      'row 5': 'The email is 70000 characters long; at most 256 are kept.',
      'row 6': 'The firstName is 300 characters long; at most 256 are kept.',
    });
  });

  it('a header too long to quote in full still fails the run with its code (it did not end at all)', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Fuzz-Default-Pa55' });
    await putProfile(t, csvProfile('Wide', 'wide.csv'));
    const column = 'x'.repeat(40_000);
    await uploadCsv(t, 'wide.csv', `username,email,firstName,lastName,${column},${column}\nann,ann@example.org,Ann,A,1,2\n`);
    const { run, report } = await steppedSync(stepped(t), 'Wide');
    expect(report.retried).toEqual([]);
    expect(run).toMatchObject({ state: 'failed', error: { code: 'csv-header-invalid' } });
    expect(run.error?.message).toMatch(/^The CSV header cannot be used: columns "x+/);
    expect(run.error?.message.length).toBeLessThanOrEqual(2000);
    expect((await auditOf(t, run.runId)).find((record) => record.action === 'run-failed')).toMatchObject({ reason: 'csv-header-invalid' });
  });

  it('a truncated file mid-row syncs the rows before the cut and skips or reads the last one, never failing the run', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Fuzz-Default-Pa55' });
    const text = 'username,email,firstName,lastName\nann,ann@example.org,Ann,A\nbob,"bob@example.org",Bob,B\ncid,"cid@exam';
    await putProfile(t, csvProfile('Cut', 'cut.csv'));
    await uploadCsv(t, 'cut.csv', Buffer.from(text));
    const { run } = await steppedSync(stepped(t), 'Cut');
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 2, skipped: 1 }, unreadableRecords: 1 });
    expect((await auditOf(t, run.runId)).find((record) => record.action === 'skipped')).toMatchObject({ ref: 'row 4', reason: 'malformed-row' });
  });
});
