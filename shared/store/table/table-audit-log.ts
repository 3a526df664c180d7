import type { TableClient } from '@azure/data-tables';
import type { AuditLog, AuditPage, AuditQuery, AuditRecord } from '../../audit/audit-log.js';
import { bucketLabel, bucketOf } from '../../sync/rules/partitioning.js';
import { upsertInBatches } from './batches.js';
import { AppError } from '../../errors/app-error.js';
import { encodeKey, odata, statusOf, withoutServiceColumns } from './keys.js';

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
    if (query.continuationToken !== undefined) checkContinuationToken(query.continuationToken);
    const pages = this.table
      .listEntities<AuditEntity>(conditions.length ? { queryOptions: { filter: conditions.join(' and ') } } : {})
      .byPage({ maxPageSize: query.limit, ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}) });
    const records: AuditRecord[] = [];
    let continuationToken: string | undefined = query.continuationToken;
    // A filtered page can come back empty with a token: read on until something arrives (never past one page).
    while (records.length === 0) {
      const next = await pages.next().catch((error: unknown) => {
        // A token naming keys the service refuses is the caller's mistake, like a malformed one.
        if (query.continuationToken !== undefined && statusOf(error) === 400) throw invalidToken();
        throw error;
      });
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

/**
 * The SDK's token is base64 of `{"nextPartitionKey", "nextRowKey"}`; it parses a token only when the
 * query runs, so one that is not ours would surface as a SyntaxError (a 500) instead of a bad request.
 */
function checkContinuationToken(token: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64').toString('latin1'));
  } catch {
    throw invalidToken();
  }
  const fields = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  if (typeof fields?.nextPartitionKey !== 'string' || !['string', 'undefined'].includes(typeof fields.nextRowKey)) throw invalidToken();
}

function invalidToken(): AppError {
  return new AppError('query-invalid', 'The continuationToken is not one this API handed out; start again without it.');
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
