import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import type { FileStore } from '../../shared/sync/ports.js';
import { MemoryFileStore } from '../fakes/memory-stores.js';
import { createTestApp } from '../support/test-app.js';

/** The FileStore contract: any adapter (Blob Storage, an in-memory fake) must pass it. */
export function describeFileStoreContract(name: string, make: () => Promise<FileStore>): void {
  describe(`FileStore contract: ${name}`, () => {
    let files: FileStore;
    beforeEach(async () => {
      files = await make();
    });

    it('put then get and exists; a string is stored as UTF-8; put replaces', async () => {
      const binary = Buffer.from([0, 1, 2, 253, 254, 255, 10, 13]);
      await files.put('runs/r1/input.bin', binary);
      await files.put('dir/with space/ünï €.csv', 'name,city\nZoë,Zürich\n');

      expect(await files.get('runs/r1/input.bin')).toEqual(binary);
      expect((await files.get('dir/with space/ünï €.csv'))?.toString('utf8')).toBe('name,city\nZoë,Zürich\n');
      expect(await files.get('dir/with space/ünï €.csv')).toEqual(Buffer.from('name,city\nZoë,Zürich\n', 'utf8'));
      expect(await files.exists('runs/r1/input.bin')).toBe(true);
      expect(await files.exists('dir/with space/ünï €.csv')).toBe(true);

      await files.put('runs/r1/input.bin', 'shorter');
      expect((await files.get('runs/r1/input.bin'))?.toString()).toBe('shorter');
      await files.put('empty.txt', '');
      expect(await files.get('empty.txt')).toEqual(Buffer.alloc(0));
    });

    it('get, read and exists of a missing path: undefined, undefined, false', async () => {
      await files.put('present.txt', 'x');
      expect(await files.get('missing.txt')).toBeUndefined();
      expect(await files.read('missing.txt')).toBeUndefined();
      expect(await files.read('missing.txt', 5)).toBeUndefined();
      expect(await files.exists('missing.txt')).toBe(false);
      expect(await files.exists('present.txt/')).toBe(false);
    });

    it('read streams from an offset to the end; offset == length gives an empty stream', async () => {
      await files.put('offsets.txt', '0123456789');
      expect(await readAll(await files.read('offsets.txt'))).toBe('0123456789');
      expect(await readAll(await files.read('offsets.txt', 0))).toBe('0123456789');
      expect(await readAll(await files.read('offsets.txt', 4))).toBe('456789');
      expect(await readAll(await files.read('offsets.txt', 9))).toBe('9');
      const atEnd = await files.read('offsets.txt', 10);
      expect(atEnd).toBeDefined();
      expect(await readAll(atEnd)).toBe('');

      await files.put('empty.txt', '');
      expect(await readAll(await files.read('empty.txt'))).toBe('');
    });

    it('putStream stores a multi-MiB stream exactly and returns its byte count', async () => {
      const size = 9 * 1024 * 1024 + 12_345;
      const content = pattern(size);
      const chunks: Buffer[] = [];
      for (let start = 0; start < size; start += 64 * 1024) chunks.push(content.subarray(start, start + 64 * 1024));

      // Data available at once (Readable.from an array) and data that trickles in.
      expect(await files.putStream('big/at-once.bin', Readable.from(chunks))).toBe(size);
      expect(await files.putStream('big/trickle.bin', Readable.from(trickle(chunks)))).toBe(size);

      for (const path of ['big/at-once.bin', 'big/trickle.bin']) {
        const stored = await files.get(path);
        expect(stored?.length).toBe(size);
        expect(stored?.equals(content)).toBe(true);
      }
      const tail = await readAll(await files.read('big/at-once.bin', size - 100), 'hex');
      expect(tail).toBe(content.subarray(size - 100).toString('hex'));
    });

    it('putStream of an empty stream stores an empty file and returns 0', async () => {
      expect(await files.putStream('nothing.bin', Readable.from([]))).toBe(0);
      expect(await files.exists('nothing.bin')).toBe(true);
      expect(await files.get('nothing.bin')).toEqual(Buffer.alloc(0));
    });

    it('putIfAbsent: of 10 concurrent calls for one path exactly one wins and its content is stored', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => files.putIfAbsent('plans/claim.json', `{"writer":${i}}`)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect((await files.get('plans/claim.json'))?.toString()).toBe(`{"writer":${winner}}`);

      expect(await files.putIfAbsent('plans/claim.json', 'late')).toBe(false);
      expect((await files.get('plans/claim.json'))?.toString()).toBe(`{"writer":${winner}}`);
      await files.put('plans/existing.json', 'first');
      expect(await files.putIfAbsent('plans/existing.json', 'second')).toBe(false);
      expect((await files.get('plans/existing.json'))?.toString()).toBe('first');
      expect(await files.putIfAbsent('plans/fresh.json', Buffer.from('fresh'))).toBe(true);
      expect((await files.get('plans/fresh.json'))?.toString()).toBe('fresh');
    });

    it('list by prefix, sorted; deletePrefix removes only that prefix and returns the count', async () => {
      const paths = ['runs/r1/pages/000002.json', 'runs/r1/pages/000010.json', 'runs/r1/pages/000001.json', 'runs/r1/plan.json', 'runs/r10/pages/000001.json', 'runs/r2/input.csv', 'other.txt'];
      await Promise.all(paths.map((path) => files.put(path, path)));
      const listed = async (prefix: string) => (await files.list(prefix)).map((file) => file.path);

      expect(await listed('runs/r1/pages/')).toEqual(['runs/r1/pages/000001.json', 'runs/r1/pages/000002.json', 'runs/r1/pages/000010.json']);
      expect(await listed('runs/r1/')).toEqual(['runs/r1/pages/000001.json', 'runs/r1/pages/000002.json', 'runs/r1/pages/000010.json', 'runs/r1/plan.json']);
      expect(await listed('runs/r1')).toEqual([
        'runs/r1/pages/000001.json',
        'runs/r1/pages/000002.json',
        'runs/r1/pages/000010.json',
        'runs/r1/plan.json',
        'runs/r10/pages/000001.json',
      ]);
      expect(await listed('')).toEqual([...paths].sort());
      expect(await listed('nothing/')).toEqual([]);

      expect(await files.deletePrefix('runs/r1/pages/')).toBe(3);
      expect(await listed('')).toEqual(['other.txt', 'runs/r1/plan.json', 'runs/r10/pages/000001.json', 'runs/r2/input.csv']);
      expect(await files.exists('runs/r1/pages/000001.json')).toBe(false);
      expect((await files.get('runs/r10/pages/000001.json'))?.toString()).toBe('runs/r10/pages/000001.json');
      expect(await files.deletePrefix('runs/r1/pages/')).toBe(0);
      expect(await files.deletePrefix('nothing/')).toBe(0);
    });

    it('deleteBefore removes exactly the paths that sort before the bound, over several listing pages', async () => {
      const paths = Array.from({ length: 250 }, (_, i) => `20261101T000000000Z-aaaaaa/pages/page-${String(i).padStart(6, '0')}.json`);
      const later = ['20261102T000000000Z-bbbbbb/archive.csv', '20261103T000000000Z-cccccc/input.csv'];
      await Promise.all([...paths, ...later].map((path) => files.put(path, path)));
      expect(await files.deleteBefore('20261102T000000000Z-')).toBe(250);
      expect((await files.list('')).map((file) => file.path)).toEqual(later);
      expect(await files.deleteBefore('20261102T000000000Z-')).toBe(0);
      expect(await files.deleteBefore('20261103T')).toBe(1);
      expect((await files.list('')).map((file) => file.path)).toEqual([later[1]]);
    });

    it('metadata written with put is listed with the file; a rewrite replaces both; none is {}', async () => {
      await files.put('meta/a.json', 'first', { sections: '0,2,5' });
      await files.put('meta/b.json', 'plain');
      expect(await files.list('meta/')).toEqual([
        { path: 'meta/a.json', metadata: { sections: '0,2,5' } },
        { path: 'meta/b.json', metadata: {} },
      ]);
      await files.put('meta/a.json', 'second!', { sections: '0,7' });
      expect(await files.list('meta/a')).toEqual([{ path: 'meta/a.json', metadata: { sections: '0,7' } }]);
      expect((await files.get('meta/a.json'))?.toString()).toBe('second!');
    });

    it('getRange returns exactly the bytes asked for, multi-byte UTF-8 included; undefined for a missing file', async () => {
      await files.put('range.txt', 'abc€def');
      expect((await files.getRange('range.txt', 0, 3))?.toString()).toBe('abc');
      expect((await files.getRange('range.txt', 3, 3))?.toString()).toBe('€');
      expect((await files.getRange('range.txt', 6, 3))?.toString()).toBe('def');
      expect(await files.getRange('range.txt', 2, 0)).toEqual(Buffer.alloc(0));
      expect(await files.getRange('missing.txt', 0, 3)).toBeUndefined();
      expect(await files.getRange('missing.txt', 0, 0)).toBeUndefined();
    });
  });
}

function pattern(size: number): Buffer {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buffer[i] = (i * 31 + (i >>> 8) + (i >>> 16)) & 0xff;
  return buffer;
}

async function* trickle(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const [i, chunk] of chunks.entries()) {
    if (i % 16 === 0) await sleep(1);
    yield chunk;
  }
}

async function readAll(stream: Readable | undefined, encoding: BufferEncoding = 'utf8'): Promise<string | undefined> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString(encoding);
}

describeFileStoreContract('Blob Storage on Azurite: run files', async () => (await createTestApp()).app.deps.runFiles);
describeFileStoreContract('Blob Storage on Azurite: CSV files', async () => (await createTestApp()).app.csvFiles);
describeFileStoreContract('in memory (test/fakes/memory-stores.ts)', async () => new MemoryFileStore());
