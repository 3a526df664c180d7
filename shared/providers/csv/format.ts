/**
 * The physical format of a CSV export: its character encoding and field delimiter, and turning any
 * supported encoding into UTF-8 bytes so the record reader only ever deals with one encoding.
 */

export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';
export type CsvDelimiter = ',' | ';' | '\t' | '|';

const DELIMITERS: readonly CsvDelimiter[] = [',', ';', '\t', '|'];

/**
 * Detects the encoding from the first bytes of a file: a byte order mark if there is one; otherwise
 * UTF-8 when the bytes are valid UTF-8, else Windows-1252 (what Excel writes as "CSV" on Western systems).
 */
export function detectEncoding(prefix: Buffer): { encoding: CsvEncoding; bomLength: number } {
  if (prefix[0] === 0xef && prefix[1] === 0xbb && prefix[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3 };
  if (prefix[0] === 0xff && prefix[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (prefix[0] === 0xfe && prefix[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 };
  try {
    // `stream: true` holds back a multi-byte character cut off at the end of the prefix instead of failing on it.
    new TextDecoder('utf-8', { fatal: true }).decode(prefix, { stream: true });
    return { encoding: 'utf-8', bomLength: 0 };
  } catch {
    return { encoding: 'windows-1252', bomLength: 0 };
  }
}

/**
 * Picks the delimiter that occurs most often in the header line outside double quotes
 * (a quoted column name may contain any of them). Ties and no delimiter at all mean a comma.
 */
export function detectDelimiter(headerLine: string): CsvDelimiter {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const char of headerLine) {
    if (char === '"') quoted = !quoted;
    else if (!quoted) counts.set(char, (counts.get(char) ?? 0) + 1);
  }
  let best: CsvDelimiter = ',';
  let bestCount = 0;
  let tied = false;
  for (const delimiter of DELIMITERS) {
    const count = counts.get(delimiter) ?? 0;
    if (count > bestCount) {
      best = delimiter;
      bestCount = count;
      tied = false;
    } else if (count === bestCount) {
      tied = true;
    }
  }
  return bestCount > 0 && !tied ? best : ',';
}

/** The header line of a file's first bytes: CRLF, LF and a lone CR all end a line (see records.ts). */
export function firstLine(text: string): string {
  return text.split(/\r\n?|\n/, 1)[0] ?? '';
}

/**
 * Streams `input` (in `encoding`, starting with a byte order mark of `bomLength` bytes) as UTF-8 bytes
 * without the byte order mark. Characters split across chunks are carried over to the next chunk.
 */
export async function* transcodeToUtf8(
  input: AsyncIterable<Buffer>,
  encoding: CsvEncoding,
  bomLength: number,
): AsyncGenerator<Buffer> {
  const decode = chunkDecoder(encoding);
  let toSkip = bomLength;
  for await (const chunk of input) {
    // The byte order mark may itself be split across chunks.
    const body = toSkip > 0 ? chunk.subarray(toSkip) : chunk;
    toSkip = Math.max(0, toSkip - chunk.length);
    if (body.length === 0) continue;
    if (decode === undefined) {
      yield body;
      continue;
    }
    const text = decode(body);
    if (text !== '') yield Buffer.from(text, 'utf8');
  }
  const rest = decode?.() ?? '';
  if (rest !== '') yield Buffer.from(rest, 'utf8');
}

/** A streaming decoder (call without a chunk to flush), or undefined when the bytes are UTF-8 already. */
function chunkDecoder(encoding: CsvEncoding): ((chunk?: Buffer) => string) | undefined {
  switch (encoding) {
    case 'utf-8':
      return undefined;
    case 'windows-1252':
      // Single-byte encoding: no state to carry between chunks.
      return (chunk) => (chunk === undefined ? '' : decodeWindows1252(chunk));
    case 'utf-16le':
    case 'utf-16be': {
      // ignoreBOM: the caller already dropped the byte order mark; a U+FEFF after it is content.
      const decoder = new TextDecoder(encoding, { ignoreBOM: true });
      return (chunk) => (chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true }));
    }
  }
}

/**
 * Bytes 0x80–0x9F of Windows-1252 (WHATWG index). Node's own TextDecoder decodes windows-1252 as Latin-1
 * since 20.18.3 (nodejs/node#60888), which would turn €, curly quotes and dashes into control characters.
 */
const WINDOWS_1252_C1 = String.fromCharCode(
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
);

function decodeWindows1252(chunk: Buffer): string {
  // Latin-1 matches Windows-1252 everywhere except 0x80–0x9F.
  return chunk.toString('latin1').replace(/[\x80-\x9f]/g, (char) => WINDOWS_1252_C1.charAt(char.charCodeAt(0) - 0x80));
}
