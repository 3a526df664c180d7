import type { TableClient } from '@azure/data-tables';
import type { StoredUser } from '../../sync/model.js';
import { SHARD_COUNT, bucketLabel, bucketOf, bucketsOfShard } from '../../sync/rules/partitioning.js';
import type { UserStore, VersionedUser } from '../../sync/ports.js';
import { mergeInBatches, upsertInBatches } from './batches.js';
import { encodeKey, odata, statusOf, withoutServiceColumns } from './keys.js';

/** Structured fields, kept as JSON text (Table Storage columns are scalars). */
const JSON_COLUMNS = ['attributes', 'directoryControlled', 'groups', 'localGroups', 'roles', 'mustChangePassword'] as const;

/** A user row: the user's fields as columns (readable in Storage Explorer), structured ones as JSON. */
type UserEntity = Record<string, string> & { partitionKey: string; rowKey: string; etag?: string };

/** Users, partitioned `{directoryKey}-{bucket}` (see sync/rules/partitioning.ts), RowKey = encoded source key. */
export class TableUserStore implements UserStore {
  constructor(private readonly table: TableClient) {}

  async listShard(directoryKey: string, shard: number, shards?: number): Promise<StoredUser[]> {
    const users: StoredUser[] = [];
    const buckets = bucketsOfShard(shard, shards);
    // Directory keys have a fixed shape (`dk` + hex, or `local`): no other directory's partitions sort inside the range.
    const filter = `PartitionKey ge ${odata(partitionOf(directoryKey, buckets[0]!))} and PartitionKey le ${odata(partitionOf(directoryKey, buckets.at(-1)!))}`;
    for await (const entity of this.table.listEntities<UserEntity>({ queryOptions: { filter } })) users.push(fromEntity(entity));
    return users;
  }

  async get(directoryKey: string, key: string): Promise<StoredUser | undefined> {
    try {
      return fromEntity(await this.table.getEntity<UserEntity>(partitionOf(directoryKey, bucketOf(key)), encodeKey(key)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async getVersioned(directoryKey: string, key: string): Promise<VersionedUser | undefined> {
    try {
      const entity = await this.table.getEntity<UserEntity>(partitionOf(directoryKey, bucketOf(key)), encodeKey(key));
      return { user: fromEntity(entity), etag: entity.etag };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async replace(user: StoredUser, condition: { ifMatch: string } | { ifAbsent: true }): Promise<{ written: true; etag: string } | { written: false; changed: true }> {
    try {
      const response = 'ifMatch' in condition ? await this.table.updateEntity(toEntity(user), 'Replace', { etag: condition.ifMatch }) : await this.table.createEntity(toEntity(user));
      return { written: true, etag: response.etag ?? '' };
    } catch (error) {
      // 412: the row changed since read; 409: created meanwhile; 404: removed meanwhile (adoption).
      const status = statusOf(error);
      if (status === 412 || status === 409 || status === 404) return { written: false, changed: true };
      throw error;
    }
  }

  async write(users: readonly StoredUser[]): Promise<void> {
    await upsertInBatches(this.table, users.map(toEntity));
  }

  async setManagerLinks(directoryKey: string, links: readonly { key: string; managerKey?: string }[]): Promise<void> {
    // An empty string clears the column (a merge cannot remove one); reads treat it as no link.
    await mergeInBatches(
      this.table,
      links.map((link) => ({ partitionKey: partitionOf(directoryKey, bucketOf(link.key)), rowKey: encodeKey(link.key), managerKey: link.managerKey ?? '' })),
    );
  }

  async delete(directoryKey: string, key: string): Promise<void> {
    try {
      await this.table.deleteEntity(partitionOf(directoryKey, bucketOf(key)), encodeKey(key));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  async *list(directoryKey?: string): AsyncIterable<StoredUser> {
    if (directoryKey) {
      for (let shard = 0; shard < SHARD_COUNT; shard++) yield* await this.listShard(directoryKey, shard);
      return;
    }
    for await (const entity of this.table.listEntities<UserEntity>()) yield fromEntity(entity);
  }
}

function partitionOf(directoryKey: string, bucket: number): string {
  return `${directoryKey}-${bucketLabel(bucket)}`;
}

function toEntity(user: StoredUser): UserEntity {
  const entity: UserEntity = { partitionKey: partitionOf(user.directoryKey, bucketOf(user.key)), rowKey: encodeKey(user.key) };
  for (const [name, value] of Object.entries(user)) {
    if (value === undefined) continue;
    entity[name] = (JSON_COLUMNS as readonly string[]).includes(name) ? JSON.stringify(value) : String(value);
  }
  return entity;
}

function fromEntity(entity: UserEntity): StoredUser {
  const { partitionKey: _partition, rowKey: _row, managerKey, ...columns } = withoutServiceColumns(entity);
  const user: Record<string, unknown> = { ...columns };
  for (const name of JSON_COLUMNS) if (typeof columns[name] === 'string') user[name] = JSON.parse(columns[name]);
  // An empty managerKey is a cleared link (see setManagerLinks).
  if (managerKey) user.managerKey = managerKey;
  return user as unknown as StoredUser;
}
