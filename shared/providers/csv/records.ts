import { CsvError, parse } from 'csv-parse/sync';
import type { CsvDelimiter } from './format.js';

/**
 * Reads logical CSV records from a stream of UTF-8 bytes, keeping track of absolute byte offsets and
 * physical line numbers so that a later page can resume exactly where a record ends.
 *
 * CRLF, LF and a lone CR all end a line, mixed in one file too (exports edited on different systems).
 * Physical lines are grouped into records by following the quotes: a quote opens a quoted value only
 * at the start of a field, and while one is open the record continues on the next line (the line
 * break is part of the value). Anywhere else a quote is a literal character (HR systems' tab-separated
 * exports do not quote at all). A quoted value must be followed by a delimiter or the end of the line:
 * text after its closing quote means the quoting went wrong, and joining lines on such a quote could
 * merge two people's rows into one. A record that cannot be read is reported as an error on its first
 * line only and reading resumes on the line after that, so a broken quote does not swallow the rows after it.
 *
 * csv-parse (with relax_quotes, for literal quotes) is the authority on what a record's fields are, but
 * a call costs tens of microseconds, so well-formed records are split by a fast indexOf-based splitter
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

type LineEnding = '' | '\n' | '\r\n' | '\r';

interface PhysicalLine {
  line: number;
  /** The line without its line ending. */
  text: string;
  /** The line ending that was removed: inside a quoted value it is part of the value. */
  eol: LineEnding;
  /** Absolute offset just after the line ending. */
  endOffset: number;
}

/**
 * Cuts bytes into physical lines at LF, CRLF or a lone CR, keeping only the unfinished last line
 * between chunks. A CR that ends a chunk waits for the next one: an LF there belongs to the same line end.
 */
class LineSplitter {
  private partial: Buffer[] = [];
  /** The unfinished line's text is complete and a CR followed it at the end of the last chunk. */
  private pendingCR = false;

  constructor(
    private offset: number,
    private line: number,
    private readonly onLine: (line: PhysicalLine) => void,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    let start = 0;
    if (this.pendingCR) {
      this.pendingCR = false;
      start = chunk[0] === NEWLINE ? 1 : 0;
      this.emit(chunk, 0, 0, start === 1 ? '\r\n' : '\r');
    }
    // LFs and CRs are each found with one forward scan per chunk; searching from each line again
    // would be quadratic (an LF-only file has no CR to find, a CR-only file no LF).
    let nextNewline = chunk.indexOf(NEWLINE, start);
    let nextReturn = chunk.indexOf(CARRIAGE_RETURN, start);
    for (;;) {
      if (nextNewline !== -1 && nextNewline < start) nextNewline = chunk.indexOf(NEWLINE, start);
      if (nextReturn !== -1 && nextReturn < start) nextReturn = chunk.indexOf(CARRIAGE_RETURN, start);
      const lineEnd = nextReturn === -1 || (nextNewline !== -1 && nextNewline < nextReturn) ? nextNewline : nextReturn;
      if (lineEnd === -1) break;
      if (lineEnd === nextReturn && lineEnd + 1 === chunk.length) {
        // Whether an LF follows is for the next chunk to say.
        this.partial.push(chunk.subarray(start, lineEnd));
        this.pendingCR = true;
        return;
      }
      const eol = lineEnd === nextNewline ? '\n' : chunk[lineEnd + 1] === NEWLINE ? '\r\n' : '\r';
      this.emit(chunk, start, lineEnd, eol);
      start = lineEnd + eol.length;
    }
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
  }

  /** Emits the last line when the input does not end with a line ending (or ends with a CR). */
  end(): void {
    if (!this.pendingCR && this.partial.length === 0) return;
    this.emit(Buffer.alloc(0), 0, 0, this.pendingCR ? '\r' : '');
    this.pendingCR = false;
  }

  /**
   * Emits the unfinished line (if any) continued by `chunk[start, textEnd)` as one line, ended by `eol`
   * (whose bytes the caller has passed: each of its characters is one byte).
   */
  private emit(chunk: Buffer, start: number, textEnd: number, eol: LineEnding): void {
    let text: string;
    if (this.partial.length === 0) {
      text = chunk.toString('utf8', start, textEnd);
      this.offset += textEnd - start + eol.length;
    } else {
      const bytes = Buffer.concat([...this.partial, chunk.subarray(start, textEnd)]);
      this.partial = [];
      text = bytes.toString('utf8');
      this.offset += bytes.length + eol.length;
    }
    this.onLine({ line: this.line++, text, eol, endOffset: this.offset });
  }
}

/** The physical lines of one record, first to last. */
type RecordLines = [PhysicalLine, ...PhysicalLine[]];

