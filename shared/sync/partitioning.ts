/**
 * How users are spread over Table Storage. A directory's users live in 256 partitions
 * (`{directoryKey}-{bucket}`): small partitions keep per-partition write limits (Azure: ~2,000
 * entities/s) and Azurite's per-partition costs low, and a run reconciles them in 16 shards, each
 * reading its 16 partitions with one scan apiece instead of a point lookup per user.
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

export function shardOfBucket(bucket: number): number {
  return bucket % SHARD_COUNT;
}

export function shardOf(key: string): number {
  return shardOfBucket(bucketOf(key));
}

export function bucketsOfShard(shard: number): number[] {
  const buckets: number[] = [];
  for (let bucket = shard; bucket < BUCKET_COUNT; bucket += SHARD_COUNT) buckets.push(bucket);
  return buckets;
}

export function bucketLabel(bucket: number): string {
  return bucket.toString(16).padStart(2, '0');
}

export function shardLabel(shard: number): string {
  return shard.toString().padStart(2, '0');
}
