import type { CsvDelimiter } from './format.js';
import { readCsvRecords } from './records.js';

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const OUT_BYTES = 64 * 1024;

/**
 * Stands in for a line that could not be read (it may hold a password we cannot locate): a quoted value
 * followed by text is unreadable in any CSV reading, so a roll-back still sees an unreadable line there
 * and still disables no one.
 */
export const WITHHELD_LINE = '"unreadable line withheld from the archive"!';

/**
 * The run's input as it is kept for roll-back: UTF-8 with a byte order mark (whatever the file's own
 * encoding was, so a roll-back reads it the same way), every line as it was except that the values of
 * the password columns are blank and unreadable lines are withheld. Streams: a 100,000-row file is never
 * held whole. `input` is the UTF-8 text from `startOffset` (after any byte order mark), header first.
 */
export async function* archiveCopy(
  input: AsyncIterable<Buffer>,
  options: { delimiter: CsvDelimiter; startOffset: number; passwordColumns: readonly number[] },
): AsyncGenerator<Buffer> {
  yield UTF8_BOM;
  const { delimiter, startOffset, passwordColumns } = options;
  if (!passwordColumns.length) {
    yield* input;
    return;
  }
  // The bytes the reader has consumed and not yet copied out, from absolute offset `heldFrom`.
  const held: Buffer[] = [];
  let heldFrom = startOffset;
  async function* keeping(): AsyncGenerator<Buffer> {
    for await (const chunk of input) {
      held.push(chunk);
      yield chunk;
    }
  }
  /** The held bytes up to `end` (only the chunks they span are touched: records are short, chunks long). */
  const take = (end: number): Buffer[] => {
    const parts: Buffer[] = [];
    for (let need = end - heldFrom; need > 0; ) {
      const first = held[0]!;
      if (first.length <= need) {
        parts.push(first);
        held.shift();
        need -= first.length;
      } else {
        parts.push(first.subarray(0, need));
        held[0] = first.subarray(need);
        need = 0;
      }
    }
    heldFrom = end;
    return parts;
  };
  // Copied out in pieces of about a chunk, not a write per record.
  let out: Buffer[] = [];
  let outLength = 0;
  const emit = (parts: Buffer[]): Buffer | undefined => {
    for (const part of parts) {
      out.push(part);
      outLength += part.length;
    }
    if (outLength < OUT_BYTES) return undefined;
    const piece = Buffer.concat(out);
    out = [];
    outLength = 0;
    return piece;
  };

  let header = true;
  let line = 1;
  for await (const record of readCsvRecords(keeping(), { delimiter, startOffset, startLine: 1 })) {
    const bytes = take(record.endOffset);
    const hasPassword = record.kind === 'record' && passwordColumns.some((index) => Boolean(record.fields[index]));
    let piece: Buffer | undefined;
    if (header || (record.kind === 'record' && !hasPassword)) {
      piece = emit(bytes);
    } else {
      // Blank lines before the record keep their place, so every line keeps its number.
      const text =
        record.kind === 'record'
          ? record.fields.map((value, index) => (passwordColumns.includes(index) ? '' : quoted(value, delimiter))).join(delimiter)
          : WITHHELD_LINE;
      piece = emit([Buffer.from(`${'\n'.repeat(record.line - line)}${text}\n`)]);
    }
    if (piece) yield piece;
    header = false;
    line = record.nextLine;
  }
  out.push(...held);
  yield Buffer.concat(out);
}

function quoted(value: string, delimiter: CsvDelimiter): string {
  return value.includes('"') || value.includes(delimiter) || value.includes('\n') || value.includes('\r') ? `"${value.replaceAll('"', '""')}"` : value;
}
