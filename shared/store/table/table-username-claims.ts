import type { TableClient, TransactionAction } from '@azure/data-tables';
import pLimit from 'p-limit';
import { SHARD_COUNT, shardOf } from '../../sync/rules/partitioning.js';
import type { ClaimOutcome, UsernameClaim, UsernameClaims, UsernameOwner } from '../../sync/ports.js';
import { encodeKey, odata, statusOf } from './keys.js';

interface ClaimEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  username: string;
  directoryKey: string;
  key: string;
  connection: string;
}

/** Table Storage takes at most 100 operations, all in one partition, per transaction. */
const BATCH_SIZE = 100;
const PARALLEL_BATCHES = 8;
/** Rows per partition and request when listing: a page of 100 names takes ~6 from each of the 16. */
const LIST_PAGE_SIZE = 64;

/** One partition's rows in key order, read a page at a time. */
interface PartitionReader {
  rows: ClaimEntity[];
  index: number;
  pages: AsyncIterator<ClaimEntity[]>;
  done: boolean;
}

/** One row per username (lower-cased), spread over 16 partitions; the row's existence is the claim. */
export class TableUsernameClaims implements UsernameClaims {
  constructor(private readonly table: TableClient) {}

  async claim(username: string, owner: UsernameOwner): Promise<ClaimOutcome> {
    try {
      await this.table.createEntity({ ...keysOf(username), username, ...owner });
      return { won: true };
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
    const holder = await this.find(username);
    if (!holder) return this.claim(username, owner); // released in between: try again
    return sameOwner(holder, owner) ? { won: true } : { won: false, owner: holder };
  }

  /**
   * A first full sync claims every name: one insert each would be 100,000 round trips. Names are inserted
   * in transactions of up to 100 per partition; a transaction is all or nothing, so one that fails (a name
   * is taken, even by this owner) is redone name by name with `claim`, which sorts out who holds what.
   * A name asked for again in the same call waits for the batches, and so finds the first asker's claim.
   */
  async claimMany(claims: readonly { username: string; owner: UsernameOwner }[]): Promise<ClaimOutcome[]> {
    const outcomes: ClaimOutcome[] = new Array<ClaimOutcome>(claims.length);
    const byPartition = new Map<string, number[]>();
    const repeated: number[] = [];
    const seen = new Set<string>();
    claims.forEach(({ username }, index) => {
      const { partitionKey, rowKey } = keysOf(username);
      if (seen.has(rowKey)) return repeated.push(index);
      seen.add(rowKey);
      const list = byPartition.get(partitionKey) ?? [];
      list.push(index);
      byPartition.set(partitionKey, list);
    });
    const one = async (index: number): Promise<void> => {
      const { username, owner } = claims[index]!;
      outcomes[index] = await this.claim(username, owner);
    };
    const limit = pLimit(PARALLEL_BATCHES);
    const batches: Promise<void>[] = [];
    for (const indexes of byPartition.values()) {
      for (let start = 0; start < indexes.length; start += BATCH_SIZE) {
        const chunk = indexes.slice(start, start + BATCH_SIZE);
        batches.push(
          limit(async () => {
            if (chunk.length > 1) {
              const actions = chunk.map((index): TransactionAction => {
                const { username, owner } = claims[index]!;
                return ['create', { ...keysOf(username), username, ...owner }];
              });
              try {
                await this.table.submitTransaction(actions);
                for (const index of chunk) outcomes[index] = { won: true };
                return;
              } catch (error) {
                if (statusOf(error) === undefined) throw error;
              }
            }
            for (const index of chunk) await one(index);
          }),
        );
      }
    }
    await Promise.all(batches);
    for (const index of repeated) await one(index);
    return outcomes;
  }

  async release(username: string, owner: UsernameOwner): Promise<void> {
    const current = await this.get(username);
    if (!current || !sameOwner(ownerOf(current), owner)) return;
    try {
      await this.table.deleteEntity(current.partitionKey, current.rowKey, { etag: current.etag });
    } catch (error) {
      // Someone changed it meanwhile: it is no longer ours to release.
      if (statusOf(error) !== 412 && statusOf(error) !== 404) throw error;
    }
  }

  async transfer(username: string, from: UsernameOwner, to: UsernameOwner): Promise<boolean> {
    const current = await this.get(username);
    if (!current || !sameOwner(ownerOf(current), from)) return Boolean(current && sameOwner(ownerOf(current), to));
    try {
      await this.table.updateEntity({ ...keysOf(username), username: current.username, ...to }, 'Replace', { etag: current.etag });
      return true;
    } catch (error) {
      if (statusOf(error) === 412) return false;
      throw error;
    }
  }

  async find(username: string): Promise<UsernameOwner | undefined> {
    const entity = await this.get(username);
    return entity ? ownerOf(entity) : undefined;
  }

  /** Each partition is sorted by RowKey (the encoded lower-cased name): merging the 16 heads lists every name in order. */
  async *list({ after, directoryKey }: { after?: string; directoryKey?: string } = {}): AsyncIterable<UsernameClaim> {
    const readers = Array.from({ length: SHARD_COUNT }, (_, shard): PartitionReader => {
      const conditions = [`PartitionKey eq ${odata(partitionOf(shard))}`];
      if (after !== undefined) conditions.push(`RowKey gt ${odata(encodeKey(after.toLowerCase()))}`);
      if (directoryKey !== undefined) conditions.push(`directoryKey eq ${odata(directoryKey)}`);
      const pages = this.table.listEntities<ClaimEntity>({ queryOptions: { filter: conditions.join(' and ') } }).byPage({ maxPageSize: LIST_PAGE_SIZE });
      return { rows: [], index: 0, pages: pages[Symbol.asyncIterator](), done: false };
    });
    await Promise.all(readers.map(refill));
    for (;;) {
      let least: PartitionReader | undefined;
      for (const reader of readers) {
        if (reader.index < reader.rows.length && (!least || reader.rows[reader.index]!.rowKey < least.rows[least.index]!.rowKey)) least = reader;
      }
      if (!least) return;
      const entity = least.rows[least.index++]!;
      yield { username: entity.username, owner: ownerOf(entity) };
      await refill(least);
    }
  }

  private async get(username: string): Promise<ClaimEntity | undefined> {
    const { partitionKey, rowKey } = keysOf(username);
    try {
      return await this.table.getEntity<ClaimEntity>(partitionKey, rowKey);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }
}

/**
 * 16 partitions (`u0`…`uf`, the shard of the lower-cased name): a shard of a first sync claims ~6,000
 * names, so 16 partitions fill transactions of 100 (256 partitions made them ~24 long, 4× the requests),
 * and each stays far below Azure's ~2,000 entities/s per partition.
 */
function keysOf(username: string): { partitionKey: string; rowKey: string } {
  const normalised = username.toLowerCase();
  return { partitionKey: partitionOf(shardOf(normalised)), rowKey: encodeKey(normalised) };
}

function partitionOf(shard: number): string {
  return `u${shard.toString(16)}`;
}

/** Reads the partition's next page once the current one is used up (a filtered page may come back empty). */
async function refill(reader: PartitionReader): Promise<void> {
  while (reader.index >= reader.rows.length && !reader.done) {
    const next = await reader.pages.next();
    if (next.done) reader.done = true;
    else {
      reader.rows = next.value;
      reader.index = 0;
    }
  }
}

function ownerOf(entity: ClaimEntity): UsernameOwner {
  return { directoryKey: entity.directoryKey, key: entity.key, connection: entity.connection };
}

function sameOwner(a: UsernameOwner, b: UsernameOwner): boolean {
  return a.directoryKey === b.directoryKey && a.key === b.key;
}
