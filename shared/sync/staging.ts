import pLimit from 'p-limit';
import type { FileStore } from '../store/ports.js';
import type { RunState } from './run-model.js';
import type { Decision, SourceEntry } from './model.js';
import type { PlannedDecision } from './decide.js';
import { SHARD_COUNT, bucketOf, shardLabel, shardOf } from './partitioning.js';

/**
 * A run's files in the runs container:
 *   {runId}/input.csv                       the exact bytes a CSV run read (kept for roll-back)
 *   {runId}/input.utf8.csv                  its UTF-8 copy when it was in another encoding (removed at the end)
 *   {runId}/pages/shard-NN/page-NNNNNN.json  a page's entries that belong to shard NN
 *   {runId}/plans/shard-NN.json             what reconciling shard NN decided (made once, then applied)
 */
export const paths = {
  input: (runId: string) => `${runId}/input.csv`,
  utf8Input: (runId: string) => `${runId}/input.utf8.csv`,
  pages: (runId: string) => `${runId}/pages/`,
  shardPages: (runId: string, shard: number) => `${runId}/pages/shard-${shardLabel(shard)}/`,
  page: (runId: string, shard: number, page: number) =>
    `${runId}/pages/shard-${shardLabel(shard)}/page-${page.toString().padStart(6, '0')}.json`,
  plans: (runId: string) => `${runId}/plans/`,
  plan: (runId: string, shard: number) => `${runId}/plans/shard-${shardLabel(shard)}.json`,
};

/** The shard an entry is reconciled in: its key's, or (for a record without one) its reference's. */
export function shardOfEntry(entry: SourceEntry): number {
  return entry.key !== undefined ? shardOf(entry.key) : bucketOf(entry.ref) % SHARD_COUNT;
}

/** Writes a page's entries, one file per shard that has any. Rewriting the same page is harmless. */
export async function stageEntries(files: FileStore, runId: string, page: number, entries: readonly SourceEntry[]): Promise<void> {
  const byShard = new Map<number, SourceEntry[]>();
  for (const entry of entries) {
    const shard = shardOfEntry(entry);
    const list = byShard.get(shard) ?? [];
    list.push(entry);
    byShard.set(shard, list);
  }
  await Promise.all([...byShard].map(([shard, list]) => files.put(paths.page(runId, shard, page), JSON.stringify(list))));
}

export async function readStagedEntries(files: FileStore, runId: string, shard: number): Promise<SourceEntry[]> {
  const names = await files.list(paths.shardPages(runId, shard));
  // A few at a time: a large listing stages hundreds of pages, and several shards read at once.
  const limit = pLimit(8);
  const pages = await Promise.all(names.map((name) => limit(async () => JSON.parse(String(await files.get(name))) as SourceEntry[])));
  return pages.flat();
}

/**
 * Removes what a run no longer needs once it has ended: staged pages (they may hold initial passwords
 * from the source), the UTF-8 copy of the input and the plans — except a dry run's (kept to show) and
 * those of a run waiting for confirmation (applied when an admin confirms).
 */
export async function removeWorkingFiles(files: FileStore, run: { runId: string; dryRun: boolean }, ended: RunState | undefined): Promise<void> {
  await files.deletePrefix(paths.pages(run.runId));
  await files.deletePrefix(paths.utf8Input(run.runId));
  if (!run.dryRun && ended !== 'needs-confirmation') await files.deletePrefix(paths.plans(run.runId));
}

/** What a shard decided, stored once so that a redelivered job applies and counts the same thing. */
export interface ShardPlan {
  shard: number;
  plannedAt: string;
  /** What the shard's job applies (every action but disables). */
  decisions: PlannedDecision[];
  /** Users the source says are inactive or deleted: finalise disables them, unless the guard holds them. */
  sourceDisables: PlannedDecision[];
  /** Users missing from a complete listing: finalise disables them (or not, if the run cannot). */
  pendingDisables: Decision[];
  /** Full runs: users of the shard not disabled before the run, the disable guard's base (see finalise). */
  enabledBefore: number;
  unchanged: number;
  /** Entries with no key: while any exist in a run, no one is disabled. */
  unreadable: number;
  /** Blocked users still in scope: finalise activates them, oldest first, as licences allow. */
  blockedInScope: { key: string; createdAt: string }[];
}
