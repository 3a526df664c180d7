import pLimit from 'p-limit';
import { z } from 'zod';
import { AppError } from '../../errors/app-error.js';
import type { FileStore } from '../ports.js';
import { MAIN_CHAIN, newRunId, type RunState } from '../run-model.js';
import type { Decision, SourceEntry } from '../model.js';
import { decisionSchema, sourceEntrySchema } from '../model-schemas.js';
import { BUCKET_COUNT, MAX_SHARDS, SHARD_COUNT, bucketOf, shardLabel } from '../rules/partitioning.js';

/**
 * A run's files in the runs container (every one of them is deleted once the run is older than
 * USERSYNC_ARCHIVE_DAYS: see expireRunFiles):
 *   {runId}/input.csv                 the exact bytes a CSV run read (removed at the end: it may hold passwords)
 *   {runId}/input.utf8.csv            its UTF-8 copy when it was in another encoding (removed at the end)
 *   {runId}/archive.csv               the input kept for roll-back: UTF-8, the password column's values blank
 *   {runId}/pages/page-NNNNNN.json    a page's entries, one section per bucket (see stageEntries); a chain's
 *                                     other than main: page-{chain}-NNNNNN.json
 *   {runId}/plans/shard-NN.json       what reconciling shard NN decided (made once, then applied)
 */
export const paths = {
  input: (runId: string) => `${runId}/input.csv`,
  utf8Input: (runId: string) => `${runId}/input.utf8.csv`,
  archive: (runId: string) => `${runId}/archive.csv`,
  pages: (runId: string) => `${runId}/pages/`,
  page: (runId: string, page: number, chain = MAIN_CHAIN) =>
    `${runId}/pages/page-${chain === MAIN_CHAIN ? '' : `${chain}-`}${page.toString().padStart(6, '0')}.json`,
  plans: (runId: string) => `${runId}/plans/`,
  plan: (runId: string, shard: number) => `${runId}/plans/shard-${shardLabel(shard)}.json`,
};

/**
 * The metadata of a staged page: where each section starts, and the end (BUCKET_COUNT + 1 byte offsets;
 * pages staged before runs chose their shard count have SHARD_COUNT + 1, a section per shard of 16).
 */
const SECTIONS = 'sections';

/** The bucket an entry is reconciled in (within its shard): its key's, or (for a record without one) its reference's. */
export function bucketOfEntry(entry: SourceEntry): number {
  return bucketOf(entry.key ?? entry.ref);
}

/**
 * Writes a page's entries as one file: bucket by bucket, each section a JSON array, with the sections'
 * byte offsets in the file's metadata. A shard is a contiguous range of buckets whatever the run's shard
 * count, so each shard's job reads only its own bytes, one range. One file per page (not per page and
 * shard) keeps a 100,000-user run at hundreds of files to write, list and delete. Content and metadata
 * are written together, so a page staged twice (a redelivered job) is consistent.
 */
export async function stageEntries(files: FileStore, runId: string, page: number, entries: readonly SourceEntry[], chain = MAIN_CHAIN): Promise<void> {
  const byBucket = Array.from({ length: BUCKET_COUNT }, (): SourceEntry[] => []);
  for (const entry of entries) byBucket[bucketOfEntry(entry)]!.push(entry);
  const sections = byBucket.map((list) => (list.length ? JSON.stringify(list) : ''));
  const offsets = [0];
  for (const section of sections) offsets.push(offsets.at(-1)! + Buffer.byteLength(section));
  await files.put(paths.page(runId, page, chain), sections.join(''), { [SECTIONS]: offsets.join(',') });
}

/** The entries every staged page of the run holds for one shard of `shards`. */
export async function readStagedEntries(files: FileStore, runId: string, shard: number, shards = SHARD_COUNT): Promise<SourceEntry[]> {
  const pages = await files.list(paths.pages(runId));
  // A few at a time: a large listing stages hundreds of pages, and several shards read at once.
  const limit = pLimit(8);
  const sections = await Promise.all(
    pages.map((page) =>
      limit(async () => {
        const offsets = (page.metadata[SECTIONS] ?? '').split(',').map(Number);
        const perShard = (offsets.length - 1) / shards;
        // The shard's sections, and where each ends: one contiguous range of the file.
        const bounds = offsets.slice(shard * perShard, (shard + 1) * perShard + 1);
        const [start, end] = [bounds[0], bounds.at(-1)];
        const known = offsets.length === BUCKET_COUNT + 1 || (offsets.length === SHARD_COUNT + 1 && shards === SHARD_COUNT);
        if (!known || start === undefined || end === undefined || bounds.some((offset, i) => !(offset >= (bounds[i - 1] ?? 0)))) {
          throw new AppError('run-file-invalid', `The staged page ${page.path} has no valid section offsets.`);
        }
        if (end === start) return [];
        const bytes = await files.getRange(page.path, start, end - start);
        // Gone since the listing: only finalise removes staging, once the run has ended (the job then stops).
        if (!bytes) throw new Error(`The staged page ${page.path} disappeared while it was read.`);
        return bounds.slice(1).flatMap((sectionEnd, i) =>
          sectionEnd === bounds[i] ? [] : parseRunFile(stagedSectionSchema, bytes.subarray(bounds[i]! - start, sectionEnd - start), `The staged page ${page.path}`),
        );
      }),
    ),
  );
  return sections.flat();
}

