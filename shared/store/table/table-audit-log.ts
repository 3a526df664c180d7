import type { TableClient } from '@azure/data-tables';
import type { AuditLog, AuditPage, AuditQuery, AuditRecord } from '../../audit/audit-log.js';
import { bucketLabel, bucketOf } from '../../sync/rules/partitioning.js';
import { runIdTime } from '../../sync/run-model.js';
import { upsertInBatches } from './batches.js';
import { AppError } from '../../errors/app-error.js';
import { encodeKey, odata, statusOf, withoutServiceColumns } from './keys.js';

type AuditEntity = Omit<AuditRecord, 'changedFields' | 'changes'> & {
  partitionKey: string;
  rowKey: string;
  changedFields?: string;
  changes?: string;
};

/**
 * Audit records, newest first: the table's own order (PartitionKey, then RowKey) is the records' time,
 * latest first. PartitionKey is the record's time inverted (`newestFirst`), then the bucket of the user it
 * speaks of (`{time}~{bucket}`; a run-level record's is the time alone, so it comes first among records of
 * its millisecond), so a shard's records spread over its 16 buckets as its user rows do, and a window of
 * time is one key range. RowKey is `{runId}~{key}~{action}~{ref}` (`{runId}~{action}` for a run-level
 * record). Keys are deterministic — a record's time is the same on every delivery of the job that
 * writes it — so writing a record twice leaves one.
 */
export class TableAuditLog implements AuditLog {
  constructor(private readonly table: TableClient) {}

  async write(records: readonly AuditRecord[]): Promise<void> {
    await upsertInBatches(this.table, records.map(toEntity));
  }

  async query(query: AuditQuery): Promise<AuditPage> {
    const conditions: string[] = [];
    let { since } = query;
    if (query.runId) {
      conditions.push(`runId eq ${odata(query.runId)}`);
      // A run's records are never older than its start (its id says when): read no further back than that.
      const floor = runStartFloor(query.runId);
      if (floor && (!since || since < floor)) since = floor;
    }
    conditions.push(`PartitionKey ge ${odata(newestFirst(query.until ?? LATEST))}`);
    if (since) conditions.push(`PartitionKey lt ${odata(`${newestFirst(since)}\u007f`)}`);
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

/** Inverted times have 13 digits: any time from 1970 to the year 2286. */
const TIME_SPAN = 10_000_000_000_000;

/** A time as a key that sorts later times first. */
function newestFirst(iso: string): string {
  const ms = Math.min(Math.max(Date.parse(iso), 0), TIME_SPAN - 1);
  return String(TIME_SPAN - 1 - ms).padStart(13, '0');
}

/**
 * No record is later than this. Records of the layout before this one (PartitionKey `{runId}~…`, the digits
 * of a year 20xx) sort as if written after it, so bounding every query here leaves them out.
 */
const LATEST = '2200-01-01T00:00:00.000Z';

/** Another instance's clock may run behind the one that started the run: this much is allowed for. */
const CLOCK_SKEW_MS = 60 * 60_000;

function runStartFloor(runId: string): string | undefined {
  const started = runIdTime(runId);
  return started && new Date(started.getTime() - CLOCK_SKEW_MS).toISOString();
}

function toEntity(record: AuditRecord): AuditEntity {
  // Not a time (a bug): the record would sort as the oldest of all, and never be found by time.
  if (Number.isNaN(Date.parse(record.at))) throw new Error(`Audit record ${record.runId}/${record.action} has no valid time: "${record.at}".`);
  const isRun = record.subject === record.runId;
  const time = newestFirst(record.at);
  const run = encodeKey(record.runId);
  const { changedFields, changes, ...rest } = record;
  return {
    partitionKey: isRun ? time : `${time}~${bucketLabel(bucketOf(record.subject))}`,
    rowKey: isRun ? `${run}~${record.action}` : `${run}~${encodeKey(record.subject)}~${record.action}~${encodeKey(record.ref ?? '')}`,
    ...stripUndefined(rest),
    ...(changedFields ? { changedFields: JSON.stringify(changedFields) } : {}),
    ...(changes ? { changes: JSON.stringify(changes) } : {}),
  };
}

function fromEntity(entity: AuditEntity): AuditRecord {
  const { partitionKey: _p, rowKey: _r, changedFields, changes, ...rest } = entity;
  const record = withoutServiceColumns(rest) as AuditRecord;
  if (changedFields) record.changedFields = JSON.parse(changedFields) as string[];
  if (changes) record.changes = JSON.parse(changes) as AuditRecord['changes'];
  return record;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
