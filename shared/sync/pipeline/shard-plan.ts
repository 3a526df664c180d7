import pLimit from 'p-limit';
import { conflictOf, decideEntries, decideInvalid, decideMissing, type DecisionContext, type PlannedDecision } from '../rules/decide.js';
import type { SyncDependencies } from '../dependencies.js';
import { combineEntries } from '../rules/entries.js';
import { grantSeats, seatsWanted } from '../rules/licences.js';
import { LOCAL_DIRECTORY, countedAs, emptyCounts, isUnreadable, type ActionCounts, type Decision, type SourceEntry, type StoredUser } from '../model.js';
import { hashPassword } from '../rules/passwords.js';
import type { ClaimOutcome, UsernameOwner } from '../ports.js';
import { SHARD_COUNT, shardCountFor, shardsOf } from '../rules/partitioning.js';
import type { Run } from '../run-model.js';
import { readPlan, readStagedEntries, stagedListing, writePlan, type ShardPlan } from './staging.js';

/**
 * The run's shard count, chosen once its listing has ended — from what the listing staged, so a shard's
 * memory stays about the same whatever the directory's size, with no estimate asked of the source — and
 * recorded on the run row; every job of the run, and every redelivery, uses the recorded count (the
 * first recorded wins). Undefined when the run is gone.
 */
export async function decideShards(deps: SyncDependencies, runId: string): Promise<number | undefined> {
  const run = await deps.runs.get(runId);
  if (!run) return undefined;
  if (run.shards !== undefined) return run.shards;
  const staged = await stagedListing(deps.runFiles, runId);
  const chosen = staged.bucketed ? shardCountFor(staged.bytes, deps.shardBytes) : SHARD_COUNT;
  const recorded = await deps.runs.update(runId, (current) => (current.shards === undefined ? { ...current, shards: chosen } : undefined));
  deps.log(`run ${runId}: the listing staged ${Math.round(staged.bytes / 1_000_000)} MB, reconciled in ${recorded && shardsOf(recorded)} shards`);
  return recorded && shardsOf(recorded);
}

/**
 * A shard's plan: its staged source entries decided against the stored users of its partitions,
 * with usernames claimed and licences taken. Made once per shard and stored; every delivery of the
 * shard's job applies that same plan.
 */
export async function loadOrMakePlan(deps: SyncDependencies, run: Run, shard: number): Promise<ShardPlan> {
  const existing = await readPlan(deps.runFiles, run.runId, shard);
  if (existing) return existing;
  const plan = await makePlan(deps, run, shard);
  // Two workers planning the same shard at once: the first stored plan is the one both apply.
  if (await writePlan(deps.runFiles, run.runId, plan)) return plan;
  const first = await readPlan(deps.runFiles, run.runId, shard);
  // Gone since the write lost: only the end of the run removes plans (the job then stops).
  if (!first) throw new Error(`The plan of shard ${shard} of run ${run.runId} disappeared while it was read.`);
  return first;
}

