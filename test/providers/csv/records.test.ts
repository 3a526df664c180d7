import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CsvDelimiter } from '../../../shared/providers/csv/format.js';
import { readCsvRecords, type CsvRecordResult, type ReadCsvRecordsOptions } from '../../../shared/providers/csv/records.js';

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

type ReadOptions = Partial<ReadCsvRecordsOptions> & { chunkSize?: number };

async function read(input: string | Buffer, { chunkSize, ...options }: ReadOptions = {}): Promise<CsvRecordResult[]> {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const results: CsvRecordResult[] = [];
  const source = chunked(bytes, chunkSize ?? Math.max(bytes.length, 1));
  for await (const result of readCsvRecords(source, { delimiter: ',', startOffset: 0, startLine: 1, ...options })) {
    results.push(result);
  }
  return results;
}

/** Reads `bytes` from `offset` on, as a later page would. */
function resume(bytes: Buffer, from: { endOffset: number; nextLine: number }, options: ReadOptions = {}) {
  return read(bytes.subarray(from.endOffset), { ...options, startOffset: from.endOffset, startLine: from.nextLine });
}

const fieldsOf = (results: CsvRecordResult[]) => results.map((r) => (r.kind === 'record' ? r.fields : r.message));

/** Header plus the broken-quote example: bob's quote is never closed. */
const BROKEN = 'username,email,name\nalice,a@x.com,Alice\nbob,"b@x.com,Bob\ncarol,c@x.com,Carol\ndave,"d""x@x.com",Dave\n';

/** A bit of everything: multi-byte characters, CRLF, lone CRs, blank lines, quoted line breaks, literal and broken quotes, no final newline. */
const SAMPLE = [
  'username;name;note\r\n',
  'rené;René Ünal;"a; b"\r\n',
  '\r\n',
  'zoë;"Zoë ""Z"" 😀";"two\r\nlines"\r\n',
  'broken;"Bad;x\n',
  'ok;"multi\n\nline";東京\n',
  'x;y"z;w\n',
  '\n',
  'cr;"a\rb";c\r',
  'd;e\r\r',
  'last;"open',
].join('');

