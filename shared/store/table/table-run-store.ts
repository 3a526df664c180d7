import type { TableClient } from '@azure/data-tables';
import { readStoredProfile } from '../../connections/profile.js';
import { MAIN_CHAIN, type PageRecord, type Run, type ShardResult } from '../../sync/run-model.js';
import { shardLabel } from '../../sync/rules/partitioning.js';
import type { RunStore } from '../../sync/ports.js';
import { odata, statusOf, withEtagRetry } from './keys.js';

const RUN_ROW = 'run';

/** A run's partition (PartitionKey = run id) holds the run row, one row per page and one per shard. */
export class TableRunStore implements RunStore {
  constructor(private readonly table: TableClient) {}

  async create(run: Run): Promise<void> {
    await this.table.createEntity({ partitionKey: run.runId, rowKey: RUN_ROW, ...runColumns(run) });
  }

  async get(runId: string): Promise<Run | undefined> {
    return (await this.getWithEtag(runId))?.run;
  }

  async update(runId: string, change: (current: Run) => Run | undefined): Promise<Run | undefined> {
    return withEtagRetry(async () => {
      const current = await this.getWithEtag(runId);
      if (!current) return undefined;
      const next = change(current.run);
      if (!next) return current.run;
      await this.table.updateEntity({ partitionKey: runId, rowKey: RUN_ROW, ...runColumns(next) }, 'Replace', {
        etag: current.etag,
      });
      return next;
    });
  }

