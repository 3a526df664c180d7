import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';
import pLimit from 'p-limit';

/** Table Storage takes at most 100 operations, all in one partition, per transaction. */
const BATCH_SIZE = 100;
const PARALLEL_BATCHES = 8;

/**
 * Inserts or replaces entities in as few transactions as Table Storage allows, several partitions at
 * a time. A row given twice is written once (the later copy): one transaction may not touch a row twice.
 */
export async function upsertInBatches(table: TableClient, entities: readonly TableEntity[]): Promise<void> {
  await submitInBatches(table, entities, (entity) => ['upsert', entity, 'Replace']);
}

/** Merges the given columns into existing rows, batched the same way. */
export async function mergeInBatches(table: TableClient, entities: readonly TableEntity[]): Promise<void> {
  await submitInBatches(table, entities, (entity) => ['update', entity, 'Merge']);
}

async function submitInBatches(
  table: TableClient,
  entities: readonly TableEntity[],
  action: (entity: TableEntity) => TransactionAction,
): Promise<void> {
  const byPartition = new Map<string, Map<string, TableEntity>>();
  for (const entity of entities) {
    const rows = byPartition.get(entity.partitionKey) ?? new Map<string, TableEntity>();
    rows.set(entity.rowKey, entity);
    byPartition.set(entity.partitionKey, rows);
  }
  const limit = pLimit(PARALLEL_BATCHES);
  const batches: Promise<unknown>[] = [];
  for (const rows of byPartition.values()) {
    const actions = [...rows.values()].map(action);
    for (let start = 0; start < actions.length; start += BATCH_SIZE) {
      batches.push(limit(() => table.submitTransaction(actions.slice(start, start + BATCH_SIZE))));
    }
  }
  await Promise.all(batches);
}
