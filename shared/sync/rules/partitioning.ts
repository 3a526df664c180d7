/**
 * How users are spread over Table Storage. A directory's users live in 256 partitions
 * (`{directoryKey}-{bucket}`): small partitions keep per-partition write limits (Azure: ~2,000
 * entities/s) and Azurite's per-partition costs low, and a run reconciles them in 16 shards. A shard's
 * 16 partitions are contiguous (buckets 16s … 16s+15), so it reads them with one partition-key range
 * query instead of a point lookup per user (Azurite evaluates each query against the whole table).
 */
export const BUCKET_COUNT = 256;
export const SHARD_COUNT = 16;

/** FNV-1a over the key's UTF-16 code units: stable across processes and versions. */
export function bucketOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % BUCKET_COUNT;
}

const BUCKETS_PER_SHARD = BUCKET_COUNT / SHARD_COUNT;

export function shardOfBucket(bucket: number): number {
  return Math.floor(bucket / BUCKETS_PER_SHARD);
}

export function shardOf(key: string): number {
  return shardOfBucket(bucketOf(key));
}

/** The shard's buckets, ascending: a contiguous range. */
export function bucketsOfShard(shard: number): number[] {
  return Array.from({ length: BUCKETS_PER_SHARD }, (_, i) => shard * BUCKETS_PER_SHARD + i);
}

export function bucketLabel(bucket: number): string {
  return bucket.toString(16).padStart(2, '0');
}

export function shardLabel(shard: number): string {
  return shard.toString().padStart(2, '0');
}
