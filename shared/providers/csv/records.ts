import { CsvError, parse } from 'csv-parse/sync';
import type { CsvDelimiter } from './format.js';

/**
 * Reads logical CSV records from a stream of UTF-8 bytes, keeping track of absolute byte offsets and
 * physical line numbers so that a later page can resume exactly where a record ends.
 *
 * Physical lines are grouped into records by counting double quotes: while the count is odd a quoted
 * field is still open and the record continues on the next line. A broken quote must not swallow the
 * rows after it, so a record that cannot be read is reported as an error on its first line only and
 * reading resumes on the line after that.
 *
 * Quoting is strict, as csv-parse's default. csv-parse is the authority on what a record means, but a
 * call costs tens of microseconds, so well-formed records are split by a fast indexOf-based splitter
 * that accepts only what csv-parse reads the same way; everything else goes to csv-parse.
 */

export type CsvRecordResult =
  | { kind: 'record'; line: number; fields: string[]; endOffset: number; nextLine: number }
  | { kind: 'error'; line: number; message: string; endOffset: number; nextLine: number };

export interface ReadCsvRecordsOptions {
  delimiter: CsvDelimiter;
  /** Absolute byte offset of the first byte of `input`. */
  startOffset: number;
  /** Number of the physical line `input` starts with (1 for the start of the file). */
  startLine: number;
  /** How many physical lines one record may span before an open quote is taken to be a mistake. */
  maxRecordLines?: number;
}

/**
 * Yields each record (or unreadable record) of `input` in order. `line` is the physical line a record
 * starts on; `endOffset` and `nextLine` say where the next record starts, to pass back as `startOffset`
 * and `startLine` when resuming. Blank lines are skipped but counted.
 */
