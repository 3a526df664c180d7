import type { TableClient, TransactionAction } from '@azure/data-tables';
import pLimit from 'p-limit';
import type { AuditLog, AuditPage, AuditQuery, AuditRecord } from '../../audit/audit-log.js';
import { bucketLabel, bucketOf } from '../../sync/partitioning.js';
import { encodeKey, odata } from './keys.js';

const BATCH_SIZE = 100;
const PARALLEL_BATCHES = 8;

type AuditEntity = Omit<AuditRecord, 'changedFields'> & {
  partitionKey: string;
  rowKey: string;
  changedFields?: string;
};

/**
 * Audit records, partitioned `{runId}~{bucket}` like the users they speak of (run-level records in
 * `{runId}~run`), so one run's records are one key range and writes spread over partitions. Keys are
 * deterministic: writing a record twice leaves one.
 */
export class TableAuditLog implements AuditLog {
  constructor(private readonly table: TableClient) {}

  async write(records: readonly AuditRecord[]): Promise<void> {
    const byPartition = new Map<string, TransactionAction[]>();
    for (const record of records) {
      const entity = toEntity(record);
      const actions = byPartition.get(entity.partitionKey) ?? [];
      // Two records with one key in one batch would be rejected; the later one wins.
      const existing = actions.findIndex(([, e]) => e.rowKey === entity.rowKey);
      if (existing >= 0) actions.splice(existing, 1);
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

  async query(query: AuditQuery): Promise<AuditPage> {
    const conditions: string[] = [];
    if (query.runId) {
      conditions.push(`PartitionKey ge ${odata(`${query.runId}~`)}`, `PartitionKey lt ${odata(`${query.runId}\u007f`)}`);
    }
    if (query.connection) conditions.push(`connection eq ${odata(query.connection)}`);
    if (query.subject) conditions.push(`subject eq ${odata(query.subject)}`);
    if (query.action) conditions.push(`action eq ${odata(query.action)}`);
    const pages = this.table
      .listEntities<AuditEntity>(conditions.length ? { queryOptions: { filter: conditions.join(' and ') } } : {})
      .byPage({ maxPageSize: query.limit, ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}) });
    const records: AuditRecord[] = [];
    let continuationToken: string | undefined = query.continuationToken;
    // A filtered page can come back short or even empty with a token; keep reading until the page is full.
    while (records.length < query.limit) {
      const next = await pages.next();
      if (next.done) {
        continuationToken = undefined;
        break;
      }
      for (const entity of next.value) records.push(fromEntity(entity));
      continuationToken = next.value.continuationToken;
      if (!continuationToken) break;
    }
    return continuationToken ? { records, continuationToken } : { records };
  }
}

function toEntity(record: AuditRecord): AuditEntity {
  const isRun = record.subject === record.runId;
  const partitionKey = `${record.runId}~${isRun ? 'run' : bucketLabel(bucketOf(record.subject))}`;
  const rowKey = isRun
    ? record.action
    : `${encodeKey(record.subject)}~${record.action}~${encodeKey(record.ref ?? '')}`;
  const { changedFields, ...rest } = record;
  return {
    partitionKey,
    rowKey,
    ...stripUndefined(rest),
    ...(changedFields ? { changedFields: JSON.stringify(changedFields) } : {}),
  };
}

function fromEntity(entity: AuditEntity): AuditRecord {
  const { partitionKey: _p, rowKey: _r, changedFields, ...rest } = entity;
  const record = Object.fromEntries(
    Object.entries(rest).filter(([name]) => !['etag', 'timestamp', 'odata.etag'].includes(name)),
  ) as unknown as AuditRecord;
  if (changedFields) record.changedFields = JSON.parse(changedFields) as string[];
  return record;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
