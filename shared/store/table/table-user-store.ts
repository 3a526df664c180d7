import type { TableClient, TransactionAction } from '@azure/data-tables';
import pLimit from 'p-limit';
import type { StoredUser } from '../../sync/model.js';
import { BUCKET_COUNT, bucketLabel, bucketOf } from '../../sync/partitioning.js';
import type { UserStore } from '../ports.js';
import { encodeKey, odata, statusOf } from './keys.js';

/** Table Storage takes at most 100 operations, all in one partition, per transaction. */
const BATCH_SIZE = 100;
const PARALLEL_BATCHES = 8;

type UserEntity = {
  partitionKey: string;
  rowKey: string;
  key: string;
  directoryKey: string;
  connection: string;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  status: string;
  attributes: string;
  manager?: string;
  directoryControlled: string;
  sourceHash: string;
  passwordHash?: string;
  sourceRef: string;
  createdAt: string;
  updatedAt: string;
  disabledReason?: string;
};

/** Users, partitioned `{directoryKey}-{bucket}` (see sync/partitioning.ts), RowKey = encoded source key. */
export class TableUserStore implements UserStore {
  constructor(private readonly table: TableClient) {}

  async listBucket(directoryKey: string, bucket: number): Promise<StoredUser[]> {
    const users: StoredUser[] = [];
    const filter = `PartitionKey eq ${odata(partitionOf(directoryKey, bucket))}`;
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

  async write(users: readonly StoredUser[]): Promise<void> {
    const byPartition = new Map<string, TransactionAction[]>();
    for (const user of users) {
      const entity = toEntity(user);
      const actions = byPartition.get(entity.partitionKey) ?? [];
      actions.push(['upsert', entity, 'Replace']);
      byPartition.set(entity.partitionKey, actions);
    }
    const limit = pLimit(PARALLEL_BATCHES);
    const batches: Promise<unknown>[] = [];
    for (const actions of byPartition.values()) {
      for (let start = 0; start < actions.length; start += BATCH_SIZE) {
        batches.push(limit(() => this.table.submitTransaction(actions.slice(start, start + BATCH_SIZE))));
      }
    }
    await Promise.all(batches);
  }

  async *list(directoryKey?: string): AsyncIterable<StoredUser> {
    if (directoryKey) {
      for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) yield* await this.listBucket(directoryKey, bucket);
      return;
    }
    for await (const entity of this.table.listEntities<UserEntity>()) yield fromEntity(entity);
  }
}

function partitionOf(directoryKey: string, bucket: number): string {
  return `${directoryKey}-${bucketLabel(bucket)}`;
}

function toEntity(user: StoredUser): UserEntity {
  const entity: UserEntity = {
    partitionKey: partitionOf(user.directoryKey, bucketOf(user.key)),
    rowKey: encodeKey(user.key),
    key: user.key,
    directoryKey: user.directoryKey,
    connection: user.connection,
    username: user.username,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    status: user.status,
    attributes: JSON.stringify(user.attributes),
    directoryControlled: JSON.stringify(user.directoryControlled),
    sourceHash: user.sourceHash,
    sourceRef: user.sourceRef,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
  if (user.manager) entity.manager = user.manager;
  if (user.passwordHash) entity.passwordHash = user.passwordHash;
  if (user.disabledReason) entity.disabledReason = user.disabledReason;
  return entity;
}

function fromEntity(entity: UserEntity): StoredUser {
  const user: StoredUser = {
    directoryKey: entity.directoryKey,
    key: entity.key,
    connection: entity.connection,
    username: entity.username,
    email: entity.email,
    firstName: entity.firstName,
    lastName: entity.lastName,
    status: entity.status as StoredUser['status'],
    attributes: JSON.parse(entity.attributes) as Record<string, string>,
    directoryControlled: JSON.parse(entity.directoryControlled) as string[],
    sourceHash: entity.sourceHash,
    sourceRef: entity.sourceRef,
    createdAt: entity.createdAt,
    updatedAt: entity.updatedAt,
  };
  if (entity.manager) user.manager = entity.manager;
  if (entity.passwordHash) user.passwordHash = entity.passwordHash;
  if (entity.disabledReason) user.disabledReason = entity.disabledReason;
  return user;
}