/**
 * Where a line leaves the quotes: `closed` (a record may end with the line), `open` (a quoted value goes
 * on to the next line), or the column (from 1) of a quoted value followed by text after its closing quote.
 */
type QuoteState = 'closed' | 'open' | number;

/** Groups physical lines into records and parses them into `out`. */
class RecordAssembler {
  /** Lines of a record whose quoted value is still open (at most maxRecordLines). */
  private open: RecordLines | undefined;

  constructor(
    private readonly delimiter: CsvDelimiter,
    private readonly maxRecordLines: number,
    private readonly out: CsvRecordResult[],
  ) {}

  accept(line: PhysicalLine): void {
    let lines: RecordLines;
    let state: QuoteState;
    if (this.open === undefined) {
      if (line.text === '') return;
      // Most lines hold no quote, or only well-formed quoted values: the fast splitter reads them at once.
      const fields = splitRecord(line.text, this.delimiter);
      if (fields !== undefined) return this.emit([line], fields);
      lines = [line];
      state = quoteState(line.text, this.delimiter, false);
    } else {
      lines = this.open;
      lines.push(line);
      state = quoteState(line.text, this.delimiter, true);
    }
    this.open = undefined;
    if (state === 'closed') this.parseRecord(lines);
    else if (state === 'open' && lines.length < this.maxRecordLines) this.open = lines;
    else this.reject(lines);
  }

  /** At the end of the input a quote still open will never be closed. */
  finish(): void {
    while (this.open !== undefined) {
      const lines = this.open;
      this.open = undefined;
      this.reject(lines);
    }
  }

  private parseRecord(lines: RecordLines): void {
    const first = lines[0];
    const last = lines[lines.length - 1] ?? first;
    let text = first.text;
    // Line endings between the lines belong to a quoted value.
    if (lines.length > 1) text = lines.slice(0, -1).map((line) => line.text + line.eol).join('') + last.text;
    const fields = splitRecord(text, this.delimiter) ?? this.parseWithCsvParse(text);
    if (fields === undefined) return this.reject(lines);
    this.emit(lines, fields);
  }

  private emit(lines: RecordLines, fields: string[]): void {
    const last = lines[lines.length - 1] ?? lines[0];
    this.out.push({ kind: 'record', line: lines[0].line, fields, endOffset: last.endOffset, nextLine: last.line + 1 });
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

  /** Why `line` on its own is not a CSV record. */
  private reasonFor(line: PhysicalLine): string {
    const state = quoteState(line.text, this.delimiter, false);
    if (state === 'open') return `Unclosed quote starting on line ${line.line}`;
    if (state === 'closed') return `Unreadable CSV on line ${line.line}`;
    return (
      `Text after a closing quote in column ${state} on line ${line.line}: ` +
      'a quoted value must be followed by a delimiter or the end of the line'
    );
  }

  /** The fields of a record the fast splitter declined, or undefined when csv-parse does not read it as one record. */
  private parseWithCsvParse(text: string): string[] | undefined {
    try {
      const records = parse(text, {
        delimiter: this.delimiter,
        relax_column_count: true,
        // A quote inside a value that did not start with one is a literal character.
        relax_quotes: true,
        bom: false,
        record_delimiter: ['\r\n', '\n', '\r'],
      });
      return records.length === 1 ? records[0] : undefined;
    } catch (error) {
      if (error instanceof CsvError) return undefined;
      throw error;
    }
  }
}

/**
 * Follows the quotes of one line as csv-parse does, starting inside a quoted value or not: a quote
 * opens a quoted value only at the start of a field, a doubled quote inside one is a quote, and any
 * other quote closes it — and must be followed by a delimiter or the end of the line (csv-parse with
 * relax_quotes would read on). With indexOf jumps: only quotes and delimiters matter.
 */
function quoteState(text: string, delimiter: CsvDelimiter, inQuotes: boolean): QuoteState {
  let pos = 0;
  let column = 1;
  for (;;) {
    if (inQuotes) {
      const close = text.indexOf('"', pos);
      if (close === -1) return 'open';
      if (text.charCodeAt(close + 1) === QUOTE) {
        pos = close + 2;
        continue;
      }
      inQuotes = false;
      pos = close + 1;
      if (pos === text.length) return 'closed';
      if (text[pos] !== delimiter) return column;
    } else if (text.charCodeAt(pos) === QUOTE) {
      inQuotes = true;
      pos++;
      continue;
    } else {
      pos = text.indexOf(delimiter, pos);
      if (pos === -1) return 'closed';
    }
    pos++; // past the delimiter
    column++;
  }
}

/**
 * Splits one record's text into fields with indexOf, for well-formed records only: it returns undefined
 * for anything csv-parse might read differently (a quote inside an unquoted value, text after a closing
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
