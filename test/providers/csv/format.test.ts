import { describe, expect, it } from 'vitest';
import { detectDelimiter, detectEncoding, transcodeToUtf8, type CsvEncoding } from '../../../shared/providers/csv/format.js';

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function transcode(bytes: Buffer, encoding: CsvEncoding, bomLength: number, size = bytes.length || 1) {
  const out: Buffer[] = [];
  for await (const chunk of transcodeToUtf8(chunked(bytes, size), encoding, bomLength)) out.push(chunk);
  return Buffer.concat(out).toString('utf8');
}

const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16();

describe('detectEncoding', () => {
  it('recognises each byte order mark', () => {
    expect(detectEncoding(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toEqual({ encoding: 'utf-8', bomLength: 3 });
    expect(detectEncoding(Buffer.from([0xff, 0xfe, 0x61, 0x00]))).toEqual({ encoding: 'utf-16le', bomLength: 2 });
    expect(detectEncoding(Buffer.from([0xfe, 0xff, 0x00, 0x61]))).toEqual({ encoding: 'utf-16be', bomLength: 2 });
  });

  it('takes valid UTF-8 without a byte order mark as UTF-8', () => {
    expect(detectEncoding(Buffer.from('username,email\nrené,r@x.com\n'))).toEqual({ encoding: 'utf-8', bomLength: 0 });
    expect(detectEncoding(Buffer.alloc(0))).toEqual({ encoding: 'utf-8', bomLength: 0 });
  });

  it('does not mistake a multi-byte character cut at the end of the prefix for invalid UTF-8', () => {
    const bytes = Buffer.from('name\nJosé😀');
    expect(detectEncoding(bytes.subarray(0, bytes.length - 1))).toEqual({ encoding: 'utf-8', bomLength: 0 });
    expect(detectEncoding(bytes.subarray(0, bytes.length - 5))).toEqual({ encoding: 'utf-8', bomLength: 0 });
  });

  it('falls back to Windows-1252 for bytes that are not UTF-8 (Excel "ANSI" exports)', () => {
    // "René" with é as the single byte 0xE9, followed by more text.
    expect(detectEncoding(Buffer.from([0x52, 0x65, 0x6e, 0xe9, 0x2c, 0x61]))).toEqual({ encoding: 'windows-1252', bomLength: 0 });
  });
});

describe('detectDelimiter', () => {
  it('picks the most frequent delimiter', () => {
    expect(detectDelimiter('username,email,firstName')).toBe(',');
    expect(detectDelimiter('username;email;firstName;last,name')).toBe(';');
    expect(detectDelimiter('username\temail\tfirstName')).toBe('\t');
    expect(detectDelimiter('username|email|firstName')).toBe('|');
  });

  it('ignores delimiters inside quoted column names', () => {
    // Outside quotes: two ";" and no ",". Counting the commas in quotes would make it a tie, hence ",".
    expect(detectDelimiter('"Name, full";"Mail, work";Dept')).toBe(';');
  });

  it('falls back to a comma on a tie or when there is no delimiter', () => {
    expect(detectDelimiter('username;email|firstName')).toBe(',');
    expect(detectDelimiter('username')).toBe(',');
  });
});

describe('transcodeToUtf8', () => {
  it('drops a UTF-8 byte order mark, even when it is split across chunks', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,é\n')]);
    expect(await transcode(bytes, 'utf-8', 3, 1)).toBe('a,é\n');
    expect(await transcode(bytes, 'utf-8', 3, 2)).toBe('a,é\n');
    expect(await transcode(bytes, 'utf-8', 3)).toBe('a,é\n');
  });

  it('passes UTF-8 chunks through unchanged', async () => {
    const chunks = [Buffer.from('a,b\n'), Buffer.from('c,d\n')];
    const out: Buffer[] = [];
    for await (const chunk of transcodeToUtf8((async function* () { yield* chunks; })(), 'utf-8', 0)) out.push(chunk);
    expect(out).toEqual(chunks);
  });

  it('transcodes UTF-16LE with a byte order mark, whatever the chunk boundaries', async () => {
    const text = 'username,name\nrene,René 😀\n';
    const bytes = Buffer.from(`\uFEFF${text}`, 'utf16le');
    expect(detectEncoding(bytes)).toEqual({ encoding: 'utf-16le', bomLength: 2 });
    for (const size of [1, 3, 7, bytes.length]) expect(await transcode(bytes, 'utf-16le', 2, size)).toBe(text);
  });

  it('transcodes UTF-16BE with a byte order mark', async () => {
    const text = 'a;Zoë\n';
    expect(await transcode(utf16be(`\uFEFF${text}`), 'utf-16be', 2, 3)).toBe(text);
  });

  it('decodes Windows-1252, including the characters where it differs from Latin-1', async () => {
    // "Renée;€5;“q”–" in Windows-1252: é=E9, €=80, “=93, ”=94, –=96.
    const bytes = Buffer.from([0x52, 0x65, 0x6e, 0xe9, 0x65, 0x3b, 0x80, 0x35, 0x3b, 0x93, 0x71, 0x94, 0x96, 0x0a]);
    expect(detectEncoding(bytes).encoding).toBe('windows-1252');
    expect(await transcode(bytes, 'windows-1252', 0, 4)).toBe('Renée;€5;“q”–\n');
  });
});