/**
 * The size of what the run's listing staged (each page's last offset is its length), and whether every
 * page has a section per bucket: a page staged before runs chose their shard count has one per shard of
 * 16, so its run can only be reconciled in 16.
 */
export async function stagedListing(files: FileStore, runId: string): Promise<{ bytes: number; bucketed: boolean }> {
  let bytes = 0;
  let bucketed = true;
  for (const page of await files.list(paths.pages(runId))) {
    const offsets = (page.metadata[SECTIONS] ?? '').split(',');
    bytes += Number(offsets.at(-1)) || 0;
    if (offsets.length !== BUCKET_COUNT + 1) bucketed = false;
  }
  return { bytes, bucketed };
}

/**
 * Removes what a run no longer needs once it has ended: the input as read and its UTF-8 copy, staged
 * pages (all may hold initial passwords from the source) and the plans — except a dry run's (kept to
 * show) and those of a run waiting for confirmation (applied when an admin confirms).
 */
export async function removeWorkingFiles(files: FileStore, run: { runId: string; dryRun: boolean }, ended: RunState | undefined): Promise<void> {
  await files.deletePrefix(paths.pages(run.runId));
  await files.deletePrefix(paths.input(run.runId));
  await files.deletePrefix(paths.utf8Input(run.runId));
  if (!run.dryRun && ended !== 'needs-confirmation') await files.deletePrefix(paths.plans(run.runId));
}

const DAY_MS = 24 * 3_600_000;

/** Whether a run started at `startedAt` is older than its files are kept. */
export function runFilesExpired(startedAt: string, now: Date, archiveDays: number): boolean {
  return now.getTime() - Date.parse(startedAt) > archiveDays * DAY_MS;
}

/**
 * Deletes every file of the runs older than `archiveDays` — archived inputs, kept plans, anything a
 * crashed run left — as the runs container's lifecycle rule does in Azure. Run ids start with their
 * start time, so these are the paths that sort before the id a run starting at the cutoff would get.
 */
export async function expireRunFiles(files: FileStore, now: Date, archiveDays: number): Promise<number> {
  return files.deleteBefore(newRunId(new Date(now.getTime() - archiveDays * DAY_MS), ''));
}

/**
 * What a shard decided, stored once so that a redelivered job applies and counts the same thing. Its
 * decisions are stored without the planning-only hints of PlannedDecision (used before the plan is stored).
 */
export interface ShardPlan {
  shard: number;
  plannedAt: string;
  /** What the shard's job applies (every action but disables). */
  decisions: Decision[];
  /** Users the source says are inactive or deleted: finalise disables them, unless the guard holds them. */
  sourceDisables: Decision[];
  /** Users missing from a complete listing: finalise disables them (or not, if the run cannot). */
  pendingDisables: Decision[];
  /** Full runs: users of the shard not disabled before the run, the disable guard's base (see finalise). */
  enabledBefore: number;
  unchanged: number;
  /** Entries that cannot be tied to a user with certainty (isUnreadable): while any exist in a run, no one is disabled. */
  unreadable: number;
  /** Those entries by skip reason, for the run's warning. */
  unreadableReasons: Record<string, number>;
  /** Blocked users still in scope: finalise activates them, oldest first, as licences allow. */
  blockedInScope: { key: string; createdAt: string }[];
}

const count = z.number().int().nonnegative();

/** ShardPlan as stored; test/sync/model-schemas.test.ts keeps the two equal. */
export const shardPlanSchema = z.object({
  shard: z.number().int().min(0).max(MAX_SHARDS - 1),
  plannedAt: z.string(),
  decisions: z.array(decisionSchema),
  sourceDisables: z.array(decisionSchema),
  pendingDisables: z.array(decisionSchema),
  enabledBefore: count,
  unchanged: count,
  unreadable: count,
  unreadableReasons: z.record(z.string(), count),
  blockedInScope: z.array(z.object({ key: z.string(), createdAt: z.string() })),
});

const stagedSectionSchema = z.array(sourceEntrySchema);

/** Stores a shard's plan unless one is stored already (`If-None-Match: *`); false when another was first. */
export async function writePlan(files: FileStore, runId: string, plan: ShardPlan): Promise<boolean> {
  return files.putIfAbsent(paths.plan(runId, plan.shard), JSON.stringify(plan));
}

/** A shard's stored plan, checked; undefined when none is stored. */
export async function readPlan(files: FileStore, runId: string, shard: number): Promise<ShardPlan | undefined> {
  const content = await files.get(paths.plan(runId, shard));
  if (!content) return undefined;
  return parseRunFile(shardPlanSchema, content, `The plan of shard ${shard} stored for run ${runId}`);
}

/**
 * A run's file as the schema says it must be. One that is not (damaged, or written by another version
 * mid-run) fails the job that reads it, so its run disables no one; the next run plans afresh.
 */
function parseRunFile<T>(schema: z.ZodType<T>, content: Buffer, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(String(content));
  } catch {
    throw new AppError('run-file-invalid', `${what} is not valid JSON; start a new run.`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  throw new AppError('run-file-invalid', `${what} is not one this version can read (${where}${issue?.message}); start a new run.`);
}