describe('readCsvRecords', () => {
  it('reads LF lines with exact end offsets, including a last line without a newline', async () => {
    expect(await read('username,email\nalice,a@x.com\nbob,b@x.com')).toEqual([
      { kind: 'record', line: 1, fields: ['username', 'email'], endOffset: 15, nextLine: 2 },
      { kind: 'record', line: 2, fields: ['alice', 'a@x.com'], endOffset: 29, nextLine: 3 },
      { kind: 'record', line: 3, fields: ['bob', 'b@x.com'], endOffset: 40, nextLine: 4 },
    ]);
  });

  it('reads CRLF lines without leaving a carriage return in the last field', async () => {
    expect(await read('a,b\r\nc,d\r\n')).toEqual([
      { kind: 'record', line: 1, fields: ['a', 'b'], endOffset: 5, nextLine: 2 },
      { kind: 'record', line: 2, fields: ['c', 'd'], endOffset: 10, nextLine: 3 },
    ]);
  });

  it('skips blank lines but counts them', async () => {
    expect(await read('a,b\n\n\r\nc,d\n\n')).toEqual([
      { kind: 'record', line: 1, fields: ['a', 'b'], endOffset: 4, nextLine: 2 },
      { kind: 'record', line: 4, fields: ['c', 'd'], endOffset: 11, nextLine: 5 },
    ]);
  });

  it('counts byte offsets of multi-byte characters', async () => {
    // "René,😀\n" is 11 bytes (é: 2, 😀: 4); "Zoë,"a\nb"\n" is 11.
    expect(await read('name,note\nRené,😀\nZoë,"a\nb"\n')).toEqual([
      { kind: 'record', line: 1, fields: ['name', 'note'], endOffset: 10, nextLine: 2 },
      { kind: 'record', line: 2, fields: ['René', '😀'], endOffset: 21, nextLine: 3 },
      { kind: 'record', line: 3, fields: ['Zoë', 'a\nb'], endOffset: 32, nextLine: 5 },
    ]);
  });

  it('uses the given delimiter', async () => {
    expect(fieldsOf(await read('username;name\nrene;"Doe; René";x,y\n', { delimiter: ';' }))).toEqual([
      ['username', 'name'],
      ['rene', 'Doe; René', 'x,y'],
    ]);
    expect(fieldsOf(await read('a\tb|c\n', { delimiter: '\t' }))).toEqual([['a', 'b|c']]);
  });

  it('keeps newlines inside quoted fields, as written', async () => {
    const results = await read('id,note\n1,"line one\nline two"\n2,"x\r\ny"\r\n3,plain\n');
    expect(results.slice(1)).toEqual([
      { kind: 'record', line: 2, fields: ['1', 'line one\nline two'], endOffset: 30, nextLine: 4 },
      { kind: 'record', line: 4, fields: ['2', 'x\r\ny'], endOffset: 40, nextLine: 6 },
      { kind: 'record', line: 6, fields: ['3', 'plain'], endOffset: 48, nextLine: 7 },
    ]);
  });

  it('unescapes doubled quotes', async () => {
    expect(fieldsOf(await read('a,"say ""hi""",""\n'))).toEqual([['a', 'say "hi"', '']]);
  });

  it('ends lines at CRLF, LF and a lone CR, mixed in one file, with exact offsets', async () => {
    expect(await read('u,e\rann,a@x\r\nbob,b@x\ncid,c@x\r\rdan,d@x\r')).toEqual([
      { kind: 'record', line: 1, fields: ['u', 'e'], endOffset: 4, nextLine: 2 },
      { kind: 'record', line: 2, fields: ['ann', 'a@x'], endOffset: 13, nextLine: 3 },
      { kind: 'record', line: 3, fields: ['bob', 'b@x'], endOffset: 21, nextLine: 4 },
      { kind: 'record', line: 4, fields: ['cid', 'c@x'], endOffset: 29, nextLine: 5 },
      { kind: 'record', line: 6, fields: ['dan', 'd@x'], endOffset: 38, nextLine: 7 },
    ]);
  });

  it('keeps every kind of line break inside a quoted value, as written', async () => {
    expect(await read('id,note\r1,"a\rb\r\nc\nd"\r2,x\r')).toEqual([
      { kind: 'record', line: 1, fields: ['id', 'note'], endOffset: 8, nextLine: 2 },
      { kind: 'record', line: 2, fields: ['1', 'a\rb\r\nc\nd'], endOffset: 21, nextLine: 6 },
      { kind: 'record', line: 6, fields: ['2', 'x'], endOffset: 25, nextLine: 7 },
    ]);
  });

  it('reads a quote inside a value that did not start with one as a literal character', async () => {
    // An HR system's tab-separated export, which quotes nothing.
    expect(fieldsOf(await read('ann\tLead, Marketing "Ops"\tHR\nbob\t5" floppy\tx"\n', { delimiter: '\t' }))).toEqual([
      ['ann', 'Lead, Marketing "Ops"', 'HR'],
      ['bob', '5" floppy', 'x"'],
    ]);
    // Such a quote opens nothing: the next line is a record of its own.
    expect(fieldsOf(await read('a,b"c\nd,e"f\n'))).toEqual([
      ['a', 'b"c'],
      ['d', 'e"f'],
    ]);
  });

  it('does not merge the next row into a value whose opening quote is never closed', async () => {
    // Joined to line 1, line 2 would close the quote at `"A"` with text after it: no record spans them.
    expect(fieldsOf(await read('bob\t"Bud\tSales\nann\tAnn "A"\tHR\n', { delimiter: '\t' }))).toEqual([
      'Unclosed quote starting on line 1',
      ['ann', 'Ann "A"', 'HR'],
    ]);
  });

  it('reports an unclosed quote on its line only and reads the rows after it', async () => {
    expect(await read(BROKEN)).toEqual([
      { kind: 'record', line: 1, fields: ['username', 'email', 'name'], endOffset: 20, nextLine: 2 },
      { kind: 'record', line: 2, fields: ['alice', 'a@x.com', 'Alice'], endOffset: 40, nextLine: 3 },
      { kind: 'error', line: 3, message: 'Unclosed quote starting on line 3', endOffset: 57, nextLine: 4 },
      { kind: 'record', line: 4, fields: ['carol', 'c@x.com', 'Carol'], endOffset: 77, nextLine: 5 },
      { kind: 'record', line: 5, fields: ['dave', 'd"x@x.com', 'Dave'], endOffset: 100, nextLine: 6 },
    ]);
  });

  it('reports an unclosed quote on the very last line', async () => {
    expect(await read('a,b\nc,"d')).toEqual([
      { kind: 'record', line: 1, fields: ['a', 'b'], endOffset: 4, nextLine: 2 },
      { kind: 'error', line: 2, message: 'Unclosed quote starting on line 2', endOffset: 8, nextLine: 3 },
    ]);
    expect(fieldsOf(await read('a,b\nc,"d\n\n'))).toEqual(['a,b'.split(','), 'Unclosed quote starting on line 2']);
  });

  it('does not let a later quote close a broken one when the joined record does not parse', async () => {
    // Lines 1 and 3 each open a quote; joined they make an even count but an invalid record.
    expect(await read('bob,"b,Bob\ncarol,c,Carol\ndan,"d,Dan\n')).toEqual([
      { kind: 'error', line: 1, message: 'Unclosed quote starting on line 1', endOffset: 11, nextLine: 2 },
      { kind: 'record', line: 2, fields: ['carol', 'c', 'Carol'], endOffset: 25, nextLine: 3 },
      { kind: 'error', line: 3, message: 'Unclosed quote starting on line 3', endOffset: 36, nextLine: 4 },
    ]);
  });

  it('gives up on a quote still open after maxRecordLines lines', async () => {
    const good = Array.from({ length: 150 }, (_, i) => `user${i},u${i}@x.com\n`).join('');
    const results = await read(`a,"open\n${good}`);
    expect(results[0]).toEqual({ kind: 'error', line: 1, message: 'Unclosed quote starting on line 1', endOffset: 8, nextLine: 2 });
    expect(results.slice(1).map((r) => (r.kind === 'record' ? r.line : r.kind))).toEqual(
      Array.from({ length: 150 }, (_, i) => i + 2),
    );

    expect(fieldsOf(await read('a,"1\n2\n3"\n', { maxRecordLines: 3 }))).toEqual([['a', '1\n2\n3']]);
    expect(await read('a,"1\n2\n3"\n', { maxRecordLines: 2 })).toEqual([
      { kind: 'error', line: 1, message: 'Unclosed quote starting on line 1', endOffset: 5, nextLine: 2 },
      { kind: 'record', line: 2, fields: ['2'], endOffset: 7, nextLine: 3 },
      { kind: 'record', line: 3, fields: ['3"'], endOffset: 10, nextLine: 4 },
    ]);
  });

  it('explains text after a closing quote and goes on', async () => {
    expect(await read('a,"b"c\nx,"y",""z\nx,y\n')).toEqual([
      {
        kind: 'error',
        line: 1,
        message:
          'Text after a closing quote in column 2 on line 1: a quoted value must be followed by a delimiter or the end of the line',
        endOffset: 7,
        nextLine: 2,
      },
      {
        kind: 'error',
        line: 2,
        message:
          'Text after a closing quote in column 3 on line 2: a quoted value must be followed by a delimiter or the end of the line',
        endOffset: 17,
        nextLine: 3,
      },
      { kind: 'record', line: 3, fields: ['x', 'y'], endOffset: 21, nextLine: 4 },
    ]);
  });

  it('keeps records in order around malformed lines in large files', async () => {
    const bad = new Set([250, 500, 501, 1000, 1199]);
    const lines = Array.from({ length: 1200 }, (_, i) => (bad.has(i + 1) ? `u${i + 1},"broken\n` : `u${i + 1},ok\n`));
    const results = await read(lines.join(''), { chunkSize: 4096 });
    expect(results.map((r) => `${r.line}:${r.kind}`)).toEqual(
      Array.from({ length: 1200 }, (_, i) => `${i + 1}:${bad.has(i + 1) ? 'error' : 'record'}`),
    );
    expect(results[998]).toEqual({ kind: 'record', line: 999, fields: ['u999', 'ok'], endOffset: lines.slice(0, 999).join('').length, nextLine: 1000 });
  });

  it('gives the same results whatever the chunk boundaries', async () => {
    const whole = await read(SAMPLE, { delimiter: ';' });
    expect(whole.map((r) => `${r.line}:${r.kind}`)).toEqual(['1:record', '2:record', '4:record', '6:error', '7:record', '10:record', '12:record', '14:record', '16:error']);
    expect(whole[2]).toMatchObject({ fields: ['zoë', 'Zoë "Z" 😀', 'two\r\nlines'] });
    expect(whole[4]).toMatchObject({ fields: ['ok', 'multi\n\nline', '東京'] });
    expect(whole.slice(5, 8).map((r) => (r.kind === 'record' ? r.fields : r.message))).toEqual([
      ['x', 'y"z', 'w'],
      ['cr', 'a\rb', 'c'],
      ['d', 'e'],
    ]);
    expect(whole.at(-1)?.endOffset).toBe(Buffer.byteLength(SAMPLE));
    for (const chunkSize of [1, 2, 3, 7, 64]) expect(await read(SAMPLE, { delimiter: ';', chunkSize })).toEqual(whole);
  });

  it('gives the same results with the input split at every byte (a CR and its LF in different chunks too)', async () => {
    const bytes = Buffer.from(SAMPLE);
    const whole = await read(bytes, { delimiter: ';' });
    for (let at = 0; at <= bytes.length; at++) {
      const results: CsvRecordResult[] = [];
      const twoChunks = (async function* () {
        yield bytes.subarray(0, at);
        yield bytes.subarray(at);
      })();
      for await (const result of readCsvRecords(twoChunks, { delimiter: ';', startOffset: 0, startLine: 1 })) results.push(result);
      expect(results, `split at byte ${at}`).toEqual(whole);
    }
  });

  it('resumes from any end offset with the same following results as one pass', async () => {
    for (const [text, delimiter] of [[SAMPLE, ';'], [BROKEN, ',']] as const) {
      const bytes = Buffer.from(text);
      const whole = await read(bytes, { delimiter });
      for (const [index, result] of whole.entries()) {
        expect(await resume(bytes, result, { delimiter, chunkSize: 5 })).toEqual(whole.slice(index + 1));
      }
    }
  });

  // Speed is measured by `npm run bench`, not here: this checks a large file streams through correctly.
  it('streams 100,000 rows in 64 KiB chunks to the exact last offset', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => `user${i},"user${i}@example.com",First ${i},Last,Sales,E${i}\n`);
    const bytes = Buffer.from(`username,email,firstName,lastName,department,employeeId\n${rows.join('')}`);
    // Count rather than keep every result: a page consumer does not hold 100,000 records either.
    let count = 0;
    let last: CsvRecordResult | undefined;
    for await (const result of readCsvRecords(chunked(bytes, 64 * 1024), { delimiter: ',', startOffset: 0, startLine: 1 })) {
      count++;
      last = result;
    }
    expect(count).toBe(100_001);
    expect(last).toEqual({
      kind: 'record',
      line: 100_001,
      fields: ['user99999', 'user99999@example.com', 'First 99999', 'Last', 'Sales', 'E99999'],
      endOffset: bytes.length,
      nextLine: 100_002,
    });
  });

  it('returns exactly the rows a CSV writer encoded', async () => {
    const unit = fc.constantFrom('a', 'Z', ' ', '"', ',', ';', '\t', '|', '\n', '\r', 'é', '😀');
    const rows = fc.array(fc.array(fc.string({ unit, maxLength: 6 }), { minLength: 1, maxLength: 4 }), { maxLength: 12 });
    const delimiter = fc.constantFrom<CsvDelimiter>(',', ';', '\t', '|');
    await fc.assert(
      fc.asyncProperty(rows, delimiter, fc.constantFrom('\n', '\r\n', '\r'), fc.boolean(), fc.integer({ min: 1, max: 40 }), async (data, sep, eol, finalEol, chunkSize) => {
        const encode = (field: string) =>
          field === '' || /["\r\n]/.test(field) || field.includes(sep) ? `"${field.replaceAll('"', '""')}"` : field;
        const lines = data.map((row) => row.map(encode).join(sep));
        const text = lines.join(eol) + (finalEol && lines.length > 0 ? eol : '');
        let endOffset = 0;
        let line = 1;
        const expected = data.map((fields, index) => {
          const result = { kind: 'record', line, fields, endOffset: 0, nextLine: 0 };
          const written = (lines[index] ?? '') + (index < lines.length - 1 || finalEol ? eol : '');
          endOffset += Buffer.byteLength(written);
          line += (lines[index] ?? '').split(/\r\n|\n|\r/).length;
          return { ...result, endOffset, nextLine: line };
        });
        expect(await read(text, { delimiter: sep, chunkSize })).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('reads any single line as csv-parse (relax_quotes) does when it is well-formed, and reports it otherwise', async () => {
    // Well-formed: every field is a quoted value (quotes inside doubled) or an unquoted one not starting
    // with a quote (any quote inside it is literal). csv-parse decides the fields; the grammar says which lines are records.
    const unit = fc.constantFrom('a', ' ', '"', '"', ',', ';', 'é');
    const delimiter = fc.constantFrom<CsvDelimiter>(',', ';');
    await fc.assert(
      fc.asyncProperty(fc.string({ unit, minLength: 1, maxLength: 12 }), delimiter, async (text, sep) => {
        const field = `(?:"(?:[^"]|"")*"|[^"${sep}][^${sep}]*|)`;
        const wellFormed = new RegExp(`^${field}(?:${sep}${field})*$`).test(text);
        const results = await read(`${text}\n`, { delimiter: sep });
        if (!wellFormed) {
          expect(results).toMatchObject([{ kind: 'error', line: 1 }]);
          return;
        }
        const expected = parse(text, { delimiter: sep, relax_column_count: true, relax_quotes: true, bom: false })[0];
        expect(results).toEqual([{ kind: 'record', line: 1, fields: expected, endOffset: Buffer.byteLength(text) + 1, nextLine: 2 }]);
      }),
      { numRuns: 1000 },
    );
  });

  it('returns exactly the rows of an export that quotes nothing (quotes inside values are literal)', async () => {
    const unit = fc.constantFrom('a', 'Z', ' ', '"', ',', ';', '\t', '|', 'é');
    const delimiter = fc.constantFrom<CsvDelimiter>(',', ';', '\t', '|');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.string({ unit, maxLength: 6 }), { minLength: 1, maxLength: 4 }), { maxLength: 8 }), delimiter, async (data, sep) => {
        // What such an export can hold unambiguously: no delimiter in a value, no value starting with a quote, no empty row.
        const rows = data
          .map((row) => row.map((value) => value.replaceAll(sep, '').replace(/^"+/, '')))
          .filter((row) => row.join('') !== '');
        const results = await read(rows.map((row) => `${row.join(sep)}\r\n`).join(''), { delimiter: sep });
        expect(fieldsOf(results)).toEqual(rows);
      }),
      { numRuns: 300 },
    );
  });
});
