import type { TableClient } from '@azure/data-tables';
import type { AuditLog, AuditPage, AuditQuery, AuditRecord } from '../../audit/audit-log.js';
import { bucketLabel, bucketOf } from '../../sync/partitioning.js';
import { upsertInBatches } from './batches.js';
import { encodeKey, odata, withoutServiceColumns } from './keys.js';

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
    await upsertInBatches(this.table, records.map(toEntity));
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
    // A filtered page can come back empty with a token: read on until something arrives (never past one page).
    while (records.length === 0) {
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
  const record = withoutServiceColumns(rest) as AuditRecord;
  if (changedFields) record.changedFields = JSON.parse(changedFields) as string[];
  return record;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
