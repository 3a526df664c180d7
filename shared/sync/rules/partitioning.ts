/**
 * How users are spread over Table Storage. A directory's users live in 256 partitions
 * (`{directoryKey}-{bucket}`): small partitions keep per-partition write limits (Azure: ~2,000
 * entities/s) and Azurite's per-partition costs low. A run reconciles them in shards: a power of two
 * from 16 to 256 chosen when its listing ends, from what the listing staged (shardCountFor), so a shard's
 * users, and the memory of the job that reconciles it, stay about the same however large the directory. A shard's partitions are
 * contiguous (of 16 shards, buckets 16s … 16s+15), so it reads them with one partition-key range query
 * instead of a point lookup per user (Azurite evaluates each query against the whole table).
 */
export const BUCKET_COUNT = 256;
/** The fewest shards, and the count of a run recorded before runs chose theirs. */
export const SHARD_COUNT = 16;
/** One bucket a shard. */
export const MAX_SHARDS = BUCKET_COUNT;

/** FNV-1a over the key's UTF-16 code units: stable across processes and versions. */
export function bucketOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % BUCKET_COUNT;
}

/**
 * The shards of a run whose listing staged `stagedBytes`: the fewest (a power of two, so each shard is a
 * contiguous range of buckets) that keep a shard within `bytesPerShard`, from 16 to 256. What a reconcile
 * job holds — its staged entries, the stored users they meet, its plan — grows with its share of them.
 */
export function shardCountFor(stagedBytes: number, bytesPerShard: number): number {
  let shards = SHARD_COUNT;
  while (shards < MAX_SHARDS && shards * bytesPerShard < stagedBytes) shards *= 2;
  return shards;
}

/** The shard count of a run: its own, or 16 for a run recorded before runs chose theirs. */
export function shardsOf(run: { shards?: number }): number {
  return run.shards ?? SHARD_COUNT;
}

/** `shards` is one of shardCountFor's answers: a power of two dividing BUCKET_COUNT. */
export function shardOfBucket(bucket: number, shards = SHARD_COUNT): number {
  return Math.floor(bucket / (BUCKET_COUNT / shards));
}

export function shardOf(key: string, shards = SHARD_COUNT): number {
  return shardOfBucket(bucketOf(key), shards);
}

/** The shard's buckets, ascending: a contiguous range. */
export function bucketsOfShard(shard: number, shards = SHARD_COUNT): number[] {
  const size = BUCKET_COUNT / shards;
  return Array.from({ length: size }, (_, i) => shard * size + i);
}

export function bucketLabel(bucket: number): string {
  return bucket.toString(16).padStart(2, '0');
}

export function shardLabel(shard: number): string {
  return shard.toString().padStart(2, '0');
}