async function makePlan(deps: SyncDependencies, run: Run, shard: number): Promise<ShardPlan> {
  const entries = await readStagedEntries(deps.runFiles, run.runId, shard, shardsOf(run));
  const byKey = new Map<string, SourceEntry[]>();
  const unkeyed: Extract<SourceEntry, { kind: 'invalid' }>[] = [];
  const unreadable: Record<string, number> = {};
  for (const entry of entries) {
    if (isUnreadable(entry)) unreadable[entry.reason] = (unreadable[entry.reason] ?? 0) + 1;
    if (entry.key === undefined) {
      if (entry.kind === 'invalid') unkeyed.push(entry);
      continue;
    }
    const list = byKey.get(entry.key) ?? [];
    list.push(entry);
    byKey.set(entry.key, list);
  }

  const stored = await readStoredUsers(deps, run, shard, [...byKey.keys()]);

  const source = deps.sources(run.profile);
  const defaultPasswordSecret = run.profile.type === 'csv' ? run.profile.defaultPasswordSecret : undefined;
  const context: DecisionContext = {
    directoryKey: run.directoryKey,
    connection: run.connection,
    now: deps.clock().toISOString(),
    requiresPassword: source.requiresPassword,
    hasDefaultPassword: Boolean(defaultPasswordSecret && deps.secrets.has(defaultPasswordSecret)),
    keepLocalGroups: run.profile.groups.keepLocalGroups,
  };

  const decisions: PlannedDecision[] = [];
  let unchanged = 0;
  for (const [key, list] of byKey) {
    const combined = combineEntries(list, source.listsUsersRepeatedly, run.profile.groups).map((entry) =>
      entry.kind === 'user' && entry.user.partial ? withStoredRelations(entry, stored.get(key), run) : entry,
    );
    if (!combined.length) {
      byKey.delete(key); // only memberships or a manager: not a user in scope
      continue;
    }
    for (const decision of decideEntries(key, combined, stored.get(key), context)) {
      if (decision.action === 'unchanged') unchanged++;
      else decisions.push(decision);
    }
  }
  for (const entry of unkeyed) decisions.push(decideInvalid(entry));
  presetManagerLinks(decisions);

  const pendingDisables: Decision[] = [];
  // Only a full listing says who is missing; an incremental run disables only users it is told about.
  if (run.listing === 'complete' && run.kind === 'full') {
    for (const user of stored.values()) {
      if (byKey.has(user.key)) continue;
      const decision = decideMissing(user, context);
      if (decision.action === 'disable') pendingDisables.push(decision);
    }
  }

  const claimed = await grantLicences(deps, { operationId: `${run.runId}:shard-${shard}`, dryRun: run.dryRun }, await claimUsernames(deps, run, decisions, stored));
  await setInitialPasswords(claimed, byKey, defaultPasswordSecret ? () => deps.secrets.resolve(defaultPasswordSecret) : undefined);
  // Disables the source asked for wait for finalise too: the disable guard weighs every disable of the run at once.
  const sourceDisables = claimed.filter((decision) => decision.action === 'disable');
  const leaving = new Set(sourceDisables.map((decision) => decision.key));
  const blockedInScope = [...byKey.keys()]
    .map((key) => stored.get(key))
    .filter((user): user is StoredUser => user?.status === 'blocked' && !leaving.has(user.key))
    .map((user) => ({ key: user.key, createdAt: user.createdAt }));
  let enabledBefore = 0;
  for (const user of stored.values()) if (user.status !== 'disabled') enabledBefore++;
  return {
    shard,
    plannedAt: context.now,
    decisions: claimed.filter((decision) => decision.action !== 'disable'),
    sourceDisables,
    pendingDisables,
    unchanged,
    unreadable: Object.values(unreadable).reduce((sum, count) => sum + count, 0),
    unreadableReasons: unreadable,
    blockedInScope,
    enabledBefore,
  };
}

/**
 * Finalise resolves every manager link across the directory and writes the links that differ from the
 * stored ones. A new user written without a link would be written twice by a first sync (its row, then
 * its link): so a new user with a manager gets the usual answer now — the manager reference is
 * the manager's key (Entra ids; CSV usernames used as keys). Finalise still corrects or clears any link
 * that does not resolve, so the end state is the same.
 */
function presetManagerLinks(decisions: PlannedDecision[]): void {
  for (const decision of decisions) {
    if (decision.action !== 'create') continue;
    const { user } = decision;
    const reference = user.manager?.trim();
    if (reference && user.managerKey === undefined && reference !== user.key) user.managerKey = reference;
  }
}

/** Up to this many keys, point reads cost Azurite less than a range query over the shard (~6,000 rows). */
const POINT_READS_PER_SHARD = 256;

/**
 * The stored users the plan needs. A full run needs every user of the shard's partitions (to find those
 * missing from the listing): one range query. An incremental run only needs the users it was told
 * about, typically a handful: point reads, so a 1% delta does not scan the whole directory.
 */
async function readStoredUsers(deps: SyncDependencies, run: Run, shard: number, keys: readonly string[]): Promise<Map<string, StoredUser>> {
  const stored = new Map<string, StoredUser>();
  if (run.kind === 'full' || keys.length > POINT_READS_PER_SHARD) {
    for (const user of await deps.users.listShard(run.directoryKey, shard, shardsOf(run))) stored.set(user.key, user);
    return stored;
  }
  const reads = pLimit(8);
  const users = await Promise.all(keys.map((key) => reads(() => deps.users.get(run.directoryKey, key))));
  for (const user of users) if (user) stored.set(user.key, user);
  return stored;
}

/** An incremental entry completed with what only a full run reads: the stored groups and manager. */
function withStoredRelations(entry: Extract<SourceEntry, { kind: 'user' }>, stored: StoredUser | undefined, run: Run): SourceEntry {
  const { partial: _partial, ...user } = entry.user;
  if (stored?.manager) user.manager = stored.manager;
  if (run.profile.groups.mode !== 'off' && stored?.groups) user.groups = stored.groups;
  return { ...entry, user };
}

