import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUCKET_COUNT,
  SHARD_COUNT,
  bucketLabel,
  bucketOf,
  bucketsOfShard,
  shardLabel,
  shardOf,
  shardOfBucket,
  shardCountFor,
  shardsOf,
} from '../../shared/sync/rules/partitioning.js';

describe('bucketOf', () => {
  it('has 256 buckets in 16 shards', () => {
    expect(BUCKET_COUNT).toBe(256);
    expect(SHARD_COUNT).toBe(16);
  });

  // '', 'a' and 'foobar' are published FNV-1a 32-bit vectors (0x811c9dc5, 0xe40c292c, 0xbf9cf968): low byte.
  // The rest pin today's placement: changing it would strand every stored user in the wrong partition.
  it.each<[string, number, number]>([
    ['', 197, 12],
    ['a', 44, 2],
    ['foobar', 104, 6],
    ['alice', 231, 14],
    ['bob@example.com', 185, 11],
    ['ÄÖÜ', 121, 7],
    ['user-00001', 68, 4],
  ])('places %j in bucket %i, shard %i', (key, bucket, shard) => {
    expect(bucketOf(key)).toBe(bucket);
    expect(shardOf(key)).toBe(shard);
  });

  it('is case-sensitive (callers lower-case match values first)', () => {
    expect(bucketOf('Alice')).not.toBe(bucketOf('alice'));
  });

  it('is stable and an integer in 0..255 for any key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (key) => {
        const bucket = bucketOf(key);
        expect(Number.isInteger(bucket)).toBe(true);
        expect(bucket).toBeGreaterThanOrEqual(0);
        expect(bucket).toBeLessThan(BUCKET_COUNT);
        expect(bucketOf(key)).toBe(bucket);
        expect(shardOf(key)).toBe(shardOfBucket(bucket));
      }),
    );
  });

  it.each<[string, (i: number) => string]>([
    ['email addresses', (i) => `user${i}@example.com`],
    ['padded usernames', (i) => `user-${String(i).padStart(5, '0')}`],
  ])('spreads 10,000 %s over all 256 buckets, each holding 20–60', (_name, keyOf) => {
    const counts = new Array<number>(BUCKET_COUNT).fill(0);
    for (let i = 0; i < 10_000; i++) counts[bucketOf(keyOf(i))]! += 1;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(counts.filter((count) => count === 0)).toEqual([]);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...counts)).toBeLessThanOrEqual(60);
  });
});

describe('shards', () => {
  it('bucketsOfShard partitions 0..255 exactly once across the 16 shards', () => {
    const seen = new Map<number, number>();
    for (let shard = 0; shard < SHARD_COUNT; shard++) {
      const buckets = bucketsOfShard(shard);
      expect(buckets).toHaveLength(BUCKET_COUNT / SHARD_COUNT);
      for (const bucket of buckets) {
        expect(seen.has(bucket)).toBe(false);
        seen.set(bucket, shard);
        expect(shardOfBucket(bucket)).toBe(shard);
      }
    }
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: BUCKET_COUNT }, (_, i) => i));
  });

  it('gives each shard a contiguous ascending range of buckets (one range query reads it)', () => {
    expect(bucketsOfShard(0)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(bucketsOfShard(1)).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
    expect(bucketsOfShard(15)).toEqual(Array.from({ length: 16 }, (_, i) => 240 + i));
  });

  it.each([16, 32, 64, 128, 256])('of %i shards: each a contiguous range of buckets, together every bucket once, every key in its shard', (shards) => {
    const all = Array.from({ length: shards }, (_, shard) => bucketsOfShard(shard, shards));
    expect(all.flat()).toEqual(Array.from({ length: BUCKET_COUNT }, (_, i) => i));
    for (const [shard, buckets] of all.entries()) for (const bucket of buckets) expect(shardOfBucket(bucket, shards)).toBe(shard);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (key) => {
        expect(bucketsOfShard(shardOf(key, shards), shards)).toContain(bucketOf(key));
      }),
    );
  });

  it.each<[number, number, number]>([
    [0, 1_000, 16],
    [16_000, 1_000, 16],
    [16_001, 1_000, 32],
    [64_000, 1_000, 64],
    [100_000, 1_000, 128],
    [10_000_000, 1_000, 256],
  ])('a listing of %i bytes at %i bytes a shard reconciles in %i shards (16 to 256, a power of two)', (bytes, perShard, shards) => {
    expect(shardCountFor(bytes, perShard)).toBe(shards);
  });

  it('a run recorded before runs chose their count has 16', () => {
    expect(shardsOf({})).toBe(16);
    expect(shardsOf({ shards: 64 })).toBe(64);
  });

  it('places every key in a bucket its shard lists', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (key) => {
        expect(bucketsOfShard(shardOf(key))).toContain(bucketOf(key));
      }),
    );
  });

  it.each<[number, string]>([
    [0, '00'],
    [9, '09'],
    [10, '0a'],
    [255, 'ff'],
  ])('bucketLabel(%i) is %s', (bucket, label) => {
    expect(bucketLabel(bucket)).toBe(label);
  });

  it('bucket labels are distinct two-digit lowercase hex', () => {
    const labels = Array.from({ length: BUCKET_COUNT }, (_, i) => bucketLabel(i));
    expect(new Set(labels).size).toBe(BUCKET_COUNT);
    for (const label of labels) expect(label).toMatch(/^[0-9a-f]{2}$/);
  });

  it.each<[number, string]>([
    [0, '00'],
    [7, '07'],
    [15, '15'],
  ])('shardLabel(%i) is %s', (shard, label) => {
    expect(shardLabel(shard)).toBe(label);
  });
});
