import type { ConnectionProfile } from '../connections/profile.js';
import type { RunError } from '../errors/app-error.js';
import type { ActionCounts } from './model.js';

/** A run: one pass over one connection profile's directory, from the first page to finalise. */
/**
 * `skipped`: a scheduled run that did not happen (a manual sync replaced the daily one), listed so admins see why.
 * `needs-confirmation`: the run did everything but its disables, which tripped the disable guard; an admin
 * confirms it, or a later run re-evaluates and this one becomes `superseded`.
 * `cancelled`: an admin ended it before finalise began; it disabled no one.
 */
export type RunState =
  | 'listing'
  | 'reconciling'
  | 'finalising'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'needs-confirmation'
  | 'superseded'
  | 'cancelled';
export type RunTrigger = 'schedule' | 'manual';

/** States in which a run holds no slot and no job works on it. */
export const TERMINAL_STATES: readonly RunState[] = ['succeeded', 'failed', 'skipped', 'needs-confirmation', 'superseded', 'cancelled'];

/** The disables a run held back because they tripped the disable guard. */
export interface HeldDisables {
  count: number;
  /** Users of the directory not disabled before the run. */
  enabledBefore: number;
  /** The most the run could disable without confirmation. */
  limit: number;
  /** The first usernames (sorted), so an admin sees who before confirming. */
  usernames: string[];
}

export interface Run {
  runId: string;
  connection: string;
  directoryKey: string;
  trigger: RunTrigger;
  /** Who started it (the actor of its audit records): `timer` for a scheduled run, else the admin who asked. */
  startedBy: string;
  /**
   * `full`: the whole directory is listed, and users missing from it are disabled. `incremental`: only
   * what changed since the profile's checkpoint (a delta link) is read; no one is disabled for absence.
   */
  kind: 'full' | 'incremental';
  /** Incremental runs: where the source resumes (the checkpoint saved by the last successful run). */
  checkpoint?: string;
  /** Where the next incremental run will resume; saved on the profile when this run succeeds. */
  nextCheckpoint?: string;
  dryRun: boolean;
  /** CSV roll-back: re-read the archived input of this earlier run instead of the source. */
  fromRunId?: string;
  /** The profile as it was when the run started: an edit mid-run does not mix two configurations. */
  profile: ConnectionProfile;
  state: RunState;
  /** Pages read so far, every chain's. */
  pagesFetched: number;
  /**
   * The listing's chains (see ListingChain), in the order they start; absent on runs started before
   * listings had chains (their one chain is `main`).
   */
  chains?: Record<string, ListingChain>;
  /**
   * Until when the directory asked the run to slow down (ISO; HTTP 429 and Retry-After, a spent Okta rate
   * limit): no chain reads a page before it (see pipeline/listing-throttle.ts). The latest throttle's, kept after it.
   */
  throttledUntil?: string;
  /** `complete` only after every page of every chain was read: only then may finalise disable anyone. */
  listing: 'in-progress' | 'complete' | 'failed';
  /** The shards it reconciles in, chosen at its start from the directory's size; absent on runs started before: 16. */
  shards?: number;
  shardsDone: number;
  counts: ActionCounts;
  /** Skipped records by reason code (`missing-email`: 3…). */
  skipReasons: Record<string, number>;
  /** Records the source could not attribute to a user: while any exist, no one is disabled. */
  unreadableRecords: number;
  warnings: string[];
  error?: RunError;
  /** Set when the disable guard held this run's disables. */
  heldDisables?: HeldDisables;
  /** When an admin confirmed the held disables, and who (an actor, as `startedBy`). */
  confirmedAt?: string;
  confirmedBy?: string;
  /** When finalise began to act (disable, activate, link): from then on the run ends on its own and cannot be cancelled. */
  finaliseStartedAt?: string;
  startedAt: string;
  endedAt?: string;
}

/**
 * One sequence of page jobs of a run's listing (a directory's users, a share of its groups' members…), read
 * alongside the others. `waiting` until the connection's listingConcurrency lets it start; `failed` when a
 * page of it could not be read (the listing then fails once every chain has ended).
 */
export interface ListingChain {
  state: 'waiting' | 'listing' | 'complete' | 'failed';
  /** Pages of this chain read so far. */
  pages: number;
  error?: RunError;
}

/** The chain of a run whose listing is one sequence (CSV, incremental runs, runs started before chains). */
export const MAIN_CHAIN = 'main';

/** What a page job stored about its page (row `page-NNNNNN`, or `page-{chain}-NNNNNN`, of the run's partition). */
export interface PageRecord {
  /** Absent for the `main` chain. */
  chain?: string;
  page: number;
  entries: number;
  unreadable: number;
  /** The cursor of the following page; absent on the last page. */
  next?: unknown;
  /** A checkpoint the source handed out with this page (see SourcePage). */
  checkpoint?: string;
}

/** What a reconcile job stored about its shard once applied (row `shard-NN`). */
export interface ShardResult {
  shard: number;
  counts: ActionCounts;
  skipReasons: Record<string, number>;
  /** Users absent from the complete listing, left for finalise to disable. */
  pendingDisables: number;
  /** Entries that cannot be tied to a user with certainty (isUnreadable) seen by this shard. */
  unreadable: number;
  /** Those entries by skip reason (absent from shard rows written before it was recorded). */
  unreadableReasons?: Record<string, number>;
  error?: RunError;
}

/** A run's counts as a sentence: `3 created, 0 updated, …`. */
export function summarise(counts: ActionCounts): string {
  return Object.entries(counts)
    .map(([action, count]) => `${count} ${action}`)
    .join(', ');
}

export function isTerminal(state: RunState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** What newRunId makes; anything else names no run (and must not reach a table key). */
export const RUN_ID_PATTERN = /^\d{8}T\d{9}Z-[a-z0-9]{6}$/;

/** Time-sortable to the millisecond and unique: `20261121T235321042Z-3f9a1c`. */
export function newRunId(now: Date, random: string): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${random}`;
}

/** When the run (or admin operation) with this id started; undefined for what newRunId did not make. */
export function runIdTime(runId: string): Date | undefined {
  if (!RUN_ID_PATTERN.test(runId)) return undefined;
  const [, y, mo, d, h, mi, s, ms] = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(runId)!;
  const time = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}
