import { describe, expect, it } from 'vitest';
import { SHARD_COUNT, shardOf } from '../../shared/sync/rules/partitioning.js';
import type { SourceEntry } from '../../shared/sync/model.js';
import { bucketOfEntry, paths, readStagedEntries, stageEntries } from '../../shared/sync/pipeline/staging.js';
import { createTestApp } from '../support/test-app.js';

function user(key: string, firstName = 'Zoë'): SourceEntry {
  return { kind: 'user', key, ref: `row ${key}`, user: { username: key, email: `${key}@example.org`, firstName, lastName: 'Ünal €', active: true, attributes: { office: '東京' } } };
}

function shardOfEntry(entry: SourceEntry): number {
  return shardOf(entry.key ?? entry.ref);
}

async function readAllShards(files: Parameters<typeof readStagedEntries>[0], runId: string): Promise<SourceEntry[][]> {
  return Promise.all(Array.from({ length: SHARD_COUNT }, (_, shard) => readStagedEntries(files, runId, shard)));
}

describe('staging a run’s pages (one file per page, one section per shard) on Azurite', () => {
  it('every shard reads back exactly its own entries of every page, multi-byte text intact', async () => {
    const { app } = await createTestApp();
    const runId = '20261122T080000Z-aaaaaa';
    const pages = [0, 1, 2].map((page) => Array.from({ length: 40 }, (_, i) => user(`p${page}-user-${i}`)));
    const unkeyed: SourceEntry = { kind: 'invalid', ref: 'row 99', reason: 'malformed-row', detail: 'Row 99 has an unclosed quote.' };
    pages[1]!.push(unkeyed, { kind: 'membership', key: 'p1-user-3', ref: 'group g', group: 'Intranet-All' });
    for (const [page, entries] of pages.entries()) await stageEntries(app.deps.runFiles, runId, page, entries);

    expect((await app.deps.runFiles.list(paths.pages(runId))).map((file) => file.path)).toEqual([0, 1, 2].map((page) => paths.page(runId, page)));
    const byShard = await readAllShards(app.deps.runFiles, runId);
    for (const [shard, entries] of byShard.entries()) {
      // Page by page, bucket by bucket (a shard is a range of buckets), in the page's order within a bucket.
      const expected = pages.flatMap((entries) => entries.filter((entry) => shardOfEntry(entry) === shard).sort((a, b) => bucketOfEntry(a) - bucketOfEntry(b)));
      expect(entries).toEqual(expected);
    }
    expect(byShard.flat()).toHaveLength(pages.flat().length);
    expect(byShard.flat()).toContainEqual(unkeyed);
    expect(new Set(byShard.map((entries) => entries.length)).size).toBeGreaterThan(1);
  });

  it('a page staged again (a redelivered job that read other data) is read as the second copy, never a mix', async () => {
    const { app } = await createTestApp();
    const runId = '20261122T080000Z-bbbbbb';
    await stageEntries(app.deps.runFiles, runId, 0, Array.from({ length: 30 }, (_, i) => user(`u${i}`, 'A')));
    const second = Array.from({ length: 50 }, (_, i) => user(`u${i}`, 'A much longer first name than before'));
    await stageEntries(app.deps.runFiles, runId, 0, second);

    const all = (await readAllShards(app.deps.runFiles, runId)).flat();
    expect(all).toHaveLength(50);
    expect(new Set(all.map((entry) => (entry.kind === 'user' ? entry.user.firstName : '')))).toEqual(new Set(['A much longer first name than before']));
  });

  it('a page with no entries reads as nothing; a run with no pages reads as nothing', async () => {
    const { app } = await createTestApp();
    await stageEntries(app.deps.runFiles, '20261122T080000Z-cccccc', 0, []);
    expect((await readAllShards(app.deps.runFiles, '20261122T080000Z-cccccc')).flat()).toEqual([]);
    expect((await readAllShards(app.deps.runFiles, '20261122T080000Z-dddddd')).flat()).toEqual([]);
  });

  it('a staged file without valid section offsets fails the read loudly instead of losing entries', async () => {
    const { app } = await createTestApp();
    const runId = '20261122T080000Z-eeeeee';
    await app.deps.runFiles.put(paths.page(runId, 0), JSON.stringify([user('x')]));
    await expect(readStagedEntries(app.deps.runFiles, runId, 0)).rejects.toMatchObject({ code: 'run-file-invalid', message: expect.stringMatching(/no valid section offsets/) });
  });

  it('a staged section that does not hold source entries (damaged, or staged by another version) fails the read as run-file-invalid', async () => {
    const { app } = await createTestApp();
    const runId = '20261122T080000Z-ffffff';
    const entry = user('x');
    await stageEntries(app.deps.runFiles, runId, 0, [entry]);
    const [page] = await app.deps.runFiles.list(paths.pages(runId));
    const section = JSON.stringify([{ ...entry, kind: 'person' }]);
    const offsets = Array.from({ length: SHARD_COUNT + 1 }, (_, i) => (i <= shardOfEntry(entry) ? 0 : Buffer.byteLength(section)));
    await app.deps.runFiles.put(page!.path, section, { ...page!.metadata, sections: offsets.join(',') });

    await expect(readStagedEntries(app.deps.runFiles, runId, shardOfEntry(entry))).rejects.toMatchObject({
      code: 'run-file-invalid',
      message: `The staged page ${page!.path} is not one this version can read (0.kind: Invalid discriminator value. Expected 'user' | 'invalid' | 'membership' | 'manager' | 'absent'); start a new run.`,
    });
  });
});
