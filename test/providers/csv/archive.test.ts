import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { archiveCopy, WITHHELD_LINE } from '../../../shared/providers/csv/archive.js';

const INPUT = ['name,password,city', 'ann,An-Secret,"Zürich, CH"', '', 'bob,,Bern', 'cy,"C;y""s",Chur', 'dee,"unclosed,Basel'].join('\r\n');
// Lines without a password value are copied byte for byte (the blank line and bob's), rewritten ones end with \n.
const ARCHIVED = `\uFEFFname,password,city\r\nann,,"Zürich, CH"\n\r\nbob,,Bern\r\ncy,,Chur\n${WITHHELD_LINE}\n`;

async function copied(chunks: Buffer[], passwordColumns: number[], startOffset = 0): Promise<string> {
  const out: Buffer[] = [];
  for await (const piece of archiveCopy(Readable.from(chunks), { delimiter: ',', startOffset, passwordColumns })) out.push(piece);
  return Buffer.concat(out).toString('utf8');
}

describe('archiveCopy', () => {
  it('blanks the password values and withholds unreadable lines, wherever the chunks are cut', async () => {
    const bytes = Buffer.from(INPUT, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut += 1) {
      expect(await copied([bytes.subarray(0, cut), bytes.subarray(cut)], [1])).toBe(ARCHIVED);
    }
    expect(await copied([...bytes].map((byte) => Buffer.from([byte])), [1])).toBe(ARCHIVED);
  });

  it('copies a file without a password column as it is, after a byte order mark; reads from an offset', async () => {
    const bytes = Buffer.from(`\uFEFF${INPUT}`, 'utf8');
    expect(await copied([bytes.subarray(3)], [], 3)).toBe(`\uFEFF${INPUT}`);
    expect(await copied([bytes.subarray(3, 20), bytes.subarray(20)], [1], 3)).toBe(ARCHIVED);
  });
});