export async function* readCsvRecords(
  input: AsyncIterable<Buffer>,
  options: ReadCsvRecordsOptions,
): AsyncGenerator<CsvRecordResult> {
  // Results of one chunk at a time: callbacks into an array are much cheaper than nested generators.
  const results: CsvRecordResult[] = [];
  const records = new RecordAssembler(options.delimiter, options.maxRecordLines ?? 100, results);
  const lines = new LineSplitter(options.startOffset, options.startLine, (line) => records.accept(line));
  for await (const chunk of input) {
    lines.push(chunk);
    for (const result of results.splice(0)) yield result;
  }
  lines.end();
  records.finish();
  for (const result of results.splice(0)) yield result;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const QUOTE = 0x22;

interface PhysicalLine {
  line: number;
  /** The line without its line ending. */
  text: string;
  /** The line ending that was removed: inside a quoted value it is part of the value. */
  eol: '' | '\n' | '\r\n';
  quotes: number;
  /** Absolute offset just after the line ending. */
  endOffset: number;
}

/** Cuts bytes into physical lines at `\n`, keeping only the unfinished last line between chunks. */
class LineSplitter {
  private partial: Buffer[] = [];
  private partialQuotes = 0;

  constructor(
    private offset: number,
    private line: number,
    private readonly onLine: (line: PhysicalLine) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    // Quotes are counted with one forward scan per chunk; searching from each line again would be quadratic.
    let nextQuote = chunk.indexOf(QUOTE);
    let newline: number;
    while ((newline = chunk.indexOf(NEWLINE, start)) !== -1) {
      let quotes = this.partialQuotes;
      while (nextQuote !== -1 && nextQuote < newline) {
        quotes++;
        nextQuote = chunk.indexOf(QUOTE, nextQuote + 1);
      }
      if (this.partial.length === 0) {
        this.emit(chunk, start, newline + 1, quotes);
      } else {
        const bytes = Buffer.concat([...this.partial, chunk.subarray(start, newline + 1)]);
        this.partial = [];
        this.emit(bytes, 0, bytes.length, quotes);
      }
      start = newline + 1;
    }
    if (start < chunk.length) {
      this.partial.push(chunk.subarray(start));
      while (nextQuote !== -1) {
        this.partialQuotes++;
        nextQuote = chunk.indexOf(QUOTE, nextQuote + 1);
      }
    }
  }

  /** Emits the last line when the input does not end with a line ending. */
  end(): void {
    if (this.partial.length === 0) return;
    const bytes = Buffer.concat(this.partial);
    this.partial = [];
    this.emit(bytes, 0, bytes.length, this.partialQuotes);
  }

  /** Emits the line `bytes[start, end)`, which includes its line ending if it has one. */
  private emit(bytes: Buffer, start: number, end: number, quotes: number): void {
    let textEnd = end;
    let eol: PhysicalLine['eol'] = '';
    if (textEnd > start && bytes[textEnd - 1] === NEWLINE) {
      textEnd--;
      eol = '\n';
    }
    if (textEnd > start && bytes[textEnd - 1] === CARRIAGE_RETURN) {
      textEnd--;
      eol = '\r\n';
    }
    this.offset += end - start;
    this.partialQuotes = 0;
    const text = bytes.toString('utf8', start, textEnd);
    this.onLine({ line: this.line++, text, eol, quotes, endOffset: this.offset });
  }
}

/** The physical lines of one record, first to last. */
type RecordLines = [PhysicalLine, ...PhysicalLine[]];

/** Groups physical lines into records and parses them into `out`. */
class RecordAssembler {
  /** Lines of a record whose quoted field is still open (at most maxRecordLines). */
  private open: RecordLines | undefined;
  private openQuotes = 0;

  constructor(
    private readonly delimiter: CsvDelimiter,
    private readonly maxRecordLines: number,
    private readonly out: CsvRecordResult[],
  ) {}

  accept(line: PhysicalLine): void {
    if (this.open === undefined) {
      if (line.text === '') return;
      if (line.quotes % 2 === 0) return this.parseRecord([line]);
      this.open = [line];
    } else {
      this.open.push(line);
    }
    this.openQuotes += line.quotes;
    if (this.openQuotes % 2 === 0) this.parseRecord(this.takeOpen(this.open));
    else if (this.open.length >= this.maxRecordLines) this.reject(this.takeOpen(this.open));
  }

  /** At the end of the input a quote still open will never be closed. */
  finish(): void {
    while (this.open !== undefined) this.reject(this.takeOpen(this.open));
  }

  private parseRecord(lines: RecordLines): void {
    const first = lines[0];
    const last = lines[lines.length - 1] ?? first;
    let text = first.text;
    // Line endings between the lines belong to a quoted value.
    if (lines.length > 1) text = lines.slice(0, -1).map((line) => line.text + line.eol).join('') + last.text;
    const fields = splitRecord(text, this.delimiter) ?? this.parseWithCsvParse(text);
    if (fields === undefined) return this.reject(lines);
    this.out.push({ kind: 'record', line: first.line, fields, endOffset: last.endOffset, nextLine: last.line + 1 });
  }

  /** Reports the first line of an unreadable record and reads the lines after it again. */
  private reject([first, ...rest]: RecordLines): void {
    this.out.push({
      kind: 'error',
      line: first.line,
      message: this.reasonFor(first),
      endOffset: first.endOffset,
      nextLine: first.line + 1,
    });
    for (const line of rest) this.accept(line);
  }

  /** Why `line` on its own is not a CSV record (it has an odd number of quotes or failed to parse). */
  private reasonFor(line: PhysicalLine): string {
    try {
      this.parse(line.text);
    } catch (error) {
      if (error instanceof CsvError) return describeParseError(error, line.line);
      throw error;
    }
    // Not reached in practice: with strict quotes a line with an odd number of quotes never parses.
    return `Unclosed quote starting on line ${line.line}`;
  }

  /** The fields of a record the fast splitter declined, or undefined when csv-parse rejects it too. */
  private parseWithCsvParse(text: string): string[] | undefined {
    try {
      return this.parse(text)[0];
    } catch (error) {
      if (error instanceof CsvError) return undefined;
      throw error;
    }
  }

  private takeOpen(lines: RecordLines): RecordLines {
    this.open = undefined;
    this.openQuotes = 0;
    return lines;
  }

  private parse(text: string): string[][] {
    // record_delimiter '\n' only: a record's line breaks are inside quotes, and a lone '\r' is not a line break.
    return parse(text, { delimiter: this.delimiter, relax_column_count: true, bom: false, record_delimiter: '\n' });
  }
}

/**
 * Splits one record's text into fields with indexOf, for well-formed records only: it returns undefined
 * for anything csv-parse would reject or might read differently (a stray quote, text after a closing
 * quote, an unclosed quote), so that csv-parse decides those.
 */
function splitRecord(text: string, delimiter: CsvDelimiter): string[] | undefined {
  const fields: string[] = [];
  let pos = 0;
  for (;;) {
    let value: string;
    if (text.charCodeAt(pos) === QUOTE) {
      value = '';
      let from = pos + 1;
      let close = text.indexOf('"', from);
      // A doubled quote is an escaped quote, part of the value.
      while (close !== -1 && text.charCodeAt(close + 1) === QUOTE) {
        value += text.slice(from, close + 1);
        from = close + 2;
        close = text.indexOf('"', from);
      }
      if (close === -1) return undefined;
      value += text.slice(from, close);
      pos = close + 1;
      if (pos < text.length && text[pos] !== delimiter) return undefined;
    } else {
      const next = text.indexOf(delimiter, pos);
      const end = next === -1 ? text.length : next;
      value = text.slice(pos, end);
      if (value.includes('"')) return undefined;
      pos = end;
    }
    fields.push(value);
    if (pos >= text.length) return fields;
    pos++; // past the delimiter
  }
}

/** csv-parse's reasons, reworded for an admin and with the line number in the file. */
function describeParseError(error: CsvError, line: number): string {
  const column = typeof error.column === 'number' ? error.column + 1 : undefined;
  const where = column === undefined ? `on line ${line}` : `in column ${column} on line ${line}`;
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return `Unclosed quote starting on line ${line}`;
    case 'INVALID_OPENING_QUOTE':
      return (
        `Quote inside an unquoted value ${where}: ` +
        'a value containing quotes must be enclosed in quotes, with each quote inside doubled'
      );
    case 'CSV_INVALID_CLOSING_QUOTE':
      return (
        `Text after a closing quote ${where}: ` +
        'a quoted value must be followed by a delimiter or the end of the line'
      );
    default:
      return `Unreadable CSV ${where}: ${error.message}`;
  }
}