  async lastWrittenAt(runId: string): Promise<Date | undefined> {
    try {
      const entity = await this.table.getEntity(runId, RUN_ROW);
      return entity.timestamp ? new Date(entity.timestamp) : undefined;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async list(filter: { connection?: string; limit: number }): Promise<Run[]> {
    const conditions = [`RowKey eq '${RUN_ROW}'`];
    if (filter.connection) conditions.push(`connection eq ${odata(filter.connection)}`);
    const runs: Run[] = [];
    const query = this.table.listEntities<Record<string, unknown>>({ queryOptions: { filter: conditions.join(' and ') } });
    for await (const entity of query) runs.push(runFrom(entity));
    // Newest first: by start time, then by id (both sort by time).
    return runs.sort((a, b) => (a.startedAt === b.startedAt ? (a.runId < b.runId ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1)).slice(0, filter.limit);
  }

  async putPage(runId: string, page: PageRecord): Promise<PageRecord> {
    const rowKey = pageRow(page.chain ?? MAIN_CHAIN, page.page);
    try {
      await this.table.createEntity({ partitionKey: runId, rowKey, record: JSON.stringify(page) });
      return page;
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
      return (await this.getPage(runId, page.chain ?? MAIN_CHAIN, page.page)) ?? page;
    }
  }

  async getPage(runId: string, chain: string, page: number): Promise<PageRecord | undefined> {
    try {
      const entity = await this.table.getEntity<{ record: string }>(runId, pageRow(chain, page));
      return JSON.parse(entity.record) as PageRecord;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async putShardResult(runId: string, result: ShardResult): Promise<void> {
    await this.table.upsertEntity(
      { partitionKey: runId, rowKey: `shard-${shardLabel(result.shard)}`, record: JSON.stringify(result) },
      'Replace',
    );
  }

  async listShardResults(runId: string): Promise<ShardResult[]> {
    const results: ShardResult[] = [];
    const query = this.table.listEntities<{ record: string }>({
      queryOptions: { filter: `PartitionKey eq ${odata(runId)} and RowKey ge 'shard-' and RowKey lt 'shard.'` },
    });
    for await (const entity of query) results.push(JSON.parse(entity.record) as ShardResult);
    return results;
  }

  private async getWithEtag(runId: string): Promise<{ run: Run; etag: string } | undefined> {
    try {
      const entity = await this.table.getEntity<Record<string, unknown>>(runId, RUN_ROW);
      return { run: runFrom(entity), etag: String(entity.etag) };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }
}

/** The main chain's rows keep the name they had before listings had chains. */
function pageRow(chain: string, page: number): string {
  return `page-${chain === MAIN_CHAIN ? '' : `${chain}-`}${page.toString().padStart(6, '0')}`;
}

/** Scalar columns stay queryable (connection, state); structured ones are JSON. */
function runColumns(run: Run): Record<string, string | number | boolean> {
  const { profile, counts, skipReasons, warnings, error, heldDisables, chains, ...scalars } = run;
  const columns: Record<string, string | number | boolean> = {
    profile: JSON.stringify(profile),
    counts: JSON.stringify(counts),
    skipReasons: JSON.stringify(skipReasons),
    warnings: JSON.stringify(warnings),
  };
  if (error) columns.error = JSON.stringify(error);
  if (heldDisables) columns.heldDisables = JSON.stringify(heldDisables);
  if (chains) columns.chains = JSON.stringify(chains);
  for (const [name, value] of Object.entries(scalars)) if (value !== undefined) columns[name] = value;
  return columns;
}

function runFrom(entity: Record<string, unknown>): Run {
  const text = (name: string) => (typeof entity[name] === 'string' ? (entity[name] as string) : undefined);
  const run: Run = {
    runId: String(entity.partitionKey),
    connection: String(entity.connection),
    directoryKey: String(entity.directoryKey),
    trigger: entity.trigger as Run['trigger'],
    // Runs recorded before their starter was: a scheduled one was the timer's; a manual one's admin is unknown.
    startedBy: text('startedBy') ?? (entity.trigger === 'schedule' ? 'timer' : 'unknown'),
    kind: (entity.kind as Run['kind'] | undefined) ?? 'full',
    dryRun: entity.dryRun === true,
    // The run's own copy: one saved before a rule existed still reads (a URL's credentials removed).
    profile: readStoredProfile(JSON.parse(String(entity.profile))).profile,
    state: entity.state as Run['state'],
    pagesFetched: Number(entity.pagesFetched ?? 0),
    listing: entity.listing as Run['listing'],
    shardsDone: Number(entity.shardsDone ?? 0),
    counts: JSON.parse(String(entity.counts)) as Run['counts'],
    skipReasons: JSON.parse(String(entity.skipReasons ?? '{}')) as Run['skipReasons'],
    unreadableRecords: Number(entity.unreadableRecords ?? 0),
    warnings: JSON.parse(String(entity.warnings ?? '[]')) as string[],
    startedAt: String(entity.startedAt),
  };
  const fromRunId = text('fromRunId');
  if (fromRunId) run.fromRunId = fromRunId;
  const checkpoint = text('checkpoint');
  if (checkpoint) run.checkpoint = checkpoint;
  const nextCheckpoint = text('nextCheckpoint');
  if (nextCheckpoint) run.nextCheckpoint = nextCheckpoint;
  const endedAt = text('endedAt');
  if (endedAt) run.endedAt = endedAt;
  const error = text('error');
  if (error) run.error = JSON.parse(error) as Run['error'];
  const heldDisables = text('heldDisables');
  if (heldDisables) run.heldDisables = JSON.parse(heldDisables) as Run['heldDisables'];
  const chains = text('chains');
  if (chains) run.chains = JSON.parse(chains) as Run['chains'];
  const confirmedAt = text('confirmedAt');
  if (confirmedAt) run.confirmedAt = confirmedAt;
  const confirmedBy = text('confirmedBy');
  if (confirmedBy) run.confirmedBy = confirmedBy;
  const finaliseStartedAt = text('finaliseStartedAt');
  if (finaliseStartedAt) run.finaliseStartedAt = finaliseStartedAt;
  const throttledUntil = text('throttledUntil');
  if (throttledUntil) run.throttledUntil = throttledUntil;
  if (typeof entity.shards === 'number') run.shards = entity.shards;
  return run;
}