/**
 * Takes a licence for each user about to become active (once per `operationId`); those the limit leaves
 * without one are still created (or re-enabled) but blocked. A dry run only looks at what is free.
 */
export async function grantLicences(deps: SyncDependencies, request: { operationId: string; dryRun: boolean }, decisions: PlannedDecision[]): Promise<PlannedDecision[]> {
  const wanted = seatsWanted(decisions);
  if (wanted === 0) return decisions;
  const { licences } = deps;
  const granted = request.dryRun
    ? licences.limit === undefined
      ? wanted
      : Math.max(0, Math.min(wanted, licences.limit - (await licences.used())))
    : await licences.take(request.operationId, wanted);
  return grantSeats(decisions, granted);
}

/**
 * Claims the username of every user about to get one (new, or renamed): an atomic insert, so of two
 * directories racing for a name exactly one wins; the other's user becomes a conflict.
 */
export async function claimUsernames(
  deps: SyncDependencies,
  run: Pick<Run, 'directoryKey' | 'connection' | 'dryRun'>,
  decisions: PlannedDecision[],
  stored: Map<string, StoredUser>,
): Promise<PlannedDecision[]> {
  const claiming: { index: number; decision: Extract<PlannedDecision, { user: StoredUser }>; username: string; owner: UsernameOwner; previous: string | undefined }[] = [];
  decisions.forEach((decision, index) => {
    if (decision.action !== 'create' && decision.action !== 'update' && decision.action !== 're-enable') return;
    const previous = stored.get(decision.key)?.username;
    if (previous !== undefined && previous.toLowerCase() === decision.user.username.toLowerCase()) return;
    const owner = { directoryKey: run.directoryKey, key: decision.key, connection: run.connection };
    claiming.push({ index, decision, username: decision.user.username, owner, previous });
  });
  if (!claiming.length) return decisions;
  // A dry run changes nothing, not even a claim: it only looks at who holds the name.
  const limit = pLimit(8);
  const outcomes: ClaimOutcome[] = run.dryRun
    ? await Promise.all(
        claiming.map((claim) =>
          limit(async (): Promise<ClaimOutcome> => {
            const holder = await deps.usernames.find(claim.username);
            return holder && (holder.directoryKey !== claim.owner.directoryKey || holder.key !== claim.owner.key) ? { won: false, owner: holder } : { won: true };
          }),
        ),
      )
    : // One call for the shard: the store batches the inserts (a first sync claims every name).
      await deps.usernames.claimMany(claiming.map(({ username, owner: claimant }) => ({ username, owner: claimant })));
  const result = [...decisions];
  claiming.forEach((claim, i) => {
    const { decision } = claim;
    const outcome = outcomes[i]!;
    if (!outcome.won) {
      result[claim.index] = conflictOf(decision, { connection: outcome.owner.connection, local: outcome.owner.directoryKey === LOCAL_DIRECTORY }, run.connection);
    } else if (claim.previous !== undefined) {
      result[claim.index] = { ...decision, previousUsername: claim.previous };
    }
  });
  return result;
}

/** Hashes the initial password of each account to create: the row's own, else the profile's default (hashed once). */
async function setInitialPasswords(
  decisions: PlannedDecision[],
  byKey: Map<string, SourceEntry[]>,
  defaultPassword: (() => string) | undefined,
): Promise<void> {
  let defaultHash: Promise<string> | undefined;
  const limit = pLimit(4);
  await Promise.all(
    decisions.map((decision) =>
      limit(async () => {
        if (decision.action !== 'create' || !('initialPassword' in decision) || !decision.initialPassword) return;
        const [entry] = byKey.get(decision.key) ?? [];
        const rowPassword = entry?.kind === 'user' ? entry.user.password : undefined;
        if (decision.initialPassword === 'row' && rowPassword) {
          decision.user.passwordHash = await hashPassword(rowPassword);
        } else if (defaultPassword) {
          defaultHash ??= hashPassword(defaultPassword());
          decision.user.passwordHash = await defaultHash;
        }
      }),
    ),
  );
}

export function countSkipReasons(plan: ShardPlan): Record<string, number> {
  const reasons: Record<string, number> = {};
  for (const decision of plan.decisions) if (decision.action === 'skip') reasons[decision.reason] = (reasons[decision.reason] ?? 0) + 1;
  return reasons;
}

export function countPlan(plan: ShardPlan): ActionCounts {
  const counts = emptyCounts();
  counts.unchanged = plan.unchanged;
  for (const decision of plan.decisions) counts[countedAs(decision)]++;
  return counts;
}
